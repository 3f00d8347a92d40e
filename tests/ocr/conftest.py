"""OCR tests need Tesseract with its Korean model; `make test` installs them (system-deps). Without them
these tests fail with that message instead of skipping: a machine that cannot OCR must not pass."""

from __future__ import annotations

import pytest
from render_pages import require_tesseract


@pytest.fixture(scope="session", autouse=True)
def tesseract_installed():
    require_tesseract()
