"""Plain text (.txt): robust decoding, blank-line paragraphs, statute articles and divisions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.ingest.blocks import BlockBuilder, guess_title
from assistant.ingest.encoding import decode_document
from assistant.korean import statute
from assistant.types import ParsedDocument

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")


def paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated paragraphs as lists of right-stripped lines, split before statute markers."""
    out: list[list[str]] = []
    for chunk in _BLANK_LINE.split(text):
        lines = [ln.rstrip() for ln in chunk.split("\n") if ln.strip()]
        if lines:
            out.extend(statute.split_at_markers(lines))
    return out


@register
class TextParser(Parser):
    extensions = (".txt",)
    doc_type = "txt"
    damaged = "텍스트 파일을 읽을 수 없습니다. 파일이 손상되었을 수 있습니다. UTF-8 텍스트로 다시 저장해 올려 주세요."

    def parse(self, path: Path) -> ParsedDocument:
        decoded = decode_document(path.read_bytes(), path)
        text = decoded.text.replace("\r\n", "\n").replace("\r", "\n")
        pages = text.split("\f")
        builder = BlockBuilder(detect_statute=True)
        for number, page_text in enumerate(pages, start=1):
            page = number if len(pages) > 1 else None
            for lines in paragraphs(page_text):
                builder.paragraph("\n".join(lines), page=page)
        blocks = builder.finish()
        if not blocks:
            raise ParseError(path, "파일에 추출할 텍스트가 없습니다 (공백뿐입니다). 내용이 있는 파일인지 확인하세요.")
        title = guess_title(blocks) or path.stem
        meta: dict[str, Any] = {"encoding": decoded.encoding}
        if len(pages) > 1:
            meta["page_count"] = str(len(pages))
        if decoded.warnings:
            meta["warnings"] = list(decoded.warnings)
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
