"""Parsers on crafted hostile files (issue 17, parser side): zip and deflate bombs are refused before they
inflate, XML entity declarations are refused, damaged UTF-8 is read with a warning, reasons are Korean
sentences for people (the library's words go to the log), and long or looping PDFs stop."""

from __future__ import annotations

import logging
import random
import zipfile
import zlib
from pathlib import Path

import pytest
from hostile import files as hostile  # tests/ is on sys.path (tests/conftest.py)

from assistant.errors import ParseError
from assistant.ingest import pdf
from assistant.ingest.archive import GuardedZip, TooLarge, ZipLimits, check_zip, inflate
from assistant.ingest.base import parse_file
from assistant.ingest.encoding import bad_utf8_bytes, decode_document, mostly_utf8

pytestmark = pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")   # html.py filters it too

BOMB = "zip 폭탄 의심"
LIBRARY_WORDS = ("Error", "Exception", "KeyError", "Traceback", "BadZipFile", "lxml", "pypdf", "line 1")


def _refused(path: Path) -> str:
    with pytest.raises(ParseError) as err:
        parse_file(path)
    reason = err.value.reason
    assert not any(word in reason for word in LIBRARY_WORDS), reason
    return reason


def _spy_inflation(monkeypatch) -> list[int]:
    """The size of every piece any zlib decompressor object hands out from now on."""
    steps: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, *args) -> None:
            self._inner = real(*args)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._inner.decompress(data, max_length)
            steps.append(len(out))
            return out

        def __getattr__(self, name: str):
            return getattr(self._inner, name)

    monkeypatch.setattr(zlib, "decompressobj", Spy)
    return steps


# --- zip containers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("maker", [hostile.docx_bomb_full, hostile.hwpx_bomb])   # docx_bomb: same path, slower to make
def test_zip_bomb_is_refused_from_its_directory(tmp_path: Path, maker, monkeypatch) -> None:
    path = maker(tmp_path)
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    reason = _refused(path)
    assert BOMB in reason and "항목당 한도 200MB" in reason and "1,02" in reason
    assert not any(name.endswith(("document.xml", "section0.xml")) for name in opened)  # never inflated


def test_zip_of_too_many_members_is_refused(tmp_path: Path) -> None:
    reason = _refused(hostile.zip_many_members(tmp_path))
    assert "항목이 너무 많습니다 (20,002개, 한도 10,000개)" in reason


def test_compression_ratio_limit(tmp_path: Path) -> None:
    path = hostile._raw_zip(tmp_path / "ratio.hwpx", hostile._hwpx_members(b"<a/>" * 1_000_000))  # 4 MB, ~1000:1
    with pytest.raises(TooLarge) as err:
        check_zip(path)
    assert "압축률 한도 200:1" in err.value.reason
    assert check_zip(path, ZipLimits(ratio=2000))   # the same file within a looser limit


def test_guarded_read_stops_at_a_lying_directory(tmp_path: Path, monkeypatch) -> None:
    """The directory says 4 KB, the data inflates to 100 MB: reading stops at 4 KB (a CRC failure), and no
    single inflate step produced more than a small chunk."""
    path = hostile.zip_lying_size(tmp_path)
    steps = _spy_inflation(monkeypatch)
    with GuardedZip(path) as zf, pytest.raises(zipfile.BadZipFile):
        zf.read("Contents/section0.xml")
    assert sum(steps) <= 64 * 1024   # (zipfile.ZipFile.read inflates all 100 MB before cutting)
    monkeypatch.undo()
    reason = _refused(path)
    assert "HWPX" in reason and "다시 저장" in reason


def test_guarded_read_counts_against_the_total(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.xml", "<a>" + "민원 " * 2000 + "</a>")
        zf.writestr("b.xml", "<b>" + "처리 " * 2000 + "</b>")
    with GuardedZip(path, ZipLimits(total_bytes=20_000)) as zf:
        assert zf.read("a.xml").startswith(b"<a>")
        with pytest.raises(TooLarge):
            zf.read("b.xml")
        assert zf.read_bytes <= 20_000


def test_docx_with_lying_directory_is_checked_before_python_docx_reads_it(tmp_path: Path) -> None:
    members = hostile._docx_members(b"<w:p/>" * 2_000_000, declared=4096)   # 12 MB said to be 4 KB
    path = hostile._raw_zip(tmp_path / "lying.docx", members)
    reason = _refused(path)
    assert reason.startswith("Word(DOCX) 파일이 손상되어")


def test_docx_style_names_from_the_table_match_python_docx(tmp_path: Path) -> None:
    import docx

    from assistant.ingest.docx import StyleNames

    doc = docx.Document()
    doc.add_paragraph("표제", style="Title")
    doc.add_heading("제1장", level=1)
    doc.add_heading("제1절", level=2)
    doc.add_paragraph("목록", style="List Bullet")
    doc.add_paragraph("본문")
    odd = doc.add_paragraph("문자 스타일 id")
    odd._p.get_or_add_pPr().style = "DefaultParagraphFont"   # a character style's id: falls back to default
    missing = doc.add_paragraph("없는 스타일")
    missing._p.get_or_add_pPr().style = "NoSuchStyle"
    path = tmp_path / "styles.docx"
    doc.save(str(path))
    reopened = docx.Document(str(path))
    names = StyleNames(reopened)
    assert [names.of(p) for p in reopened.paragraphs] == [p.style.name for p in reopened.paragraphs]


# --- deflate streams (HWP 5) ------------------------------------------------------------------------

def test_hwp_bomb_is_refused_without_holding_its_output(tmp_path: Path, monkeypatch) -> None:
    path = hostile.hwp_bomb(tmp_path)
    steps = _spy_inflation(monkeypatch)
    reason = _refused(path)
    assert BOMB in reason and "200MB를 넘게 풀립니다" in reason
    assert max(steps) <= 4 << 20 and sum(steps) <= (200 << 20) + 1   # 4 MB steps, stopped at the limit


def test_inflate_limits_and_truncated_streams() -> None:
    zeros = zlib.compress(b"\0" * (20 << 20))
    with pytest.raises(TooLarge):
        inflate(zeros, 15, Path("x.hwp"), "BodyText", 1 << 30)       # 20 MB at ~1000:1
    text = "민원 처리기간 안내 ".encode("utf-16-le") * 50
    packed = zlib.compress(text)
    assert inflate(packed, 15, Path("x.hwp"), "BodyText", 1 << 30) == text
    with pytest.raises(TooLarge):
        inflate(packed, 15, Path("x.hwp"), "BodyText", 100)        # the caller's limit
    with pytest.raises(zlib.error):
        inflate(packed[:-20], 15, Path("x.hwp"), "BodyText", 1 << 30)
    assert text.startswith(inflate(packed[:-20], 15, Path("x.hwp"), "BodyText", 1 << 30, partial_ok=True))


def test_hwp_minimal_file_reads_and_a_damaged_section_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = hostile.hwp_document(tmp_path / "안내.hwp", [["민원 처리 안내", "제1조(목적) 처리기간을 정한다."],
                                                      ["둘째 구역입니다."]])
    doc = parse_file(path)
    assert [b.text for b in doc.blocks][-1] == "둘째 구역입니다." and "warnings" not in doc.metadata

    import olefile

    with olefile.OleFileIO(str(path), write_mode=True) as ole:   # same size, garbage instead of deflate
        size = ole.get_size("BodyText/Section1")
        ole.write_stream("BodyText/Section1", b"\xff" * size)
    doc = parse_file(path)
    assert "둘째 구역입니다." not in [b.text for b in doc.blocks]
    assert doc.metadata["warnings"] == ["손상된 본문 구역 1개를 읽지 못하고 건너뛰었습니다."]


# --- XML entities -----------------------------------------------------------------------------------

@pytest.mark.parametrize("maker", [hostile.docx_entity_bomb, hostile.hwpx_entity_bomb])
def test_entity_declarations_in_document_xml_are_refused(tmp_path: Path, maker) -> None:
    reason = _refused(maker(tmp_path))
    assert "문서형 선언(DOCTYPE·ENTITY)" in reason


def test_html_entity_bomb_is_not_expanded(tmp_path: Path) -> None:
    doc = parse_file(hostile.entity_bomb(tmp_path))
    text = "\n".join(b.text for b in doc.blocks)
    assert "민원 처리기간은 7일입니다." in text and len(text) < 1000


def test_deeply_nested_xml_gets_a_reason(tmp_path: Path) -> None:
    assert "깊게 겹쳐" in _refused(hostile.hwpx_deep_nesting(tmp_path))


# --- text encodings ---------------------------------------------------------------------------------

def test_utf8_with_a_few_bad_bytes_is_read_with_a_warning(tmp_path: Path) -> None:
    doc = parse_file(hostile.bad_byte_utf8(tmp_path))
    text = "".join(b.text for b in doc.blocks)
    assert doc.metadata["encoding"] == "utf-8" and "\ufffd" in text and "민원 처리기간은" in text
    assert doc.metadata["warnings"] == ["UTF-8로 읽을 수 없는 바이트 4개를 대체 문자(\ufffd)로 바꿔 읽었습니다. "
                                        "원본 파일 일부가 손상되었을 수 있습니다."]


def test_html_carries_the_warning_too(tmp_path: Path) -> None:
    data = bytearray(("<html><body>" + "<p>민원 처리기간은 7일입니다.</p>" * 300 + "</body></html>").encode())
    data[500] ^= 0x40
    path = tmp_path / "안내.html"
    path.write_bytes(bytes(data))
    assert parse_file(path).metadata["warnings"][0].startswith("UTF-8로 읽을 수 없는 바이트")


def test_a_short_file_with_one_flipped_bit_is_read() -> None:
    data = bytearray("민원 처리기간 안내입니다.\n".encode() * 30)    # ~1 KB: 0.1 % is one byte
    data[100] ^= 0x40
    decoded = decode_document(bytes(data), "x.md")
    assert decoded.encoding == "utf-8" and decoded.text.count("\ufffd") >= 1 and len(decoded.warnings) == 1


def test_too_many_bad_bytes_is_still_refused() -> None:
    data = bytearray("민원 처리기간 안내입니다. ".encode() * 100)
    for i in range(0, len(data), 300):
        data[i] = 0xFF
    assert mostly_utf8(bytes(data)) is None
    with pytest.raises(ParseError):
        decode_document(bytes(data), "x.txt")


def test_cp949_with_little_korean_is_not_taken_for_damaged_utf8() -> None:
    data = ("Meeting notes, room 301. " * 400 + "담당: 총무과").encode("cp949")
    assert mostly_utf8(data) is None
    decoded = decode_document(data, "x.txt")
    assert decoded.encoding == "cp949" and decoded.text.endswith("담당: 총무과") and not decoded.warnings


@pytest.mark.parametrize("encoding", ["utf-8", "cp949"])
def test_a_character_cut_off_at_the_end_is_dropped_with_a_warning(encoding: str) -> None:
    data = ("민원 처리기간 안내입니다. " * 20).encode(encoding)[:-3]   # ". " and a byte of "다"; 0.1 % < 1 byte
    decoded = decode_document(data, "x.txt")
    assert decoded.encoding == encoding and decoded.text.endswith("안내입니")
    assert decoded.warnings == ("파일 끝에서 잘린 글자 하나를 버렸습니다. "
                                "파일이 중간에 잘렸을 수 있으니 원본을 확인하세요.",)


def test_bad_byte_count_matches_the_decoder() -> None:
    rng = random.Random(7)
    base = "민원 � 처리 ABC 가나다 ".encode() * 20
    for _ in range(300):
        data = bytearray(base)
        for _ in range(rng.randint(0, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
        bad = 0
        pos = 0
        while pos < len(data):
            try:
                data[pos:].decode("utf-8")
                break
            except UnicodeDecodeError as exc:
                bad += exc.end - exc.start
                pos += exc.end
        assert bad_utf8_bytes(data, data.decode("utf-8", "replace")) == bad


# --- reasons for people -----------------------------------------------------------------------------

def test_library_failures_read_as_korean_sentences_and_the_exception_is_logged(tmp_path: Path, caplog) -> None:
    broken = tmp_path / "깨진.docx"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("[Content_Types].xml", hostile._DOCX_TYPES)
        zf.writestr("_rels/.rels", hostile._DOCX_RELS)
        zf.writestr("word/document.xml", b"<w:document><unclosed>")
    with caplog.at_level(logging.WARNING, logger="assistant.ingest.base"):
        reason = _refused(broken)
    assert reason == ("Word(DOCX) 파일이 손상되어 내용을 읽을 수 없습니다. "
                      "Word에서 열어 .docx로 다시 저장한 뒤 올려 주세요.")
    assert "XMLSyntaxError" in caplog.text and "깨진.docx" in caplog.text


def test_hwpx_with_broken_section_xml(tmp_path: Path, caplog) -> None:
    path = hostile._raw_zip(tmp_path / "깨진.hwpx", hostile._hwpx_members(b"<hs:sec><hp:p>"))
    with caplog.at_level(logging.WARNING):
        reason = _refused(path)
    assert reason.startswith("HWPX 본문 XML이 손상되어") and "no element found" not in reason
    assert "no element found" in caplog.text or "unbound prefix" in caplog.text


# --- PDF --------------------------------------------------------------------------------------------

def test_pdf_reads_at_most_max_pages_with_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(pdf, "MAX_PAGES", 5)
    doc = parse_file(hostile.pdf_many_pages(tmp_path))
    assert {b.page for b in doc.blocks} == {1, 2, 3, 4, 5}
    assert doc.metadata["page_count"] == "50000"
    assert doc.metadata["warnings"] == ["쪽이 50,000쪽으로 한 파일의 한도(5쪽)를 넘어 앞 5쪽만 읽었습니다. "
                                        "나머지가 필요하면 파일을 나누어 올려 주세요."]


def test_pdf_page_tree_cycle_gets_a_clear_reason(tmp_path: Path) -> None:
    assert "순환" in _refused(hostile.pdf_page_loop(tmp_path))


def test_pdf_xref_loop_ends_with_a_reason(tmp_path: Path) -> None:
    assert "PDF" in _refused(hostile.xref_loop_pdf(tmp_path))
