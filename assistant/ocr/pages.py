"""Pages → blocks: the part of OCR the PDF and image parsers share.

Each page image is recognised by the configured engine; its paragraphs and table rows become blocks that
keep the page number, and the document's metadata records the engine, every page's confidence and the pages
below the low-confidence threshold (shown as "OCR 인식 신뢰도 낮음" in the document list and in citations).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.errors import ParseError
from assistant.ocr import OcrEngine, OcrOptions, OcrUnavailable, current_options, get_engine, report_progress
from assistant.types import Block

log = logging.getLogger(__name__)

PageImage = tuple[int, Callable[[], Any]]     # (1-based page number, a function returning its PIL image)


def engine_for(path: Path, what: str) -> tuple[OcrEngine, OcrOptions]:
    """The configured engine, or a ParseError saying why ``what`` cannot be read without one."""
    options = current_options()
    try:
        engine = get_engine(options.engine)
    except OcrUnavailable as exc:
        raise ParseError(path, f"{what}: {exc}") from None
    if engine is None:
        raise ParseError(path, f"{what}: OCR(문자 인식)이 꺼져 있습니다 (ASSISTANT_OCR_ENGINE=none). "
                               "관리자에게 OCR 사용을 요청하거나, 텍스트가 든 파일로 다시 올려 주세요.")
    return engine, options


def check_page_count(path: Path, count: int, options: OcrOptions) -> None:
    if count > options.max_pages:
        raise ParseError(path, f"OCR(문자 인식)이 필요한 쪽이 {count:,}쪽으로 한 파일의 한도"
                               f"({options.max_pages:,}쪽)를 넘습니다. "
                               f"파일을 {options.max_pages:,}쪽 이하로 나누어 올리거나 관리자에게 "
                               "ASSISTANT_OCR_MAX_PAGES 조정을 요청하세요.")


def ocr_pages(path: Path, pages: Sequence[PageImage], engine: OcrEngine,
              options: OcrOptions) -> tuple[list[Block], dict[str, Any], list[str]]:
    """Blocks of the recognised pages, the ``ocr`` metadata entry, and warnings for people."""
    blocks: list[Block] = []
    confidences: dict[str, float | None] = {}
    report_progress(0, len(pages))
    for done, (number, load) in enumerate(pages, 1):
        page = engine.read(load(), options)
        confidences[str(number)] = page.confidence
        for b in page.blocks:
            blocks.append(Block(b.text, kind="table" if b.kind == "table" else "paragraph", page=number))
        report_progress(done, len(pages))
    low = [int(n) for n, c in confidences.items() if c is not None and c < options.low_confidence]
    meta = {"engine": engine.identity, "pages": confidences, "low_pages": sorted(low),
            "threshold": options.low_confidence}
    warnings = []
    if low:
        shown = ", ".join(str(n) for n in sorted(low)[:10]) + (" 등" if len(low) > 10 else "")
        warnings.append(f"OCR 인식 신뢰도가 낮은 쪽이 있습니다 ({shown}쪽). 이 쪽의 내용은 원본과 대조해 확인하세요.")
    log.info("OCR %s: %d pages, confidence %s", path.name, len(pages), confidences)
    return blocks, meta, warnings
