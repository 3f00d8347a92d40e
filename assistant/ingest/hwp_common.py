"""Shared by the HWP and HWPX parsers: extraction options and text → blocks.

``hwp_hwpx_parser`` returns one line per 한글 paragraph and renders each table in place as Markdown
rows ("| a | b |"). Those rows are turned back into one table block, so table text is never duplicated.
"""

from __future__ import annotations

import re

from hwp_hwpx_parser import ExtractOptions, ImageMarkerStyle, TableStyle

from assistant.ingest.blocks import BlockBuilder
from assistant.types import Block

NO_TEXT = ("한글 문서에서 추출할 텍스트가 없습니다 (그림·도형만 있거나 빈 문서). "
           "본문이 있는 문서인지 확인하세요.")
_RULE = re.compile(r"^\|(?:\s*:?-{3,}:?\s*\|)+$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def extract_options() -> ExtractOptions:
    return ExtractOptions(table_style=TableStyle.MARKDOWN, image_marker=ImageMarkerStyle.NONE,
                          paragraph_separator="\n\n", line_separator="\n", include_empty_paragraphs=False)


def _is_table_row(line: str) -> bool:
    return len(line) >= 2 and line.startswith("|") and line.endswith("|")


def _cells(line: str) -> list[str]:
    return [c.replace("\\|", "|").strip() for c in _CELL_SPLIT.split(line.strip()[1:-1])]


def blocks_from_text(text: str) -> list[Block]:
    """Each non-empty line is a paragraph (statute detection on); runs of table rows become one table."""
    builder = BlockBuilder(detect_statute=True)
    rows: list[list[str]] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if _is_table_row(line):
            if not _RULE.match(line):
                rows.append(_cells(line))
            continue
        if rows:
            builder.table(rows)
            rows = []
        if line:
            builder.paragraph(line)
    if rows:
        builder.table(rows)
    return builder.finish()
