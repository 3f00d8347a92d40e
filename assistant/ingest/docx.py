"""Word (.docx) with python-docx: body in document order, heading styles, tables, statute articles."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import BlockBuilder
from assistant.types import ParsedDocument

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*([1-9])$", re.I)
_TITLE_STYLES = {"title", "제목", "표제"}
_LIST_STYLE = re.compile(r"list|목록", re.I)


def _open(path: Path) -> DocxDocument:
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head == _OLE_MAGIC:
        raise ParseError(path, "암호가 걸린 Word 문서이거나 예전 .doc 형식입니다. "
                               "Word에서 암호를 해제하고 .docx 형식으로 다시 저장해 올려 주세요.")
    if not zipfile.is_zipfile(path):
        raise ParseError(path, "DOCX(Word) 파일이 아니거나 손상되었습니다 (ZIP 구조가 아님). "
                               "원본 파일을 다시 저장해 주세요.")
    try:
        return docx.Document(str(path))
    except (KeyError, ValueError, zipfile.BadZipFile, PackageNotFoundError) as exc:
        raise ParseError(path, "DOCX 안에 Word 본문이 없습니다 (다른 ZIP 파일이거나 손상됨). "
                               "Word에서 .docx로 다시 저장해 주세요.") from exc


def body_items(doc: DocxDocument) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables of the body in document order (content controls are entered)."""
    yield from _items(doc.element.body, doc)


def _items(parent: object, doc: DocxDocument) -> Iterator[Paragraph | Table]:
    for child in parent.iterchildren():
        if child.tag == qn("w:p"):
            yield Paragraph(child, doc._body)
        elif child.tag == qn("w:tbl"):
            yield Table(child, doc._body)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _items(content, doc)


def table_rows(table: Table) -> list[list[str]]:
    """Cell texts per row; a merged cell spanning columns is kept once."""
    rows = []
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(cell.text)
        rows.append(cells)
    return rows


def _style_name(par: Paragraph) -> str:
    try:
        return (par.style.name or "").strip() if par.style is not None else ""
    except (KeyError, AttributeError):
        return ""


@register
class DocxParser(Parser):
    extensions = (".docx",)
    doc_type = "docx"

    def parse(self, path: Path) -> ParsedDocument:
        doc = _open(path)
        builder = BlockBuilder(detect_statute=True)
        first_heading: str | None = None
        for item in body_items(doc):
            if isinstance(item, Table):
                builder.table(table_rows(item))
                continue
            text, style = item.text.strip(), _style_name(item)
            if not text:
                continue
            level = _HEADING_STYLE.match(style)
            if style.lower() in _TITLE_STYLES:
                first_heading = first_heading or text
            elif level:
                first_heading = first_heading or text
                builder.heading(int(level.group(1)), text)
            else:
                builder.paragraph(text, kind="list" if _LIST_STYLE.search(style) else "paragraph")
        blocks = builder.finish()
        if not blocks:
            raise ParseError(path, "Word 문서에 본문 텍스트가 없습니다 (그림만 있거나 빈 문서). 내용을 확인하세요.")
        props = doc.core_properties
        title = (props.title or "").strip() or first_heading or path.stem
        meta: dict[str, str] = {}
        if props.author and props.author.strip() != "python-docx":  # python-docx's template default
            meta["author"] = props.author.strip()
            if props.created:
                meta["created"] = props.created.date().isoformat()
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
