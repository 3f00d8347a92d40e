"""Images of documents (.png, .jpg/.jpeg, .tif/.tiff) read by OCR: one page per image, per TIFF frame.

A photographed or scanned 공문 becomes searchable and citable by page like a PDF. Pillow opens the file
(EXIF rotation applied, each frame of a multi-page TIFF a page); the configured OCR engine reads it
(assistant.ocr). A broken image, an image too large to decode safely, or more frames than the OCR page
limit fail with a reason, and the batch goes on.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from assistant.errors import ParseError
from assistant.ingest.base import Parser, register
from assistant.ocr.pages import check_page_count, engine_for, ocr_pages
from assistant.types import ParsedDocument

#: pixels one page image may have (a 600 dpi A3 scan is ~70 M); Pillow's decompression-bomb check uses it
MAX_PIXELS = 120_000_000
_BROKEN = ("이미지 파일이 손상되었거나 형식이 맞지 않아 열 수 없습니다. 원본 이미지를 다시 저장하거나 "
           "PDF로 스캔해 올려 주세요.")


def _open(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            img.size  # noqa: B018 — the header is read here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ParseError(path, f"이미지가 너무 큽니다 (한 장 {MAX_PIXELS // 1_000_000:,}백만 화소 한도). "
                               "해상도를 300dpi 정도로 낮춰 다시 저장해 올려 주세요.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ParseError(path, _BROKEN) from exc
    if img.width * img.height > MAX_PIXELS:
        raise ParseError(path, f"이미지가 너무 큽니다 (한 장 {MAX_PIXELS // 1_000_000:,}백만 화소 한도). "
                               "해상도를 300dpi 정도로 낮춰 다시 저장해 올려 주세요.")
    return img


@register
class ImageParser(Parser):
    extensions = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
    doc_type = "image"
    damaged = _BROKEN

    def parse(self, path: Path) -> ParsedDocument:
        engine, options = engine_for(path, "이미지 파일은 OCR(문자 인식)로 읽습니다")
        img = _open(path)
        frames = int(getattr(img, "n_frames", 1) or 1)
        check_page_count(path, frames, options)

        def frame(n: int) -> Any:
            def load() -> Any:
                try:
                    img.seek(n)
                    return img.copy() if frames > 1 else _loaded(img)
                except (OSError, ValueError, SyntaxError) as exc:
                    raise ParseError(path, _BROKEN) from exc
            return load

        blocks, ocr, notes = ocr_pages(path, [(n + 1, frame(n)) for n in range(frames)], engine, options)
        if not any(b.text.strip() for b in blocks):
            raise ParseError(path, "이미지에서 글자를 찾지 못했습니다. 문서가 잘 보이게 다시 찍거나 "
                                   "스캔해 올려 주세요.")
        meta: dict[str, Any] = {"page_count": str(frames), "ocr": ocr}
        if notes:
            meta["warnings"] = notes
        return ParsedDocument(str(path), path.stem, self.doc_type, blocks, meta)


def _loaded(img: Any) -> Any:
    img.load()   # a truncated JPEG/PNG fails here, not inside the engine
    return img
