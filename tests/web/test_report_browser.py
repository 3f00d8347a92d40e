"""Browser test of the drafting modes: a 민원 reply and a 보고서 drafted in the chat page of the real server
(Playwright + Debian chromium), each downloaded as HWPX and DOCX and opened back with the project's parsers."""

from __future__ import annotations

import pytest
from test_web_browser import CHROMIUM, ask, browser, page_for, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it)")


def _download(page, answer, fmt: str, tmp_path):
    with page.expect_download() as dl:
        answer.get_by_role("button", name=f"{fmt.upper()} 내려받기").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    return path


def test_draft_a_reply_and_a_report_and_open_both_downloads(page_for, tmp_path):  # noqa: F811
    from assistant.ingest.base import parse_file

    page = page_for("officer")
    page.locator('label[for="mode-draft"]').click()
    reply = ask(page, "청사 민원인 주차장은 몇 시까지 무료인가요? 연락처 010-2345-6789")
    assert "민원인께서는" in reply.locator(".answer").inner_text()
    for fmt in ("hwpx", "docx"):
        text = "\n".join(b.text for b in parse_file(_download(page, reply, fmt, tmp_path)).blocks)
        assert "민원인께서는" in text and "010-2345-6789" not in text, fmt

    page.locator('label[for="mode-report"]').click()
    page.locator("#scope-docs summary").click()
    page.fill("#doc-filter", "주차장")
    page.locator("#doc-options label:not([hidden]) input").first.check()
    page.keyboard.press("Escape")
    report = ask(page, "청사 민원인 주차장 운영 현황 보고")
    shown = report.locator(".answer").inner_text()
    assert "개요(추진 배경)" in shown and "붙임" in shown and "출처 목록" in shown
    assert report.locator(".cite").count() >= 1                      # [n] markers link to the sources
    shot(page, "30_report_draft")
    for fmt in ("hwpx", "docx"):
        path = _download(page, report, fmt, tmp_path)
        assert path.name.startswith("보고서_초안_") and path.suffix == f".{fmt}", path.name
        parsed = parse_file(path)   # the DOCX reader files "1. 개요…" (a Word heading) under heading_path
        text = "\n".join(" ".join((*b.heading_path, b.text)) for b in parsed.blocks)
        assert "개요(추진 배경)" in text and "청사 주차장 이용 안내" in text and text.rstrip().endswith("끝."), fmt
