"""HTML (.html, .htm): declared charset, headings h1–h6, paragraphs, lists and tables in document order."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag, XMLParsedAsHTMLWarning
from bs4.element import Comment, Doctype, ProcessingInstruction

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import BlockBuilder
from assistant.ingest.encoding import decode_document
from assistant.types import ParsedDocument

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_DROP = ("script", "style", "nav", "noscript", "template", "iframe", "svg", "head")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_TEXT_BLOCKS = {"p", "pre", "blockquote", "address", "figcaption", "caption", "dt", "dd"}
_SKIP_STRINGS = (Comment, Doctype, ProcessingInstruction)
# XHTML (an "<?xml" prologue) is read as HTML on purpose: the HTML parser never expands entity declarations
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)


def declared_charset(data: bytes) -> str | None:
    """The charset named in a ``<meta>`` tag within the first 8 KB, if any."""
    m = _META_CHARSET.search(data[:8192])
    return m.group(1).decode("ascii", "replace") if m else None


def _text(el: Tag, skip: tuple[str, ...] = ()) -> str:
    """Element text with <br> as line breaks, whitespace collapsed within lines, ``skip`` subtrees left out."""
    parts: list[str] = []
    _collect(el, parts, skip)
    lines = (" ".join(ln.split()) for ln in "".join(parts).split("\n"))
    return "\n".join(ln for ln in lines if ln)


def _collect(el: Tag, parts: list[str], skip: tuple[str, ...]) -> None:
    for node in el.children:
        if isinstance(node, Tag):
            if node.name == "br":
                parts.append("\n")
            elif node.name not in skip:
                _collect(node, parts, skip)
        elif isinstance(node, NavigableString) and not isinstance(node, _SKIP_STRINGS):
            parts.append(str(node))


class _Walker:
    def __init__(self) -> None:
        self.builder = BlockBuilder(detect_statute=True)
        self.loose: list[str] = []
        self.first_h1: str | None = None

    def walk(self, el: Tag) -> None:
        for child in el.children:
            if isinstance(child, NavigableString):
                if not isinstance(child, _SKIP_STRINGS) and child.strip():
                    self.loose.append(" ".join(child.split()))
            elif isinstance(child, Tag):
                self._element(child)

    def _element(self, el: Tag) -> None:
        name = el.name
        if name == "br":
            self.loose.append("\n")
        elif name in _HEADINGS:
            self.flush()
            text = _text(el).replace("\n", " ")
            self.first_h1 = self.first_h1 or (text if name == "h1" else None)
            self.builder.heading(_HEADINGS[name], text)
        elif name in _TEXT_BLOCKS:
            self.flush()
            self.builder.paragraph(_text(el))
        elif name in ("ul", "ol"):
            self.flush()
            texts = (_text(li, skip=("ul", "ol")).replace("\n", " ") for li in el.find_all("li"))
            items = [f"- {t}" for t in texts if t]
            self.builder.paragraph("\n".join(items), kind="list")
        elif name == "table":
            self.flush()
            self._table(el)
        else:
            self.walk(el)
            if name in ("div", "section", "article", "main", "li", "td", "body", "form"):
                self.flush()

    def _table(self, table: Tag) -> None:
        rows = []
        for tr in table.find_all("tr"):
            if tr.find_parent("table") is table:
                rows.append([_text(c).replace("\n", " ") for c in tr.find_all(("th", "td"), recursive=False)])
        self.builder.table(rows)

    def flush(self) -> None:
        text = " ".join(self.loose).replace(" \n ", "\n").strip()
        self.loose = []
        if text:
            self.builder.paragraph(text)


@register
class HtmlParser(Parser):
    extensions = (".html", ".htm")
    doc_type = "html"
    damaged = ("HTML 파일의 구조가 손상되어 읽을 수 없습니다. "
               "브라우저에서 페이지를 다시 저장하거나 텍스트(.txt)로 저장해 올려 주세요.")

    def parse(self, path: Path) -> ParsedDocument:
        data = path.read_bytes()
        decoded = decode_document(data, path, declared=declared_charset(data))
        soup = BeautifulSoup(decoded.text, "lxml")
        title_tag = soup.find("title")
        title = _text(title_tag).replace("\n", " ") if title_tag else ""
        for tag in soup.find_all(_DROP):
            tag.decompose()
        walker = _Walker()
        walker.walk(soup.body or soup)
        walker.flush()
        blocks = walker.builder.finish()
        if not blocks:
            raise ParseError(path, "HTML 문서에 본문 텍스트가 없습니다 (스크립트·메뉴만 있음). "
                                   "저장한 페이지 내용을 확인하세요.")
        title = title or walker.first_h1 or path.stem
        meta: dict[str, Any] = {"encoding": decoded.encoding}
        if decoded.warnings:
            meta["warnings"] = list(decoded.warnings)
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
