"""Markdown, DOCX and HWPX writers: files re-open with our own parsers and with python-docx / python-hwpx."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from assistant.errors import AssistantError
from assistant.ingest.base import parse_file
from assistant.output import (
    atomic_write_text,
    document_from_text,
    parse_formats,
    write_outputs,
)
from assistant.output.markdown import render_markdown

SUMMARY = """□ 지방시대 본격 개막
 ○ 지방시대위원회 출범(’23.7월) 지원 및 지방시대 종합계획 수립(’23.11월)
   - 수도권 인구 비중 50.67%(OECD 26개국 중 1위)
□ 디지털플랫폼정부 구축 & <특수문자> "따옴표"
 ○ 공공마이데이터 적용 확대(~’23년 총 105종)"""

REPLY = """안녕하십니까? 민원에 대하여 답변드립니다.

1. 민원 요지
  귀하의 민원은 정보공개 청구 기간에 관한 것입니다.

2. 검토 결과
  가. 「공공기관의 정보공개에 관한 법률」 제11조제1항에서는 10일 이내에 결정하도록 규정하고 있습니다. [1]
  나. 다만, 사실관계에 따라 달라질 수 있습니다.

3. 관련 근거
  - 「공공기관의 정보공개에 관한 법률」 제11조(정보공개 여부의 결정)"""


def _texts(path: Path) -> list[str]:
    return [b.text for b in parse_file(path).blocks]


@pytest.fixture()
def summary_doc():
    return document_from_text("2024년 주요업무 추진계획 — 요약", SUMMARY, ["원문: 업무계획.pdf"])


def test_lines_are_typed() -> None:
    doc = document_from_text("답변", REPLY)
    kinds = [p.kind for p in doc.paras]
    assert kinds[:3] == ["body", "heading", "body"]
    assert "item2" in kinds and "item3" in kinds
    assert [p.kind for p in document_from_text("t", SUMMARY).paras] == ["item1", "item2", "item3", "item1", "item2"]


def test_markdown_keeps_every_line(summary_doc, tmp_path: Path) -> None:
    text = render_markdown(summary_doc)
    assert text.startswith("# 2024년 주요업무 추진계획 — 요약\n")
    for line in SUMMARY.split("\n"):
        assert line.strip() in text
    (path,) = write_outputs(summary_doc, tmp_path / "요약", ["md"])
    assert path.name == "요약.md" and path.read_text(encoding="utf-8") == text
    assert _texts(path)  # our Markdown parser reads it back


def test_docx_reopens_with_korean_fonts_and_heading_styles(tmp_path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    doc = document_from_text("민원 답변서(초안)", REPLY, ["처리기한: 2025-05-14"])
    (path,) = write_outputs(doc, tmp_path / "답변", ["docx"])
    d = docx.Document(str(path))
    styles = [(p.style.name, p.text) for p in d.paragraphs]
    assert styles[0] == ("Title", "민원 답변서(초안)")
    assert ("Heading 1", "2. 검토 결과") in styles
    fonts = d.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "바탕"
    assert d.styles["Heading 1"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "맑은 고딕"
    parsed = parse_file(path)
    assert parsed.title == "민원 답변서(초안)"
    body = "\n".join(_texts(path))
    assert "제11조제1항" in body and "처리기한: 2025-05-14" in body


def test_hwpx_is_a_valid_package(summary_doc, tmp_path: Path) -> None:
    (path,) = write_outputs(summary_doc, tmp_path / "요약", ["hwpx"])
    with zipfile.ZipFile(path) as zf:
        first = zf.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"application/hwp+zip"
        names = set(zf.namelist())
        assert {"Contents/section0.xml", "Contents/header.xml", "Contents/content.hpf",
                "META-INF/container.xml", "version.xml"} <= names
        assert zf.testzip() is None
    with open(path, "rb") as fh:  # readers sniff the mimetype at a fixed offset
        assert fh.read(100)[30:57] == b"mimetypeapplication/hwp+zip"


def test_hwpx_reopens_with_our_parser_and_python_hwpx(summary_doc, tmp_path: Path) -> None:
    from hwpx import HwpxDocument

    (path,) = write_outputs(summary_doc, tmp_path / "요약", ["hwpx"])
    parsed = parse_file(path)
    assert parsed.doc_type == "hwpx" and parsed.title == summary_doc.title
    ours = _texts(path)
    for line in SUMMARY.split("\n"):
        assert line.strip() in ours
    theirs = [p.text for p in HwpxDocument.open(str(path)).paragraphs]
    assert theirs[0] == summary_doc.title
    assert [t for t in theirs if t.startswith(("□", "○", "-"))] == [ln.strip() for ln in SUMMARY.split("\n")]


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.md"
    atomic_write_text(target, "첫 번째")
    atomic_write_text(target, "두 번째")
    assert target.read_text(encoding="utf-8") == "두 번째"
    assert [p.name for p in target.parent.iterdir()] == ["a.md"]


def test_formats_are_checked() -> None:
    assert parse_formats("md, DOCX,hwpx,md") == ["md", "docx", "hwpx"]
    assert parse_formats(["word", "한글"]) == ["docx", "hwpx"]
    with pytest.raises(AssistantError, match="지원하지 않습니다"):
        parse_formats("pdf")
    with pytest.raises(AssistantError):
        parse_formats("")
