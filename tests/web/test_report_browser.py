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
    _choose_document(page, "주차장")
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


def test_a_press_release_drafted_in_the_browser_carries_the_typed_agency_and_release_time(page_for, tmp_path):  # noqa: F811
    from assistant.ingest.base import parse_file

    page = page_for("officer")
    assert page.locator("#report-options").is_hidden()            # only in 보고서 초안 mode
    page.locator('label[for="mode-report"]').click()
    assert page.locator("#report-options").is_visible() and page.locator("#press-fields").is_hidden()
    page.get_by_label("보도자료", exact=True).check()
    assert page.locator("#press-fields").is_visible()
    page.get_by_label("기관", exact=True).fill("행정안전부")
    page.get_by_label("보도 일시", exact=True).fill("2026-12-05T14:30")
    page.get_by_label("담당자", exact=True).fill("민원제도과 김민원 사무관(044-205-1234)")
    assert page.locator("#press-released-text").inner_text() == "→ 2026. 12. 5. 14:30"   # the official notation
    _choose_document(page, "주차장")
    release = ask(page, "청사 민원인 주차장 운영 안내")
    shown = release.locator(".answer").inner_text()
    assert "기관: 행정안전부" in shown and "보도 일시: 2026. 12. 5. 14:30" in shown
    assert "민원제도과 김민원 사무관(044-205-1234)" in shown and "【기관명】" not in shown  # an office number stays
    assert "보도자료 초안" in release.locator(".meta-line").inner_text()
    shot(page, "31_press_release_draft")
    path = _download(page, release, "hwpx", tmp_path)
    text = "\n".join(b.text for b in parse_file(path).blocks)
    assert "행정안전부" in text and "2026. 12. 5. 14:30" in text
    # back to a 보고서: the 보도자료 fields hide again and are not sent
    page.get_by_label("보고서", exact=True).check()
    assert page.locator("#press-fields").is_hidden()


def _choose_document(page, words: str) -> None:
    """Limit the draft to the first document whose name matches ``words`` (the 문서 선택 list)."""
    page.locator("#scope-docs summary").click()
    page.fill("#doc-filter", words)
    page.locator("#doc-options label:not([hidden]) input").first.check()
    page.keyboard.press("Escape")
