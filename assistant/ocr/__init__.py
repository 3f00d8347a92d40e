"""OCR engines, registered by name like parsers and embedders.

An engine turns one page image into located text: paragraphs and table rows, each word with the engine's
confidence. The parsers of scanned PDFs and image files (assistant.ingest.pdf, assistant.ingest.image) ask
:func:`get_engine` for the engine named by the ``ocr_engine`` setting; "none" turns OCR off. The default is
Tesseract with its Korean model (assistant.ocr.tesseract); an OpenAI-compatible vision model or a
commercial engine is added by registering another factory under its own name.

What a parse is allowed to spend on OCR (pages, seconds per page, the low-confidence threshold) travels in
:class:`OcrOptions`, set for the duration of one parse with :func:`using_options` (the budgeted parse worker
does this from the settings). Long OCR runs report each finished page through :func:`report_progress`, which
the worker forwards to its parent: that both extends the parse's time budget and lets the web app show
progress.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from assistant.registry import OCR_ENGINES as BUILTIN_OCR_ENGINES
from assistant.registry import Registry

#: the note shown wherever a passage comes from a page the engine was unsure about
LOW_CONFIDENCE_NOTE = "OCR 인식 신뢰도 낮음"


class OcrUnavailable(Exception):
    """The engine cannot run on this machine; ``str()`` is a sentence for people (what to install)."""


@dataclass(frozen=True)
class OcrOptions:
    """What one parse may spend on OCR; the defaults mirror assistant.config.Settings."""

    engine: str = "tesseract"
    language: str = "kor"
    dpi: int = 300
    max_pages: int = 200
    low_confidence: float = 70.0
    min_text_chars: int = 20


@dataclass(frozen=True)
class OcrBlock:
    """A paragraph, or a table as rows of cells, with its top edge on the page (for reading order)."""

    text: str
    kind: str = "paragraph"          # "paragraph" | "table"
    top: int = 0
    rows: tuple[tuple[str, ...], ...] = ()


@dataclass
class OcrPage:
    """One recognised page. ``confidence`` is 0–100 (character-weighted mean over words), None for a page
    without any recognised word."""

    blocks: list[OcrBlock] = field(default_factory=list)
    confidence: float | None = None
    rotation: float = 0.0            # degrees the image was turned before recognition (deskew, orientation)

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks if b.text.strip())


class OcrEngine(ABC):
    """One OCR backend. ``check`` says whether it can run here; ``read`` recognises one page image."""

    name: str = ""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`OcrUnavailable` with what to install when the engine cannot run."""

    @abstractmethod
    def read(self, image: Any, options: OcrOptions) -> OcrPage:
        """Recognise one page (a PIL image)."""

    @property
    def identity(self) -> str:
        """Engine and version, recorded with each OCR'd document."""
        return self.name


OcrFactory = Callable[[], OcrEngine]
#: OCR engines by name: built-ins in assistant.registry.OCR_ENGINES, plug-ins (a vision model behind an
#: OpenAI-compatible server, a commercial engine) in the "assistant.ocr_engines" entry-point group
OCR_ENGINES: Registry[OcrFactory] = Registry("OCR 엔진", BUILTIN_OCR_ENGINES, "assistant.ocr_engines")
_ENGINES: dict[str, OcrEngine] = {}
_LOCK = threading.Lock()


def register_ocr_engine(name: str) -> Callable[[OcrFactory], OcrFactory]:
    """Register an engine factory under ``name`` (usable as a class decorator)."""
    return OCR_ENGINES.register(name)


def registered_ocr_engines() -> list[str]:
    return OCR_ENGINES.names()


def get_engine(name: str) -> OcrEngine | None:
    """The engine registered as ``name`` (one instance per process), None for "none"/"".

    Raises :class:`OcrUnavailable` for an unknown name or an engine that cannot run here.
    """
    if name in ("", "none"):
        return None
    with _LOCK:
        engine = _ENGINES.get(name)
        if engine is None:
            factory = OCR_ENGINES.find(name)
            if factory is None:
                known = ", ".join(["none", *OCR_ENGINES.names()])
                raise OcrUnavailable(f"알 수 없는 OCR 엔진입니다: '{name}'. ASSISTANT_OCR_ENGINE은 {known} 중 "
                                     "하나여야 합니다.")
            engine = factory()
            engine.check()
            _ENGINES[name] = engine
    return engine


# ------------------------------------------------------------------ per-parse options and progress

_state = threading.local()


@contextmanager
def using_options(options: OcrOptions, progress: Callable[[int, int], None] | None = None) -> Iterator[None]:
    """Apply ``options`` (and a progress sink) to the OCR done by parses in this thread."""
    before = (getattr(_state, "options", None), getattr(_state, "progress", None))
    _state.options, _state.progress = options, progress
    try:
        yield
    finally:
        _state.options, _state.progress = before


def current_options() -> OcrOptions:
    options = getattr(_state, "options", None)
    if options is None:   # a parse outside the budgeted worker (tests, tools): the configured settings
        from assistant.config import load_settings

        options = options_of(load_settings())
    return options


def report_progress(done: int, total: int) -> None:
    """Tell whoever runs this parse that ``done`` of ``total`` OCR pages are finished."""
    sink = getattr(_state, "progress", None)
    if sink is not None:
        sink(done, total)


def options_of(settings: Any) -> OcrOptions:
    return OcrOptions(engine=settings.ocr_engine, language=settings.ocr_language, dpi=settings.ocr_dpi,
                      max_pages=settings.ocr_max_pages, low_confidence=settings.ocr_low_confidence,
                      min_text_chars=settings.ocr_min_text_chars)


# ------------------------------------------------------------------ the flag on low-confidence pages

def low_confidence_pages(metadata: dict[str, Any]) -> set[int]:
    """Pages of a document (from its metadata) whose OCR confidence was below the threshold."""
    ocr = metadata.get("ocr") if isinstance(metadata, dict) else None
    if not isinstance(ocr, dict):
        return set()
    return {int(p) for p in ocr.get("low_pages") or [] if str(p).isdigit()}


def flagged_location(location: str, page: int | None, low_pages: set[int]) -> str:
    """A chunk's location with the low-confidence note when its page is one of ``low_pages``."""
    if page is None or page not in low_pages or LOW_CONFIDENCE_NOTE in location:
        return location
    return f"{location} ({LOW_CONFIDENCE_NOTE})" if location else LOW_CONFIDENCE_NOTE
