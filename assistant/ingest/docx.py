"""Word (.docx) with python-docx: body in document order, heading styles, tables, statute articles."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from assistant.errors import ParseError
from assistant.ingest.archive import check_zip
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
    # python-docx reads every part whole with zipfile.ZipFile.read, which inflates all of a member's
    # compressed bytes before cutting them to the declared size: stream every member once first
    check_zip(path, inflate_all=True)
    try:
        return docx.Document(str(path))
    except (KeyError, ValueError, zipfile.BadZipFile, PackageNotFoundError) as exc:
        raise ParseError(path, "DOCX 안에 Word 본문이 없습니다 (다른 ZIP 파일이거나 손상됨). "
                               "Word에서 .docx로 다시 저장해 주세요.") from exc


def body_items(doc: DocxDocument) -> Iterator[Paragraph | Table]:
    """Paragraphs and tables of the body in document order (content controls are entered)."""
    yield from _items(doc.element.body, doc)


def _items(parent: Any, doc: DocxDocument) -> Iterator[Paragraph | Table]:
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


class StyleNames:
    """Paragraph style names, looked up by style id in a table built once per document.

    ``Paragraph.style`` scans every style definition to find the default on each call (about 1 ms): a
    document of 60,000 paragraphs took over two minutes. Same answers: an unknown id, or the id of a style
    that is not a paragraph style, gives the default paragraph style.
    """

    def __init__(self, doc: DocxDocument) -> None:
        self._names: dict[str, str] = {}
        self._default = ""
        try:
            for style in doc.styles:
                if style.type == WD_STYLE_TYPE.PARAGRAPH and style.style_id:
                    self._names[style.style_id] = (style.name or "").strip()
            default = doc.styles.default(WD_STYLE_TYPE.PARAGRAPH)
            self._default = (default.name or "").strip() if default is not None else ""
        except (KeyError, AttributeError, ValueError):   # a damaged styles part: no style names
            pass

    def of(self, par: Paragraph) -> str:
        try:
            style_id = par._p.style
        except (KeyError, AttributeError, ValueError):
            return self._default
        return self._names.get(style_id, self._default) if style_id else self._default


@register
class DocxParser(Parser):
    extensions = (".docx",)
    doc_type = "docx"
    damaged = ("Word(DOCX) 파일이 손상되어 내용을 읽을 수 없습니다. "
               "Word에서 열어 .docx로 다시 저장한 뒤 올려 주세요.")

    def parse(self, path: Path) -> ParsedDocument:
        doc = _open(path)
        builder = BlockBuilder(detect_statute=True)
        first_heading: str | None = None
        styles = StyleNames(doc)
        for item in body_items(doc):
            if isinstance(item, Table):
                builder.table(table_rows(item))
                continue
            text, style = item.text.strip(), styles.of(item)
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
