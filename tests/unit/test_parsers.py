"""Parsers on real files built in tmp_path (and on the shared corpus when it is present)."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest

from assistant.errors import ParseError, UnsupportedFormat
from assistant.ingest.base import parse_file, supported_extensions
from assistant.types import ParsedDocument

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def _articles(doc: ParsedDocument) -> dict[str, str]:
    return {b.article: b.text for b in doc.blocks if b.kind == "article" and b.article}


def _kinds(doc: ParsedDocument) -> list[str]:
    return [b.kind for b in doc.blocks]


def test_every_builtin_format_is_registered() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".hwpx", ".hwp"} <= set(
        supported_extensions())


# --- DOCX ---------------------------------------------------------------------------------------

def _make_docx(path: Path) -> Path:
    import docx

    doc = docx.Document()
    doc.core_properties.title = ""
    doc.add_heading("청사 관리 규정", level=1)
    doc.add_paragraph("이 규정은 청사 방문 민원인의 편의를 위한 사항을 정한다.")
    table = doc.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "구분", (0, 1): "처리기간", (1, 0): "정보공개", (1, 1): "10일"}.items():
        table.cell(r, c).text = text
    doc.add_heading("세부 기준", level=2)
    doc.add_paragraph("제3조(처리기간) 민원은 접수한 날부터 7일 이내에 처리한다.")
    doc.add_paragraph("② 부득이한 경우 한 차례 연장할 수 있다.")
    doc.add_paragraph("담당 부서는 총무과이다.")
    doc.save(str(path))
    return path


def test_docx_headings_table_and_article_in_document_order(tmp_path: Path) -> None:
    doc = parse_file(_make_docx(tmp_path / "규정.docx"))
    assert doc.doc_type == "docx" and doc.title == "청사 관리 규정"
    assert _kinds(doc) == ["paragraph", "table", "article", "paragraph"]
    para, table, article, tail = doc.blocks
    assert para.text.startswith("이 규정은 청사 방문") and para.heading_path == ("청사 관리 규정",)
    assert table.text == "구분 | 처리기간\n정보공개 | 10일"
    assert article.article == "제3조" and article.heading_path == ("청사 관리 규정", "세부 기준")
    assert article.text == ("제3조(처리기간) 민원은 접수한 날부터 7일 이내에 처리한다.\n"
                            "② 부득이한 경우 한 차례 연장할 수 있다.")
    assert tail.text == "담당 부서는 총무과이다." and tail.article is None


def test_docx_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "가짜.docx"
    path.write_bytes(b"this is plain text, not a Word file")
    with pytest.raises(ParseError, match="DOCX") as err:
        parse_file(path)
    assert "가짜.docx" in str(err.value)


# --- PDF ----------------------------------------------------------------------------------------

def _pdf(path: Path, pages: list[list[str]], password: str | None = None, title: str = "") -> Path:
    if not NANUM.is_file():
        pytest.fail(f"Korean font missing at {NANUM}: install Debian fonts-nanum (make system-deps)")
    from reportlab.lib import pdfencrypt
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("NanumGothic", str(NANUM)))
    encrypt = pdfencrypt.StandardEncryption(password) if password else None
    pdf = canvas.Canvas(str(path), encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        pdf.setFont("NanumGothic", 12)
        for i, line in enumerate(lines):
            pdf.drawString(72, 760 - 20 * i, line)
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_two_pages_keep_page_numbers_and_korean_text(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "안내문.pdf", [["민원 처리 기간은 7일입니다.", "방문 전 예약하세요."],
                                        ["정보공개 청구는 온라인으로 합니다."]], title="민원 안내")
    doc = parse_file(path)
    assert doc.title == "민원 안내" and doc.metadata["page_count"] == "2"
    assert [b.page for b in doc.blocks] == [1, 2]
    assert "민원 처리 기간은 7일입니다." in doc.blocks[0].text and "방문 전 예약하세요." in doc.blocks[0].text
    assert doc.blocks[1].text == "정보공개 청구는 온라인으로 합니다."


def test_a_pdf_page_whose_content_stream_is_damaged_is_skipped_with_a_warning(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject, StreamObject

    good = _pdf(tmp_path / "원본.pdf", [["민원 처리 기간은 7일입니다."], ["둘째 쪽은 손상됩니다."],
                                       ["이의신청은 30일 이내에 합니다."]])
    writer = PdfWriter()
    for page in PdfReader(good).pages:
        writer.add_page(page)
    broken = StreamObject()      # a compressed stream whose bytes are not deflate data
    broken[NameObject("/Filter")] = NameObject("/FlateDecode")
    broken._data = b"\x78\x9c not deflate data " * 4
    writer.pages[1][NameObject("/Contents")] = writer._add_object(broken)
    path = tmp_path / "손상된쪽.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    doc = parse_file(path)
    assert [b.page for b in doc.blocks] == [1, 3]
    assert "30일 이내" in doc.blocks[1].text
    assert doc.metadata["warnings"] == ["손상된 쪽 1개(2쪽)의 텍스트를 읽지 못하고 건너뛰었습니다."]


def test_pdf_without_title_metadata_uses_file_stem(tmp_path: Path) -> None:
    doc = parse_file(_pdf(tmp_path / "회의록.pdf", [["회의 결과를 알립니다."]]))
    assert doc.title == "회의록"


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "비밀.pdf", [["대외비 문서입니다."]], password="s3cret")
    with pytest.raises(ParseError, match="암호") as err:
        parse_file(path)
    assert "비밀.pdf" in str(err.value)


def test_truncated_pdf_is_refused(tmp_path: Path) -> None:
    good = _pdf(tmp_path / "원본.pdf", [["민원 처리 기간은 7일입니다."]])
    bad = tmp_path / "잘린.pdf"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ParseError, match="손상") as err:
        parse_file(bad)
    assert "잘린.pdf" in str(err.value)


def test_pdf_without_text_asks_for_ocr(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "스캔.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 300, 400, fill=1)  # an image-like page: drawing, no text
    pdf.showPage()
    pdf.save()
    with pytest.raises(ParseError, match="OCR"):
        parse_file(path)


# --- HWPX / HWP ---------------------------------------------------------------------------------

def _make_hwpx(path: Path) -> Path:
    from hwpx import HwpxDocument

    doc = HwpxDocument.new()
    doc.add_paragraph("민원 처리 지침")
    doc.add_paragraph("제1장 총칙")
    doc.add_paragraph("제1조(목적) 이 지침은 민원을 신속하게 처리하기 위하여 필요한 사항을 정한다.")
    doc.add_paragraph("① 담당자는 친절하게 안내하여야 한다.")
    doc.add_paragraph("처리 결과는 문자로 알린다.\n문의는 민원실로 한다.")
    table = doc.add_table(2, 2)
    for (r, c), text in {(0, 0): "구분", (0, 1): "기간", (1, 0): "고충민원", (1, 1): "7일"}.items():
        table.cell(r, c).text = text
    doc.add_paragraph("제2조(처리기간) 민원은 7일 이내에 처리한다.")
    doc.save_to_path(str(path))
    return path


def test_hwpx_paragraphs_articles_and_table(tmp_path: Path) -> None:
    doc = parse_file(_make_hwpx(tmp_path / "지침.hwpx"))
    assert doc.doc_type == "hwpx" and doc.title == "민원 처리 지침"
    arts = _articles(doc)
    assert arts["제1조"] == ("제1조(목적) 이 지침은 민원을 신속하게 처리하기 위하여 필요한 사항을 정한다.\n"
                            "① 담당자는 친절하게 안내하여야 한다.")
    assert arts["제2조"] == "제2조(처리기간) 민원은 7일 이내에 처리한다."
    texts = [b.text for b in doc.blocks]
    # text after a line break inside one 한글 paragraph is kept (the library alone drops it)
    assert "처리 결과는 문자로 알린다." in texts and "문의는 민원실로 한다." in texts
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert [t.text for t in tables] == ["구분 | 기간\n고충민원 | 7일"]
    assert sum("고충민원" in t for t in texts) == 1  # table text is not duplicated
    assert all(b.heading_path == ("제1장 총칙",) for b in doc.blocks if b.text != "민원 처리 지침")


def test_random_bytes_named_hwp_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "공문.hwp"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ParseError, match="HWP 5 형식이 아닙니다") as err:
        parse_file(path)
    assert "공문.hwp" in str(err.value)


def test_hwpx_content_named_hwp_gets_a_specific_reason(tmp_path: Path) -> None:
    path = tmp_path / "보고.hwp"
    path.write_bytes(_make_hwpx(tmp_path / "보고.hwpx").read_bytes())
    with pytest.raises(ParseError, match=r"\.hwpx"):
        parse_file(path)


def test_random_bytes_named_hwpx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "문서.hwpx"
    path.write_bytes(os.urandom(2048))
    with pytest.raises(ParseError, match="HWPX"):
        parse_file(path)


# --- text encodings, NFC, statute text ------------------------------------------------------------

def test_cp949_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "공지.txt"
    path.write_bytes("청사 주차장 이용 안내\n\n평일 09시부터 18시까지 개방합니다.".encode("cp949"))
    doc = parse_file(path)
    assert doc.metadata["encoding"] == "cp949"
    assert [b.text for b in doc.blocks] == ["청사 주차장 이용 안내", "평일 09시부터 18시까지 개방합니다."]
    assert doc.title == "청사 주차장 이용 안내"


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "utf16.txt"
    path.write_bytes("민원실 운영 시간 변경".encode("utf-16"))
    assert parse_file(path).blocks[0].text == "민원실 운영 시간 변경"


def test_nfd_text_comes_out_nfc(tmp_path: Path) -> None:
    expected = "행정안전부 민원 처리 지침입니다."
    path = tmp_path / unicodedata.normalize("NFD", "맥에서_저장.txt")
    path.write_text(unicodedata.normalize("NFD", expected), encoding="utf-8")
    doc = parse_file(path)
    text = doc.blocks[0].text
    assert unicodedata.is_normalized("NFC", text) and text == expected
    assert unicodedata.is_normalized("NFC", doc.source)


def test_random_bytes_txt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "깨진.txt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ParseError, match="텍스트") as err:
        parse_file(path)
    assert "깨진.txt" in str(err.value)


def test_statute_text_articles_and_divisions(tmp_path: Path) -> None:
    path = tmp_path / "규정.txt"
    path.write_text(
        "민원 처리 규정\n\n제1장 총칙\n\n제1조(목적) 이 규정은 민원 처리에 필요한 사항을 정한다.\n\n"
        "제2장 민원의 처리\n제1절 접수\n제8조의2(전자 제출) ① 서류는 전자적으로 낼 수 있다.\n"
        "② 세부 사항은 따로 정한다.\n\n제10조(서류 요구의 금지) 추가 서류를 요구할 수 없다.\n\n"
        "부칙\n\n제1조(시행일) 이 규정은 공포한 날부터 시행한다.\n", encoding="utf-8")
    doc = parse_file(path)
    arts = {b.article: b for b in doc.blocks if b.kind == "article"}
    assert list(arts) == ["제1조", "제8조의2", "제10조"]
    assert arts["제1조"].heading_path == ("제1장 총칙",)
    assert arts["제8조의2"].heading_path == ("제2장 민원의 처리", "제1절 접수")
    assert arts["제8조의2"].text == "제8조의2(전자 제출) ① 서류는 전자적으로 낼 수 있다.\n② 세부 사항은 따로 정한다."
    supplement = doc.blocks[-1]
    assert supplement.kind == "paragraph" and supplement.heading_path == ("부칙",)
    assert doc.title == "민원 처리 규정"


# --- HTML ---------------------------------------------------------------------------------------

def test_euc_kr_html_with_meta_charset(tmp_path: Path) -> None:
    html = """<html><head><meta charset="euc-kr"><title>민원 안내</title>
    <script>var x = "스크립트";</script><style>p {color: red}</style></head>
    <body><nav>메뉴 홈 로그인</nav><h1>민원 안내</h1><p>민원은 <b>방문</b> 또는 온라인으로 신청합니다.</p>
    <h2>처리 기간</h2><ul><li>일반 민원: 7일</li><li>고충 민원: 14일</li></ul>
    <table><tr><th>구분</th><th>기간</th></tr><tr><td>정보공개</td><td>10일</td></tr></table>
    </body></html>"""
    path = tmp_path / "안내.html"
    path.write_bytes(html.encode("euc-kr"))
    doc = parse_file(path)
    assert doc.title == "민원 안내" and doc.metadata["encoding"] == "cp949"
    assert _kinds(doc) == ["paragraph", "list", "table"]
    para, items, table = doc.blocks
    assert para.text == "민원은 방문 또는 온라인으로 신청합니다." and para.heading_path == ("민원 안내",)
    assert items.text == "- 일반 민원: 7일\n- 고충 민원: 14일" and items.heading_path == ("민원 안내", "처리 기간")
    assert table.text == "구분 | 기간\n정보공개 | 10일"
    joined = "\n".join(b.text for b in doc.blocks)
    assert "스크립트" not in joined and "메뉴" not in joined and "color" not in joined


# --- Markdown -----------------------------------------------------------------------------------

def test_markdown_front_matter_headings_articles_and_pages(tmp_path: Path) -> None:
    path = tmp_path / "법.md"
    path.write_text(
        "---\n제목: 시험 법률\n법령구분: 법률\n소관부처:\n- 행정안전부\n- 법제처\n시행일자: 2024-01-02\n---\n\n"
        "# 시험 법률\n\n## 제1장 총칙\n\n##### 제1조 (목적)\n\n이 법은 시험을 위한 것이다.\n\n"
        "**①** 항이다.\n\n  1\\. 호이다.\n    가\\. 목이다.\n\n##### 제1조 (정의)\n\n정의 조문이다.\n\n"
        "## 부칙\n\n제1조(시행일) 공포한 날부터 시행한다.\n\n<!-- page 3 -->\n| 구분 | 값 |\n|---|---|\n| 가 | 1 |\n",
        encoding="utf-8")
    doc = parse_file(path)
    meta = doc.metadata
    assert doc.title == "시험 법률" and meta["law_name"] == "시험 법률" and meta["law_type"] == "법률"
    assert meta["department"] == "행정안전부, 법제처" and meta["effective_date"] == "2024-01-02"
    arts = _articles(doc)
    assert arts["제1조"] == "제1조(목적) 이 법은 시험을 위한 것이다.\n① 항이다.\n1. 호이다.\n가. 목이다."
    assert "제1조의2" in arts  # the converter's repeated "제1조" heading is the next 조의N
    supplement = [b for b in doc.blocks if b.heading_path == ("부칙",)]
    assert [b.kind for b in supplement] == ["paragraph", "table"] and supplement[1].page == 3
    assert supplement[1].text == "구분 | 값\n가 | 1"


def test_a_merged_cell_repeated_across_columns_is_kept_once_and_equal_figures_stay(tmp_path: Path) -> None:
    # the shape a PDF → Markdown converter writes for a title cell spanning eight columns (the 학교도서관
    # 진흥 기본계획 in the shared corpus, p.18), above a row whose two years have the same 정원
    path = tmp_path / "계획.md"
    path.write_text(
        "|【|【|**사서교사 정원 확보 현황**<br>】|**사서교사 정원 확보 현황**<br>】"
        "|**사서교사 정원 확보 현황**<br>】||\n"
        "|---|---|---|---|---|---|\n"
        "|**정원**|962|1,558|1,558|1,618|해당 없음|\n"
        "|비고|사서교사 배치 기준|사서교사 배치 기준|-|-|-|\n", encoding="utf-8")
    table = [b for b in parse_file(path).blocks if b.kind == "table"]
    assert [b.text.splitlines() for b in table] == [[
        "【 | 【 | 사서교사 정원 확보 현황 】",
        "정원 | 962 | 1,558 | 1,558 | 1,618 | 해당 없음",
        "비고 | 사서교사 배치 기준 | - | - | -",
    ]]


# --- checks done before any parser runs ------------------------------------------------------------

def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "빈파일.txt"
    path.write_bytes(b"")
    with pytest.raises(ParseError, match="빈 파일") as err:
        parse_file(path)
    assert "빈파일.txt" in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="존재하지 않습니다") as err:
        parse_file(tmp_path / "없는파일.pdf")
    assert "없는파일.pdf" in str(err.value)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "메모.xyz"
    path.write_text("내용", encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match="지원하지 않는") as err:
        parse_file(path)
    assert "메모.xyz" in str(err.value)


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "큰파일.txt"
    path.write_text("가" * 5000, encoding="utf-8")
    with pytest.raises(ParseError, match="크기 제한") as err:
        parse_file(path, max_bytes=1000)
    assert "큰파일.txt" in str(err.value)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "폴더.txt"
    folder.mkdir()
    with pytest.raises(ParseError, match="일반 파일이 아닙니다") as err:
        parse_file(folder)
    assert "폴더.txt" in str(err.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "잠긴.txt"
    path.write_text("비공개 내용", encoding="utf-8")
    path.chmod(0)
    try:
        try:
            path.open("rb").close()
        except PermissionError:
            pass
        else:
            pytest.skip("running as root: chmod 000 does not block reads (see test_directory_is_not_a_file)")
        with pytest.raises(ParseError, match="권한") as err:
            parse_file(path)
        assert "잠긴.txt" in str(err.value)
    finally:
        path.chmod(0o644)


# --- the shared sample corpus --------------------------------------------------------------------

def test_minwon_law_markdown(shared_corpus: Path) -> None:
    doc = parse_file(shared_corpus / "korean-laws-minwon" / "민원처리에관한법률_법률.md")
    meta = doc.metadata
    assert meta["law_name"] == "민원 처리에 관한 법률" and doc.title == "민원 처리에 관한 법률"
    assert meta["effective_date"] == "2022-07-12" and meta["department"] == "행정안전부"
    assert meta["promulgation_date"] == "2022-01-11" and meta["source_url"].startswith("https://www.law.go.kr/")
    arts = [b for b in doc.blocks if b.kind == "article"]
    assert len(arts) >= 51 and len({b.article for b in arts}) == len(arts)
    art10 = next(b for b in arts if b.article == "제10조")
    assert art10.text.startswith("제10조(불필요한 서류 요구의 금지) ① 행정기관의 장은")
    assert "\\" not in art10.text and "**" not in art10.text and "⑧" in art10.text
    assert art10.heading_path == ("제2장 민원의 처리", "제1절 민원의 신청 및 접수 등")
    assert next(b for b in arts if b.article == "제8조의2").text.startswith("제8조의2(")
    assert any(b.heading_path == ("부칙",) for b in doc.blocks)


def test_legalize_kr_duplicate_headings_become_jo_ui_n(shared_corpus: Path) -> None:
    doc = parse_file(shared_corpus / "korean-laws-admin" / "행정절차법_법률.md")
    labels = [b.article for b in doc.blocks if b.kind == "article"]
    assert len(labels) == len(set(labels)) and "제5조의2" in labels


def test_moleg_interpretation_case(shared_corpus: Path) -> None:
    doc = parse_file(shared_corpus / "moleg-interpretations-qa" / "docs" / "법제처-24-0716.md")
    assert doc.metadata["case_no"] == "법제처-24-0716" and doc.metadata["department"] == "국토교통부"
    assert doc.metadata["date"] == "2025-01-15"
    sections = {b.heading_path[0] for b in doc.blocks if b.heading_path}
    assert {"질의요지", "회답", "이유"} <= sections
    answer = [b.text for b in doc.blocks if b.heading_path == ("회답",)]
    assert answer and answer[0].startswith("이 사안의 경우")


def test_pdf_derived_markdown_has_pages(shared_corpus: Path) -> None:
    doc = parse_file(shared_corpus / "allganize-public-docs" / "2024년 행정안전부 업무계획.md")
    pages = [b.page for b in doc.blocks]
    assert all(p is not None for p in pages) and pages == sorted(pages) and max(pages) > 10
    assert not any("intentionally omitted" in b.text or "picture text" in b.text for b in doc.blocks)
