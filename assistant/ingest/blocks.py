"""Assembling blocks: a heading stack, statute articles that absorb their 항/호 lines, tables, lists."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.korean import statute
from assistant.types import Block

# how the lines of an article go on: 항 ①, 호 "1." / "1의2.", 목 "가.", "1)", notes "<개정 …>", "[본조신설 …]"
_CONTINUATION = re.compile(r"^\s*(?:[①-⑳]|\d{1,3}(?:의\d{1,2})?\s?[.)]|[가-하]\s?[.)]|\(\d{1,3}\)|[<\[［〈]|삭\s?제)")
#: a repeated cell at least this long, with letters, is one merged cell (see :func:`merged_once`)
MERGED_MIN_CHARS = 8
_LETTERS = re.compile(r"[가-힣A-Za-z]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•·○●□■◦▪–]\s+|\(?\d{1,3}[.)]\s+|[가-하][.)]\s+)")


def is_list(lines: Sequence[str]) -> bool:
    """True when every non-empty line is a bullet or numbered item."""
    items = [ln for ln in lines if ln.strip()]
    return bool(items) and all(_LIST_ITEM.match(ln) for ln in items)


def table_text(rows: Iterable[Sequence[str]]) -> str:
    """Rows as lines of " | "-joined cells; empty cells and empty rows are dropped, and a merged cell that a
    converter repeated in every column it spans (PDF → Markdown, HWP) is kept once (:func:`merged_once`)."""
    lines = []
    for row in rows:
        cells = merged_once([" ".join(str(c).split()) for c in row if str(c).strip()])
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def merged_once(cells: Sequence[str]) -> list[str]:
    """Consecutive repeats of a cell of text dropped. Converters write a merged cell once per column it spans
    ("사서교사 정원 확보 현황 및 향후계획" eight times across a title row), which an answer then quotes eight
    times. Only text is collapsed: equal figures side by side are data ("1,558 | 1,558" — two years' 정원),
    as are short codes and marks, so a cell repeats only when it is at least :data:`MERGED_MIN_CHARS` long
    and has letters in it."""
    out: list[str] = []
    for c in cells:
        if out and c == out[-1] and len(c) >= MERGED_MIN_CHARS and _LETTERS.search(c):
            continue
        out.append(c)
    return out


def guess_title(blocks: Sequence[Block], limit: int = 60) -> str | None:
    """The first block when it reads like a title: one short line without a sentence end."""
    if not blocks or blocks[0].kind not in ("paragraph", "heading"):
        return None
    text = blocks[0].text.strip()
    if "\n" in text or len(text) > limit or text.endswith((".", "다", "?", "!", ":")):
        return None
    return text or None


class BlockBuilder:
    """Collects blocks in order, tracking the heading path and an open statute article.

    With ``detect_statute`` every paragraph is checked: a 편/장/절/관 or 부칙 line becomes a heading,
    and a "제N조(제목)" paragraph opens an article that absorbs what follows until the next heading,
    article or table. After 부칙, articles are no longer opened (부칙 restarts 제1조 numbering).
    """

    def __init__(self, detect_statute: bool = True) -> None:
        self.detect = detect_statute
        self.blocks: list[Block] = []
        self._heads: list[tuple[int, str]] = []
        self._article: str | None = None
        self._article_lines: list[str] = []
        self._article_page: int | None = None
        self._article_path: tuple[str, ...] = ()
        self._head_only = False
        self._in_supplement = False

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(h for _, h in self._heads)

    @property
    def in_article(self) -> bool:
        return self._article is not None

    def heading(self, level: int, text: str) -> None:
        """A heading at ``level`` (1 = outermost) replaces any heading at that level or deeper."""
        self.close_article()
        text = " ".join(text.split())
        while self._heads and self._heads[-1][0] >= level:
            self._heads.pop()
        if text:
            self._heads.append((level, text))
        self._in_supplement = statute.is_supplement(text) or (
            self._in_supplement and level > 1 and statute.division_level(text) is None)

    def reset_headings(self) -> None:
        self.close_article()
        self._heads.clear()

    def article(self, label: str, text: str, page: int | None = None, head_only: bool = False) -> None:
        """Open an article block; later paragraphs are appended until something closes it.

        ``head_only`` marks a bare head ("제1조(목적)" from a heading): its first body paragraph
        then follows on the same line, as statutes print it.
        """
        self.close_article()
        self._article, self._article_lines = label, [text.strip()]
        self._article_page, self._article_path = page, self.path
        self._head_only = head_only

    def close_article(self) -> None:
        if self._article is not None:
            lines = [ln for ln in self._article_lines if ln]
            if self._head_only and len(lines) > 1:
                lines[:2] = [f"{lines[0]} {lines[1]}"]
            body = "\n".join(lines)
            self.blocks.append(Block(body, kind="article", page=self._article_page,
                                     heading_path=self._article_path, article=self._article))
        self._article, self._article_lines = None, []

    def paragraph(self, text: str, kind: str = "paragraph", page: int | None = None) -> None:
        """Add a paragraph (several lines allowed); statute detection applies when enabled."""
        text = text.strip()
        if not text:
            return
        if self.detect and self._statute(text, page):
            return
        if self._article is not None and self._continues(text):
            self._article_lines.append(text)
            return
        self.close_article()
        if kind == "paragraph" and is_list(text.splitlines()):
            kind = "list"
        self.blocks.append(Block(text, kind=kind, page=page, heading_path=self.path))

    def table(self, rows: Iterable[Sequence[str]], page: int | None = None) -> None:
        text = table_text(rows)
        if text:
            self.close_article()
            self.blocks.append(Block(text, kind="table", page=page, heading_path=self.path))

    def finish(self) -> list[Block]:
        self.close_article()
        return [b for b in self.blocks if b.text.strip()]

    def _continues(self, text: str) -> bool:
        """Without detection (Markdown) everything up to the next heading belongs to the article;
        with it, a bare head takes the next paragraph, and after that only 항/호/목 lines and notes."""
        if not self.detect:
            return True
        if len(self._article_lines) == 1:
            head = statute.match_article(self._article_lines[0])
            if head is not None and not head.rest:
                return True
        return bool(_CONTINUATION.match(text))

    def _statute(self, text: str, page: int | None) -> bool:
        first, _, rest = text.partition("\n")
        level = statute.division_level(first)
        if level is not None:
            self.heading(level, first)
            if rest.strip():
                self.paragraph(rest, page=page)
            return True
        if self._in_supplement:
            return False
        art = statute.match_article(text)
        if art is None:
            return False
        self.article(art.label, text, page)
        return True
