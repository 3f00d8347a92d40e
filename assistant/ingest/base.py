"""The parser interface and the registry that maps file extensions to parsers.

Every parser — built-in or added later — registers the same way, so nothing is special-cased.
"""

from __future__ import annotations

import logging
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from assistant.errors import ParseError, UnsupportedFormat
from assistant.registry import PARSERS, Registry
from assistant.types import ParsedDocument

log = logging.getLogger(__name__)


class Parser(ABC):
    """Reads one file into blocks with their locations. Subclasses fill in ``parse``.

    A parser may put ``metadata["warnings"]`` (a list of sentences for people) in its result when it read
    the file but had to replace or skip something.
    """

    #: lower-case extensions with the dot, e.g. (".pdf",)
    extensions: tuple[str, ...] = ()
    #: short type name stored as document metadata, e.g. "pdf"
    doc_type: str = ""
    #: the reason shown when the format's library fails on the file (what is wrong, what to do)
    damaged: str = ""

    def damaged_reason(self) -> str:
        return self.damaged or (f"{self.doc_type.upper()} 파일이 손상되었거나 형식이 맞지 않아 읽을 수 없습니다. "
                                "원본 프로그램에서 열어 다시 저장한 뒤 올려 주세요.")

    @abstractmethod
    def parse(self, path: Path) -> ParsedDocument:
        """Parse ``path``. Raise :class:`ParseError` with a specific reason on bad input."""


#: parsers by file extension (built-ins listed in assistant.registry.PARSERS, plug-ins in the
#: "assistant.parsers" entry-point group, named by their extension: ``".toy" = "my_pkg:ToyParser"``)
PARSER_REGISTRY: Registry[Callable[[], Parser]] = Registry("파서", PARSERS, "assistant.parsers")


def register(factory: Callable[[], Parser]) -> Callable[[], Parser]:
    """Register a parser class for every extension it declares (usable as a class decorator)."""
    probe = factory()
    for ext in probe.extensions:
        PARSER_REGISTRY.add(ext.lower(), factory)
    return factory


def supported_extensions() -> list[str]:
    """Every extension a parser is known for, built-in or plug-in (no parser module is imported)."""
    return PARSER_REGISTRY.names()


def parser_for(path: Path) -> Parser:
    ext = path.suffix.lower()
    factory = PARSER_REGISTRY.find(ext) if ext else None
    if factory is None:
        exts = ", ".join(supported_extensions())
        raise UnsupportedFormat(path, f"지원하지 않는 파일 형식입니다 ({ext or '확장자 없음'}). 지원 형식: {exts}")
    return factory()


def nfc(text: str) -> str:
    """Normalise to NFC (macOS and some HWP exports deliver NFD jamo)."""
    return unicodedata.normalize("NFC", text)


def parse_file(path: Path, max_bytes: int | None = None) -> ParsedDocument:
    """Check the file, pick its parser, parse, and normalise every string to NFC."""
    path = Path(path)
    if not path.exists():
        raise ParseError(path, "파일이 존재하지 않습니다. 경로를 확인하세요.")
    if not path.is_file():
        raise ParseError(path, "일반 파일이 아닙니다.")
    size = path.stat().st_size
    if size == 0:
        raise ParseError(path, "빈 파일입니다 (0바이트).")
    if max_bytes is not None and size > max_bytes:
        raise ParseError(
            path,
            f"파일이 크기 제한을 넘습니다 ({size:,} > {max_bytes:,} 바이트). "
            "ASSISTANT_MAX_FILE_MB 설정을 늘리거나 파일을 나누세요.",
        )
    parser = parser_for(path)
    try:
        with open(path, "rb"):
            pass
    except PermissionError:
        raise ParseError(path, "읽기 권한이 없습니다. 파일 권한을 확인하세요.") from None
    try:
        doc = parser.parse(path)
    except (ParseError, MemoryError):
        raise   # a MemoryError is the memory budget's to report (assistant.ingest.budget)
    except RecursionError as exc:
        _log_failure(path, parser, exc)
        raise ParseError(path, "문서 구조가 비정상적으로 깊게 겹쳐 있어 읽을 수 없습니다. "
                               "원본 프로그램에서 열어 다시 저장한 뒤 올려 주세요.") from exc
    except Exception as exc:  # a library failing on malformed input: its message is for the log only
        _log_failure(path, parser, exc)
        raise ParseError(path, parser.damaged_reason()) from exc
    return _normalised(doc)


def _log_failure(path: Path, parser: Parser, exc: BaseException) -> None:
    log.warning("%s parser failed on %s: %s: %.300s", parser.doc_type, path, type(exc).__name__, exc)
    log.debug("traceback of the %s parser on %s", parser.doc_type, path, exc_info=exc)


def _normalised(doc: ParsedDocument) -> ParsedDocument:
    from dataclasses import replace

    blocks = [
        replace(b, text=nfc(b.text), heading_path=tuple(nfc(h) for h in b.heading_path),
                article=nfc(b.article) if b.article else None)
        for b in doc.blocks
        if b.text.strip()
    ]
    meta = {nfc(k): (nfc(v) if isinstance(v, str) else v) for k, v in doc.metadata.items()}
    return ParsedDocument(source=nfc(doc.source), title=nfc(doc.title).strip(),
                          doc_type=doc.doc_type, blocks=blocks, metadata=meta)
