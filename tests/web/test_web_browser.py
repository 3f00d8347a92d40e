"""Browser tests: Playwright driving Debian's chromium (headless, no sandbox, no background networking)
against the real server. Screenshots go to $ASSISTANT_TEST_ARTIFACTS (default: <tmp>/artifacts/web)."""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import httpx
import pytest
from webtools import PASSWORD, SECRET_PHRASE

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ASSISTANT_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "artifacts" / "web"))
RESTRICTED_TITLE = "2027년 특별감사 계획 (감사관실 한정)"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                              args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"])
        yield b
        b.close()


@pytest.fixture()
def page_for(browser, live_server):
    contexts = []

    def open_as(username: str, width: int = 1280, height: int = 800):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR", accept_downloads=True)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.dialogs = dialogs
        page.goto(live_server["url"] + "/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_selector("#prompt")
        page.wait_for_selector("#conv-list li", state="attached")  # the page's script has run: Enter sends
        return page

    yield open_as
    for ctx in contexts:
        ctx.close()


def nav(page, label: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=label, exact=True).click()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


# Records, from the moment the question is sent, that the answer was shown in its streaming state and how
# many times its text changed. A fast answer can stream and finish between two Playwright polls, so
# waiting for the ``.streaming`` selector alone was flaky; a MutationObserver sees every state.
WATCH_STREAM = """() => {
  window.__stream = {streaming: false, updates: 0};
  const box = document.getElementById("messages-inner");
  new MutationObserver(() => {
    const answer = box.querySelector(".msg-assistant:last-child .answer");
    if (!answer) return;
    if (answer.classList.contains("streaming")) window.__stream.streaming = true;
    window.__stream.updates += 1;
  }).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def ask(page, question: str):
    page.evaluate(WATCH_STREAM)
    page.fill("#prompt", question)
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg-assistant:last-child .msg-tools:not([hidden])")
    seen = page.evaluate("window.__stream")
    assert seen["streaming"] and seen["updates"] >= 2, seen
    return page.locator(".msg-assistant").last


def test_login_page_looks_right(browser, live_server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ko-KR")
    page = ctx.new_page()
    page.goto(live_server["url"] + "/")
    assert "/login" in page.url
    page.fill("#username", "officer")
    page.fill("#password", "wrong-password")
    page.keyboard.press("Enter")
    page.wait_for_selector(".notice.error")
    assert "올바르지 않습니다" in page.inner_text(".notice.error")
    shot(page, "01_login_error")
    ctx.close()


def test_ask_streams_an_answer_with_citations_and_opens_the_source(page_for):
    page = page_for("officer")
    shot(page, "02_chat_empty")
    answer = ask(page, "민원 처리기간은 어떻게 계산하나요?")
    cites = answer.locator(".answer .cite")
    assert cites.count() >= 1
    assert re.search(r"처리기간", answer.locator(".answer").inner_text())
    cites.first.click()
    panel = page.locator("#panel")
    assert panel.is_visible()
    assert "민원 처리에 관한 법률" in page.inner_text("#panel-title")
    assert page.locator("#panel-text mark").count() >= 1  # the cited sentence is highlighted in the source
    assert page.locator("#panel-file a").count() == 1  # the original file may be downloaded
    shot(page, "03_chat_answer_citation")
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    # the conversation is listed and survives a reload
    page.reload()
    page.wait_for_selector("#conv-list .conv-open")
    page.locator("#conv-list .conv-open").first.click()
    page.wait_for_selector(".msg-assistant .cite")
    # feedback with a comment
    page.locator(".msg-assistant").last.get_by_role("button", name="도움이 됨").click()
    page.locator(".feedback-form input").last.fill("근거 조문이 정확합니다")
    page.locator(".feedback-form button").last.click()
    page.wait_for_selector("text=의견을 보냈습니다")


def test_the_answer_leads_with_its_fact_and_more_comes_on_request(page_for):
    page = page_for("officer")
    answer = ask(page, "질의민원은 며칠 안에 처리해야 하나요?")
    lead = answer.locator(".answer .lead")
    assert lead.count() == 1 and "14일" in lead.inner_text()        # the period asked for, first
    assert lead.locator(".cite").first.inner_text() == "1"           # sources numbered in order of first use
    sources = answer.locator(".sources li")
    assert sources.count() >= 1 and "제14조" in sources.first.inner_text()   # the precise article (and 호)
    lead.locator(".cite").first.click()
    marked = " ".join(page.locator("#panel-text mark").all_inner_texts())
    assert "14일 이내" in marked                                    # the exact quote is highlighted
    shot(page, "03b_answer_first")
    short = len(answer.locator(".answer").inner_text())
    answer.get_by_role("button", name="자세히").click()
    page.wait_for_function("() => document.querySelectorAll('.msg-assistant').length >= 2 && "
                           "!document.querySelector('.msg-assistant:last-child .msg-tools').hidden")
    more = page.locator(".msg-assistant").last
    assert len(more.locator(".answer").inner_text()) > short         # the longer answer to the same question
    shot(page, "03c_answer_detail")


def test_laptop_width_layout(page_for):
    page = page_for("officer", width=1366, height=768)
    ask(page, "정보공개 청구는 언제까지 결정해야 하나요?")
    page.locator(".msg-assistant .cite").first.click()
    shot(page, "04_chat_laptop_1366")
    box = page.locator("#composer").bounding_box()
    assert box and box["y"] + box["height"] <= 768 + 1  # the input stays on screen


def test_upload_a_document_and_find_it_by_search(page_for, tmp_path):
    page = page_for("officer")
    doc = tmp_path / "무인민원발급기_안내.md"
    doc.write_text("# 무인민원발급기 설치 안내\n\n무인민원발급기는 본관 1층 로비와 별관 민원실에 설치되어 있다. "
                   "이용 시간은 오전 7시부터 오후 10시까지이다.\n", encoding="utf-8")
    bad = tmp_path / "목록.xlsx"   # spreadsheets are not read (images are, by OCR)
    bad.write_bytes(b"PK\x03\x04")
    nav(page, "문서")
    page.wait_for_selector("#doc-table tbody tr")
    page.set_input_files("#files", [str(doc), str(bad)])
    assert page.locator("#chosen li").count() == 2
    page.click("#upload-btn")
    page.wait_for_selector("#upload-status .badge.st-done", timeout=120_000)
    status = page.inner_text("#upload-status")
    assert "무인민원발급기_안내.md" in status and "지원하지 않는 파일 형식" in status
    page.fill("#doc-search", "무인민원발급기")
    page.wait_for_selector("#doc-table tbody tr >> text=무인민원발급기 설치 안내")
    shot(page, "05_documents_uploaded")
    nav(page, "대화")
    page.wait_for_selector("#prompt")
    answer = ask(page, "무인민원발급기는 어디에 설치되어 있나요?")
    assert "본관 1층" in answer.inner_text()
    answer.locator(".sources button").first.click()
    assert "무인민원발급기 설치 안내" in page.inner_text("#panel-title")


def test_an_oversize_file_is_refused_in_the_page_before_it_is_sent(page_for, tmp_path):
    page = page_for("officer")
    big = tmp_path / "큰보고서.txt"
    big.write_bytes("민원 ".encode() * (400 * 1024))       # 2.8 MB; the test server allows 1 MB per file
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and "/api/documents" in r.url else None)
    nav(page, "문서")
    page.wait_for_selector("#doc-table tbody tr")
    page.set_input_files("#files", [str(big)])
    page.click("#upload-btn")
    page.wait_for_selector("#upload-status >> text=파일이 너무 커서")
    assert "큰보고서.txt" in page.inner_text("#upload-status") and "최대 1MB" in page.inner_text("#upload-status")
    assert sent == []


def test_batch_summary_runs_to_completion_and_downloads(page_for, tmp_path):
    page = page_for("officer")
    files = []
    for i, topic in enumerate(["민원 처리 지연", "정보공개 운영"], 1):
        p = tmp_path / f"보고서{i}.md"
        p.write_text(f"# {topic} 개선 보고\n\n## 현황\n{topic} 관련 건수가 전년 대비 {10 + i}% 늘었다.\n\n"
                     f"## 대책\n담당자 교육을 연 {i + 1}회 실시하고 안내 문자를 도입한다.\n", encoding="utf-8")
        files.append(str(p))
    nav(page, "일괄 요약")
    page.set_input_files("#files", files)
    page.check('input[name="fmt"][value="hwpx"]')
    page.click("#batch-btn")
    page.wait_for_selector(".job[data-status='done'] >> text=결과 ZIP 내려받기", timeout=180_000)
    shot(page, "06_batch_done")
    with page.expect_download() as dl:
        page.locator(".job[data-status='done'] a").first.click()
    data = Path(dl.value.path()).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sum(n.endswith(".md") for n in names) >= 2 and sum(n.endswith(".hwpx") for n in names) == 2


def _restricted_doc_id(url: str) -> str:
    c = httpx.Client(base_url=url, timeout=30)
    page = c.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    c.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": token})
    docs = c.get("/api/documents").json()["documents"]
    return next(d["doc_id"] for d in docs if d["title"] == RESTRICTED_TITLE)


def test_user_without_clearance_cannot_see_the_restricted_document_anywhere(page_for, live_server):
    doc_id = _restricted_doc_id(live_server["url"])
    page = page_for("public")
    answer = ask(page, "2027년 특별감사 대상 부서와 청렴감사 암호명은?")
    assert SECRET_PHRASE not in answer.inner_text()
    assert RESTRICTED_TITLE not in page.content()
    page.click("#scope-summary")
    assert RESTRICTED_TITLE not in page.inner_text("#doc-options")
    shot(page, "07_public_user_chat")
    nav(page, "문서")
    page.wait_for_selector("#doc-table tbody tr")
    body = page.inner_text("#doc-table")
    assert RESTRICTED_TITLE not in body and "관용차량 운행 지침" not in body
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    r = page.request.get(f"{live_server['url']}/api/documents/{doc_id}/file")
    assert r.status == 404
    r = page.request.post(f"{live_server['url']}/api/search", headers={"X-CSRF-Token": csrf},
                          data={"query": "청렴감사 암호명", "k": 10})
    assert r.ok and SECRET_PHRASE not in r.text()
    r = page.request.post(f"{live_server['url']}/api/summarize", headers={"X-CSRF-Token": csrf},
                          data={"doc_id": doc_id})
    assert r.status == 404
    # the auditor does see it, so the checks above are meaningful
    auditor = page_for("auditor")
    answer = ask(auditor, "2027년 특별감사 대상 부서와 청렴감사 암호명은?")
    assert "도로관리과" in answer.inner_text()


def test_document_text_is_rendered_as_text_not_markup(page_for):
    page = page_for("officer")
    answer = ask(page, "청사 민원인 주차장 이용 시간은?")
    assert "오전 8시" in answer.inner_text()
    # now a question that retrieves the section holding the injected instruction and the markup
    answer = ask(page, "청사 주차장 알림에서 이전 지시를 무시하라고 한 내용은?")
    sources = answer.locator(".sources button")
    opened = False
    for i in range(sources.count()):
        sources.nth(i).click()
        if "<script>" in page.inner_text("#panel-text"):
            opened = True
            break
    assert opened, "the source holding the injection should be shown, as text"
    assert "이전 지시를 무시하고" in page.inner_text("#panel-text")
    assert page.locator("#panel-text img, #panel-text script, .answer img, .answer script").count() == 0
    assert page.evaluate("window.__pwned") is None and not page.dialogs
    assert not answer.locator(".answer").inner_text().rstrip().endswith("해킹 성공")
    shot(page, "08_injection_as_text")


def test_admin_pages(page_for):
    page = page_for("admin")
    nav(page, "관리")
    page.wait_for_selector("#user-table tbody tr")
    shot(page, "09_admin_users")
    page.click("#t-audit")
    page.wait_for_selector("#audit-table tbody tr")
    text = page.inner_text("#audit-table")
    assert "로그인" in text  # actions are shown in Korean (assistant/web/audit.py ACTIONS)
    shot(page, "10_admin_audit")
    page.click("#t-feedback")
    page.wait_for_selector("#fb-stats")
    page.goto(page.url.split("/admin")[0] + "/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    shot(page, "11_api_docs")


DUTY_TITLE = "당직근무 편성 안내"


def test_upload_starts_at_the_lowest_level_and_a_level_change_is_confirmed(page_for, tmp_path):
    from playwright.sync_api import expect

    page = page_for("officer")
    nav(page, "문서")
    page.wait_for_selector("#doc-table tbody tr")
    level = page.locator("#up-level")
    assert level.input_value() == "공개"  # the lowest of 공개/내부/부서
    assert level.locator("option").all_inner_texts() == ["공개", "내부"]  # not above the officer's own 내부
    level.select_option("내부")
    page.reload()
    page.wait_for_selector("#doc-table tbody tr")
    assert level.input_value() == "공개"  # the browser does not bring back the last choice

    doc = tmp_path / "당직근무_안내.md"
    doc.write_text(f"# {DUTY_TITLE}\n\n당직근무는 평일 오후 6시부터 다음 날 오전 9시까지 2명이 선다.\n",
                   encoding="utf-8")
    level.select_option("내부")
    page.set_input_files("#files", str(doc))
    page.click("#upload-btn")
    page.wait_for_selector("#upload-status .badge.st-done", timeout=120_000)
    assert level.input_value() == "공개"  # the next upload starts at the lowest level again
    row = page.locator("#doc-table tbody tr", has_text=DUTY_TITLE)
    expect(row.locator(".badge")).to_have_text("내부")

    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    select = row.get_by_label(f"'{DUTY_TITLE}' 열람 등급")
    dialog, text = page.locator("#level-dialog"), page.locator("#level-dialog-text")
    select.select_option("공개")
    expect(dialog).to_be_visible()
    expect(text).to_contain_text(DUTY_TITLE)
    expect(text).to_contain_text("'내부'에서 '공개'로")
    page.keyboard.press("Escape")  # Escape cancels like the button
    expect(dialog).to_be_hidden()
    expect(select).to_have_value("내부")
    select.select_option("공개")
    dialog.get_by_role("button", name="취소").click()
    expect(dialog).to_be_hidden()
    expect(select).to_have_value("내부")
    assert not patches  # nothing was sent while the change was not confirmed

    select.select_option("공개")
    dialog.get_by_role("button", name="등급 바꾸기").click()
    status = page.locator("#doc-status .notice.ok")
    expect(status).to_contain_text(f"'{DUTY_TITLE}'의 열람 등급을 '내부'에서 '공개'로 바꿨습니다")
    expect(row.locator(".badge")).to_have_text("공개")
    assert len(patches) == 1

    # 부서 names the department in the question, and the administrator may set another one
    admin = page_for("admin")
    nav(admin, "문서")
    row = admin.locator("#doc-table tbody tr", has_text=DUTY_TITLE)
    row.get_by_label(f"'{DUTY_TITLE}' 열람 등급").select_option("부서")
    dept, text = admin.locator("#level-dept"), admin.locator("#level-dialog-text")
    expect(dept).to_have_value("관리부서")
    dept.fill("민원과")
    expect(text).to_contain_text("'공개'에서 '부서 · 민원과'로")
    who = admin.locator("#level-dialog-who")
    expect(who).to_contain_text("'민원과' 소속")
    expect(who).to_contain_text("나도 더는 볼 수 없게 됩니다")  # the administrator is in 관리부서
    shot(admin, "12_level_confirm")
    admin.locator("#level-dialog").get_by_role("button", name="등급 바꾸기").click()
    status = admin.locator("#doc-status .notice.ok")
    expect(status).to_contain_text("'공개'에서 '부서 · 민원과'로 바꿨습니다")
    expect(status).to_contain_text("목록에 보이지 않습니다")
    expect(row).to_have_count(0)


MARKDOWN = """### 검토 결과
**굵게** 쓴 문장과 `코드`, 그리고 <img src=x onerror="window.__pwned = 3"> <b>태그</b> 표시.
둘째 줄

- 첫째 항목
- 둘째 항목
  이어지는 줄
1. 민원 요지
  가. 세부 사항
  나) 다른 사항

| 구분 | 기한 |
| --- | --- |
| 질의민원 | **14일** |
"""

RENDER = """(text) => {
  const box = document.createElement("div");
  box.className = "answer";
  box.append(window.renderMarkdown(text));
  document.body.append(box);
  const all = (sel) => Array.from(box.querySelectorAll(sel)).map((n) => n.textContent);
  return {elements: all("img, script, b, iframe").length, pwned: window.__pwned === undefined ? null : window.__pwned,
          strong: all("strong"), code: all("code"),
          headings: Array.from(box.querySelectorAll(".md-h")).map((n) => n.tagName),
          paragraphs: Array.from(box.querySelectorAll("p")).map((p) => p.innerText),
          items: Array.from(box.querySelectorAll(".md-body")).map((n) => n.innerText),
          marks: all(".md-mark"), nested: all(".md-list .md-list .md-mark"),
          bullets: box.querySelectorAll(".md-mark.bullet").length,
          th: all("th"), td: all("td")};
}"""


def test_answers_are_rendered_as_safe_markdown(page_for):
    page = page_for("officer")
    out = page.evaluate(RENDER, MARKDOWN)
    assert out["elements"] == 0 and out["pwned"] is None and not page.dialogs  # raw HTML stays text
    assert '<img src=x onerror="window.__pwned = 3"> <b>태그</b>' in out["paragraphs"][0]
    assert out["paragraphs"][0].startswith("굵게 쓴 문장과 코드") and out["paragraphs"][0].endswith("표시.\n둘째 줄")
    assert out["strong"] == ["굵게", "14일"] and out["code"] == ["코드"] and out["headings"] == ["H5"]
    assert out["bullets"] == 2 and "둘째 항목\n이어지는 줄" in out["items"]  # an indented line continues its item
    assert out["marks"][2:] == ["1.", "가.", "나)"] and out["nested"] == ["가.", "나)"]  # Korean marks kept as written
    assert out["th"] == ["구분", "기한"] and out["td"] == ["질의민원", "14일"]

    # a real 민원 답변 초안: its numbered sections and 가./나. items keep their marks, citations stay buttons
    page.locator("label[for=mode-draft]").click()
    answer = ask(page, "아파트 단지 앞 횡단보도에 신호등을 설치해 주세요. 언제까지 답을 받을 수 있나요?")
    marks = answer.locator(".answer .md-mark").all_inner_texts()
    assert {"1.", "2.", "가."} <= set(marks), marks
    assert answer.locator(".answer .md-list .cite").count() >= 1
    answer.locator(".answer .md-list .cite").first.click()
    assert page.locator("#panel").is_visible()
    assert answer.locator(".answer img, .answer script").count() == 0
    shot(page, "13_draft_markdown")


def test_a_reply_draft_downloads_as_hwpx_and_docx_that_open(page_for, live_server, tmp_path):
    from assistant.ingest.base import parse_file

    page = page_for("officer")
    page.locator('label[for="mode-draft"]').click()
    answer = ask(page, "정보공개를 청구하면 비용이 드는지 궁금합니다. 연락처 010-2345-6789")
    assert "민원인께서는" in answer.locator(".answer").inner_text()
    for fmt in ("hwpx", "docx"):
        with page.expect_download() as dl:
            answer.get_by_role("button", name=f"{fmt.upper()} 내려받기").click()
        name = dl.value.suggested_filename
        assert name.startswith("민원답변서_초안_") and name.endswith(f".{fmt}"), name
        path = tmp_path / name
        dl.value.save_as(path)
        text = "\n".join(b.text for b in parse_file(path).blocks)
        assert "민원인께서는" in text and "끝." in text and "010-2345-6789" not in text, fmt
    shot(page, "20_draft_downloads")
    refused = httpx.post(live_server["url"] + "/api/exports/draft-reply", json={"text": "초안", "format": "hwpx"})
    assert refused.status_code == 401
