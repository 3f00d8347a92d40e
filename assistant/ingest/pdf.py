"""PDF (.pdf) with pypdf: blocks per page (1-based ``page``), encryption, and OCR of scanned pages.

A page whose text layer is (nearly) empty — a scan, or a scanned page inside an otherwise born-digital
file — is rendered with pypdfium2 and read by the configured OCR engine (assistant.ocr); only those pages are
OCR'd, and their page numbers are kept.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.types import Block, ParsedDocument

# malformed PDFs make pypdf log a warning per object; the ParseError below is what users need
logging.getLogger("pypdf").setLevel(logging.ERROR)

_BLANK_LINE = re.compile(r"\n[ \t\u3000]*\n")
_ENCRYPTED = ("암호화된 PDF입니다. 암호를 입력해야 열리는 문서는 읽을 수 없습니다. "
              "PDF 뷰어에서 암호를 해제해 다시 저장한 뒤 올려 주세요.")
log = logging.getLogger(__name__)

#: pages read per file; a longer PDF is read up to here, with a warning
MAX_PAGES = 2_000

_CORRUPT = "PDF 파일이 손상되었거나 올바른 PDF가 아닙니다. 원본을 다시 내려받거나 PDF로 다시 저장해 주세요."
_TOO_COMPLEX = ("PDF 구조가 비정상적으로 크거나 스스로를 가리키는 순환이 있어 읽지 않았습니다 (손상되었거나 조작된 "
                "파일일 수 있음). 원본을 다시 내려받거나 PDF 뷰어에서 다시 저장해 주세요.")
_NO_TEXT = ("PDF에서 글자를 찾지 못했습니다. 텍스트가 없고 OCR(문자 인식)로도 읽을 글자가 없었습니다. "
            "스캔 상태를 확인하고 더 선명하게 다시 스캔해 올려 주세요.")
_GENERIC_TITLES = {"untitled", "제목 없음", "제목없음", "microsoft word", "document", "문서"}


def _refused(path: Path, exc: Exception) -> ParseError:
    """The reason for a pypdf failure; pypdf's own words go to the log."""
    log.warning("pypdf failed on %s: %s: %.300s", path, type(exc).__name__, exc)
    looping = isinstance(exc, LimitReachedError) or "cycl" in str(exc).lower()
    return ParseError(path, _TOO_COMPLEX if looping else _CORRUPT)


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise _refused(path, exc) from exc
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
    damaged = _CORRUPT

    def parse(self, path: Path) -> ParsedDocument:
        reader = _open(path)
        try:
            count = len(reader.pages)
            blocks, unreadable, thin = _read_pages(reader, min(count, MAX_PAGES), path)
        except FileNotDecryptedError as exc:
            raise ParseError(path, _ENCRYPTED) from exc
        except PyPdfError as exc:
            raise _refused(path, exc) from exc
        if not count:
            raise ParseError(path, "PDF에 쪽이 하나도 없습니다. 원본 파일을 확인하세요.")
        ocr_meta: dict[str, Any] | None = None
        ocr_notes: list[str] = []
        if thin:
            blocks, ocr_meta, ocr_notes = _with_ocr(path, blocks, thin, bool(blocks))
        if not any(b.text.strip() for b in blocks):
            raise ParseError(path, _CORRUPT if unreadable else _NO_TEXT)
        raw_title, author = _info(reader)
        title = meaningful_title(raw_title) or path.stem
        meta: dict[str, Any] = {"page_count": str(count)}
        if ocr_meta is not None:
            meta["ocr"] = ocr_meta
        if isinstance(author, str) and author.strip() not in ("", "anonymous"):
            meta["author"] = author.strip()
        warnings = list(ocr_notes)
        if count > MAX_PAGES:
            warnings.append(f"쪽이 {count:,}쪽으로 한 파일의 한도({MAX_PAGES:,}쪽)를 넘어 앞 {MAX_PAGES:,}쪽만 "
                            "읽었습니다. 나머지가 필요하면 파일을 나누어 올려 주세요.")
        if unreadable:
            shown = ", ".join(str(n) for n in unreadable[:10]) + (" 등" if len(unreadable) > 10 else "")
            warnings.append(f"손상된 쪽 {len(unreadable):,}개({shown}쪽)의 텍스트를 읽지 못하고 건너뛰었습니다.")
        if warnings:
            meta["warnings"] = warnings
        return ParsedDocument(str(path), title, self.doc_type, blocks, meta)


def _read_pages(reader: PdfReader, count: int, path: Path) -> tuple[list[Block], list[int], list[int]]:
    """Blocks of the first ``count`` pages, the numbers of pages whose text could not be extracted (one
    broken page costs only itself), and those whose text layer is too thin to be the page (OCR them)."""
    from assistant.ocr import current_options

    min_chars = current_options().min_text_chars
    blocks: list[Block] = []
    unreadable: list[int] = []
    thin: list[int] = []
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except (MemoryError, FileNotDecryptedError):
            raise
        except Exception as exc:  # noqa: BLE001 — pypdf fails in many ways on a broken page
            log.info("pypdf could not extract page %d of %s: %s: %.200s", number, path, type(exc).__name__, exc)
            unreadable.append(number)
            continue
        if len("".join(text.split())) < min_chars and _has_image(reader.pages[number - 1]):
            thin.append(number)   # a scan, perhaps with a stamped page number: OCR it
            continue
        if not text.strip() and _undecodable(reader.pages[number - 1]):
            unreadable.append(number)   # pypdf logs a bad stream and returns "": say the page was lost
            continue
        blocks += page_blocks(text, number)
    return blocks, unreadable, thin


def _undecodable(page: Any) -> bool:
    """Whether a page's content stream holds bytes that decode to nothing (a damaged compressed stream)."""
    try:
        contents = page.get("/Contents")
        if contents is None:
            return False
        streams = contents.get_object()
        streams = streams if isinstance(streams, list) else [streams]
        for ref in streams:
            stream = ref.get_object()
            if getattr(stream, "_data", b"") and not stream.get_data():
                return True
    except Exception:  # noqa: BLE001 — a broken object is a broken page
        return True
    return False


def _has_image(page: Any) -> bool:
    """Whether a page draws an image (a short text page without one is just short, not a scan)."""
    try:
        resources = page.get("/Resources")
        resources = resources.get_object() if resources is not None else {}
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else {}
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    except Exception:  # noqa: BLE001 — damaged resources: treat as a scan and let OCR try
        return True


def _with_ocr(path: Path, blocks: list[Block], thin: list[int],
              has_text: bool) -> tuple[list[Block], dict[str, Any] | None, list[str]]:
    """The text pages' blocks merged with the OCR'd blocks of the ``thin`` pages, in page order.

    Without a working engine a scanned PDF is refused with the reason; a mixed one keeps its text pages and
    says which pages were skipped.
    """
    from assistant.ocr.pages import check_page_count, engine_for, ocr_pages

    try:
        engine, options = engine_for(path, "스캔한 이미지로 된 쪽이 있어 OCR(문자 인식)이 필요합니다")
    except ParseError:
        if not has_text:
            raise
        shown = ", ".join(str(n) for n in thin[:10]) + (" 등" if len(thin) > 10 else "")
        return blocks, None, [f"텍스트가 없는 쪽({shown}쪽)은 OCR을 쓸 수 없어 건너뛰었습니다."]
    check_page_count(path, len(thin), options)
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise ParseError(path, _CORRUPT) from exc

    def render(number: int) -> Any:
        def load() -> Any:
            page = pdf[number - 1]
            width, height = page.get_size()      # points
            # at most ~50 M pixels a page: a PDF page can declare any size
            scale = min(options.dpi / 72, (50_000_000 / max(width * height, 1)) ** 0.5)
            return page.render(scale=scale, grayscale=True).to_pil()
        return load

    try:
        ocr_blocks, meta, notes = ocr_pages(path, [(n, render(n)) for n in thin], engine, options)
    finally:
        pdf.close()
    merged = sorted(blocks + ocr_blocks, key=lambda b: b.page or 0)   # stable: each page keeps its order
    return merged, meta, notes


def _info(reader: PdfReader) -> tuple[object, object]:
    """``(title, author)`` from the document information dictionary; None for what is missing or broken."""
    try:
        info = reader.metadata
        return (info.title, info.author) if info else (None, None)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError):
        return None, None
