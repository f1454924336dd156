"""The chat widget end to end: Debian's chromium, driven by Playwright, against a real
``relaydesk serve`` on loopback. One browser for the module, one shared service; only the
outage and rate-limit tests start services of their own."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect, sync_playwright
from support.paths import ROOT
from support.served import API_KEY, RelayDeskServer, StaticSite

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
RELAY = "550 relay not permitted from outlook"
REPLY_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            "BROWSER TESTS SKIPPED: /usr/bin/chromium is missing — run `make system-deps` "
            "(apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Stack:
    service: RelayDeskServer
    allowed_site: StaticSite  # an origin in RELAYDESK_CORS_ORIGINS
    refused_site: StaticSite  # an origin that is not


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    service = RelayDeskServer(tmp_path_factory.mktemp("service"))
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text(
        "<!doctype html><html lang=en><head><title>Another site</title>"
        '<link rel="icon" href="data:,"></head><body><h1>Another site</h1>'
        f'<script src="{service.url}/widget.js" data-relaydesk-url="{service.url}" '
        'data-title="Mail help" async></script></body></html>'
    )
    with StaticSite(site) as allowed, StaticSite(site) as refused:
        service.env["RELAYDESK_CORS_ORIGINS"] = allowed.url
        with service:
            yield Stack(service, allowed, refused)


class Widget:
    """The widget on a page; locators pierce its (open) shadow root."""

    def __init__(self, page: Page) -> None:
        self.page = page
        host = page.locator("relaydesk-widget")
        self.launcher = host.locator(".launcher")
        self.panel = host.locator(".panel")
        self.input = host.locator("#rd-input")
        self.log = host.locator('[role="log"]')
        self.bots = host.locator(".msg.bot:not(.greeting)")
        self.users = host.locator(".msg.user")
        self.said = host.locator(".msg.user > p:not(.meta)")  # without "You said:" for readers
        self.alert = host.locator('[role="alert"]')
        self.actions = host.locator(".actions button")
        self.typing = host.locator(".typing")

    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def button(self, name: str) -> Locator:
        return self.panel.get_by_role("button", name=name, exact=True)

    def expect_reply(self, count: int) -> Locator:
        expect(self.bots).to_have_count(count, timeout=REPLY_TIMEOUT_MS)
        expect(self.typing).to_be_hidden()
        return self.bots.nth(count - 1)

    def say(self, text: str) -> Locator:
        before = self.bots.count()
        self.input.fill(text)
        self.input.press("Enter")
        return self.expect_reply(before + 1)

    def click(self, name: str) -> Locator:
        before = self.bots.count()
        self.button(name).click()
        return self.expect_reply(before + 1)

    def active(self) -> dict[str, Any]:
        """What has the keyboard focus inside the shadow root."""
        result: dict[str, Any] = self.page.evaluate(
            """() => {
              const el = document.querySelector('relaydesk-widget').shadowRoot.activeElement;
              if (!el) return {};
              const s = getComputedStyle(el);
              return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
                      text: el.textContent.trim(), label: el.getAttribute('aria-label'),
                      outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)};
            }"""
        )
        return result


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def api_get(service: RelayDeskServer, path: str) -> Any:
    request = urllib.request.Request(
        service.url + path, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


def helpful_count(service: RelayDeskServer) -> int:
    stats = api_get(service, "/v1/stats")
    return round(stats["feedback"] * (stats["helpful_rate"] or 0))


# -- the conversation ------------------------------------------------------------------


def test_steps_quick_replies_next_rung_reload_and_start_over(stack: Stack, page: Page) -> None:
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    first = widget.say(RELAY)
    expect(first.locator("ol > li").first).to_be_visible()
    assert first.locator("ol > li").count() >= 3
    expect(widget.actions).to_have_text(["Yes, it works", "Still failing", "Check my domain"])

    second = widget.click("Still failing")
    expect(widget.users.last).to_contain_text("Still failing")
    expect(second).to_contain_text("next likely cause")
    expect(second.locator("ol > li").first).to_be_visible()
    assert second.inner_text() != first.inner_text()

    page.reload()
    widget = Widget(page)
    widget.open()
    expect(widget.bots).to_have_count(2)
    expect(widget.said).to_have_text([RELAY, "Still failing"])
    expect(widget.actions).to_have_count(3)  # the live quick replies come back too

    widget.button("Start over").click()
    expect(widget.bots).to_have_count(0)
    expect(widget.users).to_have_count(0)
    expect(widget.input).to_be_focused()
    page.reload()
    widget = Widget(page)
    widget.open()
    expect(widget.users).to_have_count(0)
    assert page.evaluate("Object.keys(localStorage)") == []


def test_handoff_shows_the_reference(stack: Stack, page: Page) -> None:
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    reply = widget.say("I want to talk to a person")
    reference = reply.locator(".ref strong").inner_text()
    assert re.fullmatch(r"RD-\d{6}", reference)
    expect(reply).to_contain_text(f"Your reference is {reference}")
    open_ones = api_get(stack.service, "/v1/escalations?status=open")["items"]
    assert reference in json.dumps(open_ones)


def test_resolution_asks_and_stores_feedback(stack: Stack, page: Page) -> None:
    before = helpful_count(stack.service)
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.say(RELAY)
    done = widget.say("yes")
    expect(done).to_contain_text("Was this helpful?")
    feedback = widget.panel.get_by_role("group", name="Was this helpful?")
    expect(feedback.get_by_role("button")).to_have_text(["Yes", "No"])
    feedback.get_by_role("button", name="Yes").click()
    expect(widget.panel.locator(".note")).to_have_text("Thanks for your feedback!")
    expect(feedback).to_have_count(0)
    assert helpful_count(stack.service) == before + 1


def test_domain_field_goes_with_the_next_message(stack: Stack, page: Page) -> None:
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.button("Add my domain").click()
    domain = widget.panel.get_by_label("Check my domain")
    expect(domain).to_be_focused()
    domain.fill("bakery-hove.test")
    widget.input.fill("relay access denied")
    with page.expect_request(lambda r: r.url.endswith("/v1/chat")) as sent:
        widget.input.press("Enter")
    assert sent.value.post_data_json == {
        "message": "relay access denied",
        "domain": "bakery-hove.test",
        "session_id": None,
    }
    widget.expect_reply(1)
    expect(widget.users.last).to_contain_text("Domain: bakery-hove.test")
    expect(domain).to_be_hidden()
    with page.expect_request(lambda r: r.url.endswith("/v1/chat")) as sent:
        widget.input.fill("Thunderbird")
        widget.input.press("Enter")
    assert "domain" not in sent.value.post_data_json  # only the next message carries it
    widget.expect_reply(2)


# -- keyboard and accessibility ----------------------------------------------------------


def press_until(widget: Widget, key: str, text: str, limit: int = 20) -> None:
    for _ in range(limit):
        widget.page.keyboard.press(key)
        if widget.active().get("text") == text:
            return
    raise AssertionError(f"{key} never reached {text!r}; focus is on {widget.active()}")


def test_keyboard_only(stack: Stack, page: Page) -> None:
    before = helpful_count(stack.service)
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    expect(widget.launcher).to_be_visible()
    for _ in range(5):
        page.keyboard.press("Tab")
        if widget.active().get("cls") == "launcher":
            break
    focused = widget.active()
    assert focused["label"] == "Open chat: Mail help"
    assert focused["outline"] != "none" and focused["outlineWidth"] >= 2  # visible focus

    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    assert widget.active()["id"] == "rd-input"  # focus moved into the panel

    page.keyboard.type(RELAY)
    page.keyboard.press("Enter")
    widget.expect_reply(1)
    assert widget.active()["id"] == "rd-input"  # back in the input after the reply

    press_until(widget, "Shift+Tab", "Still failing")
    assert widget.active()["outline"] != "none"
    page.keyboard.press("Enter")
    expect(widget.expect_reply(2).locator("ol > li").first).to_be_visible()

    press_until(widget, "Shift+Tab", "Yes, it works")
    page.keyboard.press("Enter")
    widget.expect_reply(3)
    press_until(widget, "Shift+Tab", "Yes")
    page.keyboard.press("Enter")
    expect(widget.panel.locator(".note")).to_have_text("Thanks for your feedback!")
    assert helpful_count(stack.service) == before + 1

    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    assert widget.active()["cls"] == "launcher"  # focus went back to the launcher
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    expect(widget.bots).to_have_count(3)


AUDIT = """host => {
  const root = host.shadowRoot, problems = [];
  const byId = id => root.getElementById(id);
  const name = el => (el.getAttribute('aria-label')
    || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
         .map(id => byId(id) ? byId(id).textContent : '').join(' ')
    || el.textContent || '').trim();
  for (const b of root.querySelectorAll('button'))
    if (!name(b)) problems.push('button without a name: ' + b.outerHTML);
  for (const f of root.querySelectorAll('input, textarea, select')) {
    const labels = [...(f.labels || [])].map(l => l.textContent.trim()).filter(Boolean);
    if (!labels.length && !f.getAttribute('aria-label')) problems.push('unlabelled field #' + f.id);
  }
  const log = root.querySelector('[role="log"]');
  if (!log) problems.push('no role=log');
  else {
    if (log.getAttribute('aria-live') !== 'polite') problems.push('log is not aria-live=polite');
    if (!name(log)) problems.push('log has no name');
  }
  const dialog = root.querySelector('[role="dialog"]');
  if (!dialog || !name(dialog)) problems.push('panel is not a named dialog');
  for (const el of root.querySelectorAll('[aria-controls], [aria-labelledby], label[for]'))
    for (const id of (el.getAttribute('aria-controls') || el.getAttribute('aria-labelledby')
                      || el.getAttribute('for')).split(/\\s+/))
      if (!byId(id)) problems.push('reference to a missing id: ' + id);
  const ids = [...root.querySelectorAll('[id]')].map(e => e.id);
  if (new Set(ids).size !== ids.length) problems.push('duplicate ids');
  for (const group of root.querySelectorAll('[role="group"]'))
    if (!name(group)) problems.push('unnamed group');

  // WCAG AA contrast for every visible piece of text (all of it is under 18px).
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement || e.getRootNode().host) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of root.querySelectorAll('*')) {
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.data.trim());
    const box = el.getBoundingClientRect();
    if (!text || box.width <= 1 || el.disabled || el.closest('[disabled]')) continue;
    const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} on "${el.textContent.trim()}"`);
  }
  return problems;
}"""


def test_roles_labels_contrast_and_motion(stack: Stack, page: Page) -> None:
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.button("Add my domain").click()
    widget.say(RELAY)
    host = page.locator("relaydesk-widget")
    assert host.evaluate(AUDIT) == []
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(widget.button("Send message")).to_be_visible()

    # New messages are appended: earlier nodes stay put, so only new ones are announced.
    host.evaluate(
        """host => {
          const log = host.shadowRoot.querySelector('[role="log"]');
          window.__before = [...log.querySelectorAll('.msg')];
          window.__removed = [];
          new MutationObserver(ms => ms.forEach(m => m.removedNodes.forEach(
            n => n.classList && n.classList.contains('msg') && window.__removed.push(n))))
            .observe(log, {childList: true, subtree: true});
        }"""
    )
    widget.click("Still failing")
    assert page.evaluate("window.__removed.length") == 0
    assert page.evaluate("window.__before.every(n => n.isConnected)")
    assert host.evaluate(AUDIT) == []

    dot = widget.typing.locator("span").first
    assert dot.evaluate("e => getComputedStyle(e).animationName") == "rd-bounce"
    page.emulate_media(reduced_motion="reduce")
    assert dot.evaluate("e => getComputedStyle(e).animationName") == "none"


# -- safety and isolation --------------------------------------------------------------------

HOSTILE = (
    '<img src=x onerror="window.__pwned=1;alert(1)"> <script>window.__pwned=2;alert(2)</script>'
    " <svg onload=alert(3)></svg> relay denied"
)
INJECTED = """host => [
  ...host.shadowRoot.querySelectorAll('img, script, [onerror], [onload], iframe, object'),
  ...document.querySelectorAll('img, [onerror], [onload], iframe, object'),
].length + document.querySelectorAll('script').length - 1"""


def test_hostile_text_runs_nothing(stack: Stack, page: Page) -> None:
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.say(HOSTILE)
    expect(widget.said.last).to_have_text(HOSTILE)
    page.reload()  # the stored transcript is rendered again, just as safely
    widget = Widget(page)
    widget.open()
    expect(widget.said.last).to_have_text(HOSTILE)
    page.wait_for_timeout(300)
    host = page.locator("relaydesk-widget")
    assert host.evaluate(INJECTED) == 0
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []


def test_page_css_and_widget_css_stay_apart(stack: Stack, page: Page) -> None:
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.say("hello")
    style = "(e, p) => getComputedStyle(e)[p]"
    # The demo page sets `* { font: 30px serif; color: red }` and `button { display: none }`.
    bubble = widget.bots.last
    assert bubble.evaluate(style, "fontSize") == "15px"
    assert "serif" not in bubble.evaluate(style, "fontFamily").replace("sans-serif", "")
    assert bubble.evaluate(style, "color") == "rgb(17, 24, 39)"
    assert widget.launcher.evaluate(style, "display") != "none"
    assert widget.panel.evaluate(style, "transform") == "none"
    # ...and the widget's `.msg` and button rules don't touch the page.
    assert page.locator("#page-msg").evaluate(style, "fontSize") == "30px"
    assert page.locator("#page-msg").evaluate(style, "backgroundColor") == "rgb(0, 0, 0)"
    assert page.locator("#page-button").evaluate(style, "display") == "none"
    assert page.locator("#page-text").evaluate(style, "color") == "rgb(255, 0, 0)"


# -- failure and recovery ----------------------------------------------------------------------


def test_service_down_then_recovery(browser: Browser, tmp_path: Path) -> None:
    with RelayDeskServer(tmp_path) as service:
        context = browser.new_context()
        page = context.new_page()
        page.goto(service.url + "/")
        widget = Widget(page)
        widget.open()
        service.stop()
        widget.input.fill("hello")
        widget.input.press("Enter")
        expect(widget.alert).to_contain_text("can't reach the support service")
        retry = widget.alert.get_by_role("button", name="Retry")
        expect(retry).to_be_focused()
        expect(widget.users).to_have_count(1)
        expect(widget.bots).to_have_count(0)

        service.start()
        retry.click()
        widget.expect_reply(1)
        expect(widget.alert).to_be_empty()
        expect(widget.users).to_have_count(1)  # the retry didn't repeat the bubble
        context.close()


def test_typing_indicator_while_waiting(stack: Stack, page: Page) -> None:
    held: list[Route] = []
    page.route("**/v1/chat", lambda route: held.append(route))
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.input.fill("hello")
    widget.input.press("Enter")
    expect(widget.typing).to_be_visible()
    expect(widget.input).to_be_disabled()
    expect(widget.button("Send message")).to_be_disabled()
    expect(widget.log).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    widget.expect_reply(1)
    expect(widget.input).to_be_enabled()
    expect(widget.input).to_be_focused()
    expect(widget.log).to_have_attribute("aria-busy", "false")


def test_server_error_is_friendly(stack: Stack, page: Page) -> None:
    page.route(
        "**/v1/chat",
        lambda route: route.fulfill(status=503, body='{"error": {"code": "x", "message": "x"}}'),
    )
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.input.fill("hello")
    widget.input.press("Enter")
    expect(widget.alert).to_contain_text("Something went wrong on our side")
    page.unroute("**/v1/chat")
    widget.alert.get_by_role("button", name="Retry").click()
    widget.expect_reply(1)


def test_rate_limit_says_when_to_retry(browser: Browser, tmp_path: Path) -> None:
    with RelayDeskServer(tmp_path, RELAYDESK_CHAT_RATE_LIMIT="2/minute") as service:
        context = browser.new_context()
        page = context.new_page()
        page.goto(service.url + "/")
        widget = Widget(page)
        widget.open()
        widget.say("hello")
        widget.say("relay denied")
        widget.input.fill("still failing")
        widget.input.press("Enter")
        expect(widget.alert).to_contain_text("faster than we can answer")
        wait = int(re.findall(r"wait (\d+) seconds", widget.alert.inner_text())[0])
        assert 0 < wait <= 60
        expect(widget.alert.get_by_role("button", name="Retry")).to_be_disabled()
        expect(widget.input).to_be_enabled()
        context.close()


# -- another website's origin ------------------------------------------------------------------


def test_cors_allowed_origin_works(stack: Stack, page: Page) -> None:
    page.goto(stack.allowed_site.url + "/index.html")
    widget = Widget(page)
    widget.open()
    send = widget.button("Send message")
    assert send.evaluate("e => getComputedStyle(e).backgroundColor") == (
        "rgb(29, 78, 216)"  # widget.css came from the service, next to widget.js
    )
    reply = widget.say(RELAY)
    expect(reply.locator("ol > li").first).to_be_visible()
    expect(widget.alert).to_be_empty()


def test_cors_other_origin_is_refused(stack: Stack, page: Page) -> None:
    page.goto(stack.refused_site.url + "/index.html")
    widget = Widget(page)
    widget.open()
    widget.input.fill(RELAY)
    widget.input.press("Enter")
    expect(widget.alert).to_contain_text("can't reach the support service")
    expect(widget.bots).to_have_count(0)


# -- screenshots ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "viewport", "mobile"),
    [
        ("desktop", {"width": 1280, "height": 800}, False),
        ("phone", {"width": 390, "height": 844}, True),
    ],
)
def test_screenshots(
    stack: Stack, browser: Browser, name: str, viewport: dict[str, int], mobile: bool
) -> None:
    context = browser.new_context(
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
    )
    page = context.new_page()
    page.goto(stack.service.url + "/")
    widget = Widget(page)
    widget.open()
    widget.say(RELAY)
    box = widget.panel.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
    if mobile:  # full screen on a phone, covering the launcher
        assert box["width"] == viewport["width"] and box["height"] == viewport["height"]
        expect(widget.launcher).to_be_hidden()
    expect(widget.input).to_be_in_viewport()
    expect(widget.actions.first).to_be_in_viewport()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))
    context.close()
