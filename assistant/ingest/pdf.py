"""PDF (.pdf) with pypdf: blocks per page (1-based ``page``), encryption and scanned-image detection."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.types import Block, ParsedDocument

# malformed PDFs make pypdf log a warning per object; the ParseError below is what users need
logging.getLogger("pypdf").setLevel(logging.ERROR)

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")
_ENCRYPTED = ("암호화된 PDF입니다. 암호를 입력해야 열리는 문서는 읽을 수 없습니다. "
              "PDF 뷰어에서 암호를 해제해 다시 저장한 뒤 올려 주세요.")
_CORRUPT = "PDF 파일이 손상되었거나 올바른 PDF가 아닙니다 ({}). 원본을 다시 내려받거나 PDF로 다시 저장해 주세요."
_NO_TEXT = ("PDF에서 텍스트를 추출할 수 없습니다. 스캔한 이미지로 된 PDF로 보입니다. "
            "OCR(문자 인식)로 텍스트를 만든 뒤 다시 올려 주세요.")
_GENERIC_TITLES = {"untitled", "제목 없음", "제목없음", "microsoft word", "document", "문서"}


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ParseError(path, _CORRUPT.format(type(exc).__name__)) from exc
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                raise ParseError(path, _ENCRYPTED)
        except (DependencyError, NotImplementedError, PdfReadError) as exc:
            raise ParseError(path, _ENCRYPTED) from exc
    return reader


def page_blocks(text: str, page: int) -> list[Block]:
    """A page's text split on blank lines; a page without blank lines is one block."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    parts = [p.strip() for p in _BLANK_LINE.split(text)]
    return [Block(p, page=page) for p in parts if p]


def meaningful_title(raw: object) -> str | None:
    """The /Title entry unless empty, generic or a file name ("Microsoft Word - 보고서.docx")."""
    if not isinstance(raw, str):
        return None
    title = " ".join(raw.replace("\x00", "").split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint|Excel) - ", "", title)
    title = re.sub(r"\.(?:docx?|hwpx?|pptx?|xlsx?|pdf)$", "", title, flags=re.I)
    if len(title) < 2 or title.lower() in _GENERIC_TITLES or re.fullmatch(r"[\W\d_]+", title):
        return None
    return title


@register
class PdfParser(Parser):
    extensions = (".pdf",)
    doc_type = "pdf"

    def parse(self, path: Path) -> ParsedDocument:
        reader = _open(path)
        try:
            pages = list(reader.pages)
            blocks = [b for number, page in enumerate(pages, start=1)
                      for b in page_blocks(page.extract_text() or "", number)]
            info = reader.metadata
        except FileNotDecryptedError as exc:
            raise ParseError(path, _ENCRYPTED) from exc
        except PdfReadError as exc:
            raise ParseError(path, _CORRUPT.format(type(exc).__name__)) from exc
        if not pages:
            raise ParseError(path, "PDF에 쪽이 하나도 없습니다. 원본 파일을 확인하세요.")
        if not any(b.text.strip() for b in blocks):
            raise ParseError(path, _NO_TEXT)
        title = meaningful_title(info.title if info else None) or path.stem
        meta = {"page_count": str(len(pages))}
        if info and info.author and info.author.strip() not in ("", "anonymous"):
            meta["author"] = info.author.strip()
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)
