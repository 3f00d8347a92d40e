"""DOCX output with python-docx: Korean fonts (맑은 고딕 for headings, 바탕 for text) and real heading styles.

Word picks the font for Hangul from the East Asian slot (``w:eastAsia``), which python-docx's ``font.name``
does not set, so each style gets it explicitly; without it Korean text falls back to the theme font.
"""

from __future__ import annotations

import io
from pathlib import Path

from assistant.output import OutputDocument, atomic_write_bytes

HEADING_FONT = "맑은 고딕"
BODY_FONT = "바탕"
_INDENT_CM = {"item1": 0.0, "item2": 0.6, "item3": 1.2}


def _set_font(style_or_run: object, name: str, size_pt: float | None = None, bold: bool | None = None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = style_or_run.font  # type: ignore[attr-defined]
    font.name = name
    if size_pt is not None:
        font.size = Pt(size_pt)
    if bold is not None:
        font.bold = bold
    rpr = style_or_run.element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def render_docx(doc: OutputDocument) -> bytes:
    from docx import Document
    from docx.shared import Cm, Pt, RGBColor

    d = Document()
    d.core_properties.title = doc.title
    d.core_properties.language = "ko-KR"
    styles = d.styles
    _set_font(styles["Normal"], BODY_FONT, 11)
    _set_font(styles["Title"], HEADING_FONT, 18, True)
    _set_font(styles["Heading 1"], HEADING_FONT, 13, True)
    styles["Title"].font.color.rgb = RGBColor(0, 0, 0)
    styles["Heading 1"].font.color.rgb = RGBColor(0, 0, 0)
    d.add_paragraph(doc.title, style="Title")
    for m in doc.meta:
        run = d.add_paragraph().add_run(m)
        _set_font(run, HEADING_FONT, 9)
        run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    for p in doc.paras:
        if p.kind == "heading":
            d.add_heading(p.text, level=1)
            continue
        para = d.add_paragraph()
        run = para.add_run(p.text)
        if p.kind == "item1":
            _set_font(run, HEADING_FONT, 12, True)
            para.paragraph_format.space_before = Pt(8)
        if p.kind in _INDENT_CM:
            para.paragraph_format.left_indent = Cm(_INDENT_CM[p.kind])
            para.paragraph_format.space_after = Pt(2)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def write_docx(doc: OutputDocument, path: Path) -> None:
    atomic_write_bytes(path, render_docx(doc))
