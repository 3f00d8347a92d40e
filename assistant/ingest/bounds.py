"""Text shapes that cost far more than their size are reshaped before sentence splitting and analysis.

- A run of more than :data:`LONG_RUN` characters without whitespace (a million syllables in one "word",
  base64, a garbled text layer) is broken with a space every :data:`LONG_RUN` characters — never inside a
  Hangul syllable or before a combining mark — so the morphological analyser sees word-sized pieces.
- Page and line-feed floods (form feeds, vertical tabs, dozens of blank lines) collapse to one paragraph
  break: 500 KB of form feeds must not become 100,000 chunks.
- Very many very short lines (a 3 MB file of two-syllable lines) are joined into paragraphs of at most
  :data:`JOINED_LINE_CHARS` characters, so the chunker and the analyser handle thousands of lines, not
  hundreds of thousands.

Each reshaping is reported as a warning; the document's meaning is untouched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from assistant.types import ParsedDocument

LONG_RUN = 300
JOINED_LINE_CHARS = 400
#: a block with more lines than this, most of them this short, has its lines joined
MANY_LINES = 2_000
SHORT_LINE = 12

_FLOOD = re.compile(r"[\f\v\x1c-\x1e\u2028\u2029]+")
_BLANK_RUN = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*){2,}")
_LONG = re.compile(rf"\S{{{LONG_RUN + 1},}}")


def _breakable(ch: str) -> bool:
    """May a space go before ``ch``? Not before a combining mark or a conjoining vowel/final jamo."""
    return not (unicodedata.category(ch).startswith("M") or "\u1160" <= ch <= "\u11ff" or "\ud7b0" <= ch <= "\ud7ff")


def _break_run(m: re.Match[str]) -> str:
    run = m.group(0)
    out, start = [], 0
    while len(run) - start > LONG_RUN:
        cut = start + LONG_RUN
        while cut > start + 1 and not _breakable(run[cut]):
            cut -= 1
        out.append(run[start:cut])
        start = cut
    out.append(run[start:])
    return " ".join(out)


def _join_short_lines(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        line = line.strip()
        if not line:
            if current:
                out.append(" ".join(current))
                current, size = [], 0
            continue
        if size + len(line) > JOINED_LINE_CHARS and current:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        out.append(" ".join(current))
    return "\n".join(out)


def bound_text(text: str) -> tuple[str, set[str]]:
    """The text reshaped, and which reshapings applied (``long_run``, ``flood``, ``short_lines``)."""
    applied: set[str] = set()
    if _FLOOD.search(text):
        text = _FLOOD.sub("\n\n", text)
        applied.add("flood")
    if _BLANK_RUN.search(text):
        text = _BLANK_RUN.sub("\n\n", text)
    if _LONG.search(text):
        text = _LONG.sub(_break_run, text)
        applied.add("long_run")
    if text.count("\n") > MANY_LINES:
        lines = text.split("\n")
        if sum(len(ln.strip()) <= SHORT_LINE for ln in lines) > 0.8 * len(lines):
            text = _join_short_lines(text)
            applied.add("short_lines")
    return text, applied


WARNINGS = {
    "long_run": f"띄어쓰기 없이 {LONG_RUN}자가 넘게 이어지는 부분을 나누어 색인했습니다.",
    "flood": "연속된 쪽 나눔·빈 줄을 하나로 합쳐 색인했습니다.",
    "short_lines": "아주 짧은 줄이 매우 많아 줄을 문단으로 이어 색인했습니다.",
}


#: more page blocks than this holding almost nothing means a page-break flood, not a long document
TINY_PAGES = 1_000
TINY_PAGE_CHARS = 40


def _merge_tiny_pages(blocks: list) -> list:
    """Consecutive near-empty pages (a page break between every word) become one block per
    :data:`JOINED_LINE_CHARS` characters, keeping the first page's number."""
    out: list = []
    for b in blocks:
        prev = out[-1] if out else None
        tiny = b.page is not None and b.article is None and len(b.text) <= TINY_PAGE_CHARS
        if (tiny and prev is not None and prev.page is not None and prev.article is None
                and prev.heading_path == b.heading_path and len(prev.text) + len(b.text) < JOINED_LINE_CHARS):
            out[-1] = replace(prev, text=f"{prev.text} {b.text}")
        else:
            out.append(b)
    return out


def bound_document(doc: ParsedDocument) -> tuple[ParsedDocument, list[str]]:
    applied: set[str] = set()
    blocks = []
    for b in doc.blocks:
        text, done = bound_text(b.text)
        applied |= done
        if text.strip():
            blocks.append(b if text == b.text else replace(b, text=text))
    if sum(b.page is not None and len(b.text) <= TINY_PAGE_CHARS for b in blocks) > TINY_PAGES:
        blocks = _merge_tiny_pages(blocks)
        applied.add("flood")
    if not applied:
        return doc, []
    return replace(doc, blocks=blocks), [WARNINGS[k] for k in ("long_run", "flood", "short_lines") if k in applied]
