"""Layout in a real browser at phone, tablet, laptop and desktop widths, and the dark theme.

Every page is opened as an administrator at 390, 768, 1366 and 1920 px: the page must not scroll sideways,
the menu must show whole labels, and on a phone the conversation list and the source panel must open and
close. Screenshots (layout_<width>_<page>.png, dark_<page>.png) go to the artifacts folder."""

from __future__ import annotations

import pytest
from test_web_browser import CHROMIUM, ask, browser, shot  # noqa: F401  (browser: the shared Playwright fixture)
from webtools import PASSWORD

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (make test installs it)")

SIZES = {390: 844, 768: 1024, 1366: 768, 1920: 1080}
NAV_LABELS = ["대화", "문서", "일괄 요약", "관리", "내 계정"]
PAGES = {  # name: (path, what shows once the page's script has loaded its data)
    "chat": ("/", "#conv-list li"),
    "documents": ("/documents", "#doc-table tbody tr"),
    "batch": ("/batch", "#jobs p, #jobs .job"),
    "admin": ("/admin", "#user-table tbody tr"),
    "account": ("/account", "#token-table tbody tr"),
    "docs": ("/docs", ".swagger-ui .opblock"),
}

# Each menu link: its text, whether it lies inside the window, whether its text is cut (wider than its box)
# and on how many lines the label is set (a label broken into syllables takes more than one).
NAV_STATE = """() => Array.from(document.querySelectorAll('nav.nav a')).map((a) => {
  const r = a.getBoundingClientRect(), range = document.createRange();
  range.selectNodeContents(a);
  const lines = new Set(Array.from(range.getClientRects()).map((x) => Math.round(x.top))).size;
  return {text: a.textContent.trim(), inside: r.width > 0 && r.left >= 0 && r.right <= innerWidth + 0.5,
          cut: a.scrollWidth > a.clientWidth, lines};
})"""
SIDEWAYS = "() => ({scroll: document.documentElement.scrollWidth, width: window.innerWidth})"

# WCAG contrast of an element's text against the first opaque background behind it.
CONTRAST = """(selectors) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = {};
  for (const sel of selectors) {
    const el = document.querySelector(sel);
    if (!el) { out[sel] = null; continue; }
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    out[sel] = Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100;
  }
  return out;
}"""
CHAT_TEXT = ["body", ".nav a", ".nav a[aria-current]", ".btn", ".segmented input:checked + label", ".msg-meta",
             ".answer", ".answer .support", ".cite", ".sources li button", ".composer-hint", "#prompt",
             ".who .badge", "#panel-text mark"]
DOCUMENTS_TEXT = ["#doc-table td", "#doc-table th", ".badge.lv-공개", ".badge.lv-내부", ".dropzone strong",
                  ".level-hint", "h1"]


def open_as(browser, url: str, username: str, width: int, height: int, **context):  # noqa: F811
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR", **context)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.on("dialog", lambda d: d.dismiss())
    page.goto(url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#prompt")
    page.wait_for_selector("#conv-list li", state="attached")  # the page's script has run: Enter sends
    return ctx, page


def assert_fits(page, where: str) -> None:
    size = page.evaluate(SIDEWAYS)
    assert size["scroll"] <= size["width"], f"{where}: the page scrolls sideways ({size})"


def assert_menu_whole(page, where: str) -> None:
    links = page.evaluate(NAV_STATE)
    assert [link["text"] for link in links] == NAV_LABELS, where
    for link in links:
        assert link["inside"] and not link["cut"] and link["lines"] == 1, f"{where}: menu label {link}"


@pytest.mark.parametrize("width", list(SIZES))
def test_every_page_fits_the_width_with_a_whole_menu(browser, live_server, width):  # noqa: F811
    url, height = live_server["url"], SIZES[width]
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
    page = ctx.new_page()
    page.goto(url + "/login")
    page.wait_for_selector("#username")
    assert_fits(page, f"login {width}")
    shot(page, f"layout_{width}_login")
    ctx.close()

    ctx, page = open_as(browser, url, "admin", width, height)
    for name, (path, ready) in PAGES.items():
        page.goto(url + path)
        page.wait_for_selector(ready, state="attached")
        assert_fits(page, f"{name} {width}")
        if name != "docs":  # the API reference is a bare Swagger page without the app's menu
            assert_menu_whole(page, f"{name} {width}")
        shot(page, f"layout_{width}_{name}")
    ctx.close()


def test_phone_reaches_the_conversation_list_and_closes_the_source_panel(browser, live_server):  # noqa: F811
    ctx, page = open_as(browser, live_server["url"], "admin", 390, 844)
    sidebar, panel = page.locator("#sidebar"), page.locator("#panel")
    assert not sidebar.is_visible()  # a drawer on a phone, closed at first
    answer = ask(page, "민원 처리기간은 어떻게 계산하나요?")
    assert_fits(page, "chat 390, answer")
    shot(page, "layout_390_chat_answer")
    answer.locator(".cite").first.click()
    close = page.get_by_role("button", name="출처 닫기")
    page.wait_for_function("() => { const r = document.getElementById('panel').getBoundingClientRect();"
                           " return r.left >= 0 && r.right <= innerWidth + 0.5; }")  # slid fully in
    assert panel.is_visible() and close.is_visible() and close.bounding_box()["x"] >= 0
    assert "민원 처리에 관한 법률" in page.inner_text("#panel-title")
    assert_fits(page, "chat 390, source open")
    shot(page, "layout_390_chat_source")
    close.click()
    page.wait_for_selector("#panel", state="hidden")
    assert page.locator("#scrim").is_hidden()

    toggle = page.get_by_role("button", name="대화 목록", exact=True)
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.wait_for_function("() => document.getElementById('sidebar').getBoundingClientRect().left >= 0")
    assert toggle.get_attribute("aria-expanded") == "true"
    item = page.locator("#conv-list .conv-open").first
    assert item.is_visible() and "민원 처리기간" in item.inner_text()
    assert_fits(page, "chat 390, list open")
    shot(page, "layout_390_chat_list")
    page.keyboard.press("Escape")  # Escape closes the drawer
    page.wait_for_selector("#sidebar", state="hidden")
    toggle.click()
    item.click()  # opening a conversation closes the drawer and shows it
    page.wait_for_selector("#sidebar", state="hidden")
    page.wait_for_selector(".msg-assistant .cite")
    ctx.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_theme_follows_the_system_setting_with_readable_contrast(browser, live_server, scheme):  # noqa: F811
    ctx, page = open_as(browser, live_server["url"], "officer", 1366, 768, color_scheme=scheme)
    ask(page, "질의민원은 며칠 안에 처리해야 하나요?")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    dark = sum(int(c) for c in background[background.index("(") + 1:-1].split(",")[:3]) < 3 * 60
    assert dark == (scheme == "dark"), background
    page.locator(".msg-assistant .cite").first.click()
    page.wait_for_selector("#panel-text mark")
    ratios = page.evaluate(CONTRAST, CHAT_TEXT)
    low = {sel: r for sel, r in ratios.items() if r is None or r < 4.5}
    assert not low, f"{scheme}: text below 4.5:1 contrast: {low}"
    shot(page, f"{scheme}_chat")
    page.goto(live_server["url"] + "/documents")
    page.wait_for_selector("#doc-table tbody tr")
    ratios = page.evaluate(CONTRAST, DOCUMENTS_TEXT)
    low = {sel: r for sel, r in ratios.items() if r is None or r < 4.5}
    assert not low, f"{scheme} documents: text below 4.5:1 contrast: {low}"
    shot(page, f"{scheme}_documents")
    ctx.close()
