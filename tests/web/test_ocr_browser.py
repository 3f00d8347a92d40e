"""Scanned documents in the web app: an image-only PDF and a JPEG photo of a printed 공문 are uploaded, read
by OCR in the background (the job shows page progress), and become searchable and citable by page; the page
OCR read unsurely carries "OCR 인식 신뢰도 낮음" in the document list and in citations.

The pages are rendered by tests/ocr/render_pages.py (real corpus text, two fonts, a ruled table, a 결재
block); nothing is mocked: the real server on loopback, the real parse worker with Tesseract, Debian chromium.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from webtools import REPO, add_users_cli, cli_env, login, serving

sys.path.insert(0, str(REPO / "tests" / "ocr"))
from render_pages import FONTS, SHEETS, faded, noisy, render, require_tesseract, save_pdf  # noqa: E402

from assistant.ocr import LOW_CONFIDENCE_NOTE  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
SCAN_NAME = "스캔공문_복지안내"
PHOTO_NAME = "공문사진_생활안정자금"


@pytest.fixture(scope="module", autouse=True)
def tesseract_installed():
    require_tesseract()


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, Path]:
    """A three-page image-only PDF (a clean page, a scanner-noisy page, a faded page OCR is unsure of) and
    a phone-like JPEG photo of a printed 공문."""
    folder = tmp_path_factory.mktemp("scans")
    clean = render(SHEETS[0], FONTS[0])
    housing = render(SHEETS[2], FONTS[1])
    knee = render(SHEETS[1], FONTS[0])
    pdf = save_pdf([clean.image, noisy(housing.image, seed=2), faded(knee.image, seed=1)],
                   folder / f"{SCAN_NAME}.pdf")
    loan = render(SHEETS[4], FONTS[1])
    photo = folder / f"{PHOTO_NAME}.jpg"
    shot = noisy(loan.image, seed=4, angle=-0.8)
    shot.resize((shot.width * 2 // 3, shot.height * 2 // 3)).convert("RGB").save(photo, quality=80)
    return {"pdf": pdf, "photo": photo}


# ------------------------------------------------------------------ the job reports OCR pages (API)

def test_an_upload_job_reports_ocr_page_progress_and_records_it(make_app, scans):
    from fastapi.testclient import TestClient

    with TestClient(make_app(private_index=True, upload_max_mb=20)) as c:
        login(c, "officer")
        pdf = scans["pdf"]
        r = c.post("/api/documents", files=[("files", (pdf.name, pdf.read_bytes(), "application/pdf"))],
                   data={"access_level": "내부"})
        assert r.status_code == 200, r.text
        job_id = r.json()["job"]["id"]
        messages: list[str] = []
        fractions: list[float] = []
        deadline = time.monotonic() + 300
        while True:                       # poll until the job ends; every state seen on the way is kept
            job = c.get(f"/api/jobs/{job_id}").json()
            messages.append(job["message"])
            fractions.append(job["progress"])
            if job["status"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        item = job["items"][0]
        assert item["status"] == "ok", item
        # the record kept in the job row: all three pages read, a report per page plus the start
        assert item["ocr"] == {"done": 3, "total": 3, "reports": 4}, item
        shown = [m for m in messages if re.search(rf"{re.escape(pdf.name)} OCR [0-3]/3쪽", m)]
        assert shown, messages            # each page takes seconds: the running job shows its page count
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        # page numbers are kept and the faded page carries the flag
        hits = c.post("/api/search", json={"query": "농어촌 장애인 주택 개조 지원 한도", "k": 5}).json()["hits"]
        assert any(h["title"] == SCAN_NAME and h["location"].startswith("2쪽") for h in hits), hits
        listed = [d for d in c.get("/api/documents").json()["documents"] if d["title"] == SCAN_NAME]
        assert listed and listed[0]["ocr_low_pages"] == [3], listed


# ------------------------------------------------------------------ the browser

@pytest.fixture(scope="module")
def ocr_server(web_index, tmp_path_factory):
    """``assistant serve`` on a private copy of the web index (these uploads must not change what other
    tests find), with 20 MB uploads for scans."""
    root = tmp_path_factory.mktemp("ocr-live")
    index = root / "indexes"
    shutil.copytree(web_index, index)
    data_dir = root / "data"
    data_dir.mkdir()
    env = cli_env(index, data_dir, ASSISTANT_UPLOAD_MAX_MB="20")
    add_users_cli(env)
    with serving(env, data_dir / "server.log") as (url, proc, _ready):
        yield {"url": url, "proc": proc, "data_dir": data_dir}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _log_in(browser, url: str, username: str = "officer"):
    from webtools import PASSWORD

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#prompt")
    page.wait_for_selector("#conv-list li", state="attached")   # the page's script has run
    return ctx, page


def _ask(page, question: str):
    before = page.locator(".msg-assistant").count()
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_function("n => document.querySelectorAll('.msg-assistant').length > n", arg=before)
    page.wait_for_selector(".msg-assistant:last-child .msg-tools:not([hidden])", timeout=60_000)
    return page.locator(".msg-assistant").last


def _sources(answer) -> list[str]:
    return [t.strip() for t in answer.locator(".sources li").all_inner_texts()]


def test_a_scanned_pdf_and_a_photo_are_searchable_and_cited_by_page(browser, ocr_server, scans):
    ctx, page = _log_in(browser, ocr_server["url"])
    try:
        page.get_by_role("navigation").get_by_role("link", name="문서", exact=True).click()
        page.wait_for_selector("#doc-table tbody tr")
        page.set_input_files("#files", [str(scans["pdf"]), str(scans["photo"])])
        page.click("#upload-btn")
        # the job runs in the background; while it reads the scan its status line shows the pages done (each
        # page takes seconds, the page polls every second)
        running = page.locator("#upload-status .job .row .muted").filter(
            has_text=re.compile(rf"{re.escape(SCAN_NAME)}\.pdf OCR [0-3]/3쪽"))
        running.wait_for(timeout=120_000)
        page.wait_for_selector("#upload-status .badge.st-done", timeout=300_000)
        status = page.inner_text("#upload-status")
        assert page.locator("#upload-status .job-items .badge.st-ok").count() == 2, status
        assert f"{SCAN_NAME}.pdf" in status and f"{PHOTO_NAME}.jpg" in status
        assert "OCR 3/3쪽" in status and "OCR 1/1쪽" in status      # pages read, kept in the job's items

        # the document list flags the page OCR read unsurely, and only on that document
        page.fill("#doc-search", SCAN_NAME)
        row = page.locator("#doc-table tbody tr", has_text=SCAN_NAME)
        row.wait_for()
        flag = row.locator(".ocr-low")
        assert flag.is_visible() and flag.inner_text() == f"{LOW_CONFIDENCE_NOTE} (3쪽)"
        page.screenshot(path=str(ocr_server["data_dir"] / "ocr_documents.png"))
        page.fill("#doc-search", PHOTO_NAME)
        photo_row = page.locator("#doc-table tbody tr", has_text=PHOTO_NAME)
        photo_row.wait_for()
        assert photo_row.locator(".ocr-low").count() == 0

        page.get_by_role("navigation").get_by_role("link", name="대화", exact=True).click()
        page.wait_for_selector("#conv-list li", state="attached")
        # the answer is on page 2 of the scan (a noisy page, read confidently)
        answer = _ask(page, "농어촌에 사는 장애인이 집을 고치면 한 집에 얼마까지 지원되나요?")
        assert "380" in answer.locator(".answer").inner_text()
        cited = _sources(answer)
        assert any(SCAN_NAME in s and re.search(r"· 2쪽$", s) for s in cited), cited
        # the photo of a printed 공문 (one page) is cited too
        answer = _ask(page, "월급이 많이 줄어든 근로자가 생계비를 융자받을 수 있는 조건은?")
        assert "생계비" in answer.locator(".answer").inner_text()
        assert any(PHOTO_NAME in s and s.endswith("· 1쪽") for s in _sources(answer)), _sources(answer)
        # the faded page 3: its passage is cited with the flag, in the list and in the source panel
        answer = _ask(page, "무릎 인공관절 수술을 받는 어르신은 수술비를 얼마나 지원받나요?")
        flagged = [s for s in _sources(answer) if SCAN_NAME in s and "3쪽" in s]
        assert flagged and all(LOW_CONFIDENCE_NOTE in s for s in flagged), _sources(answer)
        answer.locator(".sources li button", has_text="3쪽").first.click()
        assert LOW_CONFIDENCE_NOTE in page.inner_text("#panel-loc")
        page.screenshot(path=str(ocr_server["data_dir"] / "ocr_citation.png"))
    finally:
        ctx.close()
