"""OCR tests need Tesseract with its Korean model; `make test` installs them (system-deps). Without them
these tests fail with that message instead of skipping: a machine that cannot OCR must not pass."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def tesseract_installed():
    from assistant.ocr import OcrUnavailable, get_engine

    try:
        get_engine("tesseract")
    except OcrUnavailable as exc:
        pytest.fail(f"{exc} (run `make system-deps`)", pytrace=False)
