"""Markdown (.md): YAML front matter, heading path, statute article headings, tables, page markers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import BlockBuilder, guess_title
from assistant.ingest.encoding import decode_document
from assistant.ingest.frontmatter import normalise_metadata, split_front_matter
from assistant.korean import statute
from assistant.types import ParsedDocument

#: an ATX heading's marks and text; the optional closing #s are removed by :func:`_heading_text` (a regex that
#: did both backtracked quadratically on a line of 40,000 "#")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*)$")
_PAGE = re.compile(r"^\s*<!--\s*page\s+(\d+)\s*-->\s*$", re.I)
_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~\"'])")
_BR = re.compile(r"<br\s*/?>", re.I)
# artefacts of PDF→Markdown converters: picture placeholders and "- 3 -" page footers
_NOISE = re.compile(r"^\s*(\*\*)?(==> picture .*<==|----- (Start|End) of picture text -----)(\*\*)?\s*$"
                    r"|^\s*-\s*\d{1,4}\s*-\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def clean_inline(text: str) -> str:
    """Drop bold markers and Markdown backslash escapes ("1\\." → "1.")."""
    return _ESCAPE.sub(r"\1", text.replace("**", ""))


def _table_cells(line: str) -> list[str]:
    inner = line.strip().strip("|")
    return [clean_inline(_BR.sub(" ", c)).strip() for c in re.split(r"(?<!\\)\|", inner)]



def _heading_text(text: str) -> str:
    """A heading's text without its closing sequence of #s ("## 제목 ##" → "제목"), in linear time."""
    text = text.rstrip()
    stripped = text.rstrip("#")
    if stripped != text and (not stripped or stripped[-1] in " \t"):
        text = stripped
    return text.strip()

class _MarkdownReader:
    """Line-by-line state machine feeding a :class:`BlockBuilder`."""

    def __init__(self, title: str | None) -> None:
        self.builder = BlockBuilder(detect_statute=False)
        self.title = title
        self.page: int | None = None
        self.para: list[str] = []
        self.table: list[list[str]] = []
        self.used: set[str] = set()
        self.title_seen = False

    def feed(self, body: str) -> None:
        fenced = False
        for raw in body.split("\n"):
            if _FENCE.match(raw):
                fenced = not fenced
                continue
            if fenced:
                self.para.append(raw.rstrip())
            else:
                self._line(raw)
        self._flush()

    def _line(self, raw: str) -> None:
        if raw.lstrip().startswith("|"):
            self._flush_para()
            if not _TABLE_RULE.match(raw):
                self.table.append(_table_cells(raw))
            return
        self._flush_table()
        page = _PAGE.match(raw)
        if page:
            self._flush()
            self.page = int(page.group(1))
            return
        heading = _HEADING.match(raw)
        if heading:
            self._flush()
            self._heading(len(heading.group(1)), clean_inline(_heading_text(heading.group(2))).strip())
            return
        for part in _BR.split(raw):
            if not part.strip():
                self._flush_para()
            elif not (_NOISE.match(part) or _COMMENT.match(part)):
                self.para.append(clean_inline(part).strip())

    def _heading(self, level: int, text: str) -> None:
        if not text:
            return
        art = statute.match_article_heading(text)
        if art is not None:
            label = self._unique(art.label)
            self.builder.article(label, statute.Article(label, art.title, art.rest).text(), self.page,
                                 head_only=not art.rest)
            return
        if level == 1 and not self.title_seen and (self.title is None or text == self.title):
            self.title = self.title or text  # the document's own title: not part of the path
            self.title_seen = True
            self.builder.reset_headings()
            return
        self.builder.heading(level, text)

    def _unique(self, label: str) -> str:
        """legalize-kr drops "의N" from headings: a repeated 제N조 is the next unused 제N조의M."""
        if label in self.used and "의" not in label:
            n = 2
            while f"{label}의{n}" in self.used:
                n += 1
            label = f"{label}의{n}"
        self.used.add(label)
        return label

    def _flush_para(self) -> None:
        if self.para:
            self.builder.paragraph("\n".join(self.para), page=self.page)
            self.para = []

    def _flush_table(self) -> None:
        if self.table:
            self.builder.table(self.table, page=self.page)
            self.table = []

    def _flush(self) -> None:
        self._flush_para()
        self._flush_table()


@register
class MarkdownParser(Parser):
    extensions = (".md", ".markdown")
    doc_type = "md"
    damaged = "Markdown 파일을 읽을 수 없습니다. 파일이 손상되었을 수 있습니다. UTF-8 텍스트로 다시 저장해 올려 주세요."

    def parse(self, path: Path) -> ParsedDocument:
        decoded = decode_document(path.read_bytes(), path)
        text, encoding = decoded.text, decoded.encoding
        raw_meta, body = split_front_matter(text.replace("\r\n", "\n").replace("\r", "\n"))
        meta: dict[str, Any] = dict(normalise_metadata(raw_meta))
        reader = _MarkdownReader(meta.get("제목") or None)
        reader.feed(body)
        blocks = reader.builder.finish()
        if not blocks:
            raise ParseError(path, "Markdown 파일에 본문이 없습니다 (머리말·제목만 있음). 내용을 확인하세요.")
        meta["encoding"] = encoding
        if decoded.warnings:
            meta["warnings"] = list(decoded.warnings)
        # PDF-derived Markdown (page markers) opens with cover-page debris: never guess a title from it
        guessed = None if reader.page is not None else guess_title(blocks)
        title = reader.title or guessed or path.stem
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
