/* RelayDesk chat widget: one script tag, no framework, no build step.
 *
 *   <script src="https://support.example/widget.js"
 *           data-relaydesk-url="https://support.example" data-title="Mail help" async></script>
 *
 * data-relaydesk-url is where POST /v1/chat lives (empty: the page's own origin);
 * widget.css is loaded from next to this file. Everything renders in a shadow root,
 * so the page's CSS and ours never meet. Safety rule: the customer's words only ever
 * become text nodes; the bot's words are the server's escaped reply.html, rebuilt
 * through a small allow-list (or plain text when html is missing).
 */
(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[src$="widget.js"]');
  if (!script || window.RelayDeskWidget) return; // loaded twice: keep the first

  const API = (script.dataset.relaydeskUrl || "").replace(/\/+$/, "");
  const TITLE = script.dataset.title || "Support";
  const CSS_URL = new URL("widget.css", script.src || location.href).href;
  const STORE_KEY = "relaydesk:" + (API || location.origin);
  const TIMEOUT_MS = 30000;
  const MAX_STORED = 200; // messages kept across reloads; localStorage is small
  const GREETING =
    "Hi! Tell me what's going wrong with your email, or paste the error message you see.";
  const ICON_CHAT =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const ICON_DOWN =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5.6 8.6 12 15l6.4-6.4 1.4 1.4L12 17.8 4.2 10z"/></svg>';
  const ICON_SEND =
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M3 20l18-8L3 4v6l12 2-12 2z"/></svg>';

  // -- small helpers -------------------------------------------------------------

  /** el("p", {class: "x"}, "text", child) — strings become text nodes, never markup. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value == null) continue;
      node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.filter((c) => c != null));
    return node;
  }

  // Our own constant SVG icons are the only markup this file writes itself.
  function icon(svg) {
    const t = document.createElement("template");
    t.innerHTML = svg;
    return t.content;
  }

  const ALLOWED = new Set(["P", "OL", "UL", "LI", "STRONG", "EM", "B", "I", "BR", "CODE"]);

  /** The server's reply.html, rebuilt with allowed tags only and no attributes.
   * A <template> parses inertly: nothing in it loads or runs. */
  function safeHtml(html) {
    const t = document.createElement("template");
    t.innerHTML = html;
    const copy = (from) => {
      const out = document.createDocumentFragment();
      for (const node of from.childNodes) {
        if (node.nodeType === Node.TEXT_NODE) out.append(node.data);
        else if (node.nodeType !== Node.ELEMENT_NODE) continue;
        else if (ALLOWED.has(node.tagName)) out.append(el(node.tagName.toLowerCase(), null, copy(node)));
        else out.append(node.textContent); // anything else shows as its text
      }
      return out;
    };
    return copy(t.content);
  }

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved && Array.isArray(saved.entries)) return saved;
    } catch (_) {
      /* storage off or corrupt: start fresh */
    }
    return { session: null, entries: [], actions: null };
  }

  function save() {
    try {
      const entries = state.entries.slice(-MAX_STORED);
      localStorage.setItem(STORE_KEY, JSON.stringify({ ...state, entries }));
    } catch (_) {
      /* private mode or full: the conversation still works, it just won't survive a reload */
    }
  }

  // -- the DOM ---------------------------------------------------------------------

  let state = load();
  let busy = false;
  let pending = null; // the last chat payload, kept for Retry
  let generation = 0; // bumped by "start over" so late answers are dropped
  let retryTimer = 0;

  const host = el("relaydesk-widget");
  const root = host.attachShadow({ mode: "open" });
  const launcher = el(
    "button",
    {
      type: "button",
      class: "launcher",
      "aria-label": "Open chat: " + TITLE,
      "aria-expanded": "false",
      "aria-controls": "rd-panel",
    },
    icon(ICON_CHAT),
  );
  const restart = el("button", { type: "button", class: "restart" }, "Start over");
  const close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "×");
  const log = el("div", {
    class: "log",
    role: "log",
    "aria-live": "polite",
    "aria-label": "Conversation",
    tabindex: "0",
  });
  const typing = el(
    "div",
    { class: "typing", hidden: true, "aria-hidden": "true" },
    el("span"),
    el("span"),
    el("span"),
  );
  const alertBox = el("div", { class: "alert", role: "alert" });
  const domainInput = el("input", {
    id: "rd-domain",
    type: "text",
    inputmode: "url",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "253",
    placeholder: "example.com",
  });
  const domainRow = el(
    "div",
    { class: "domain", id: "rd-domain-row", hidden: true },
    el("label", { for: "rd-domain" }, "Check my domain"),
    domainInput,
  );
  const domainToggle = el(
    "button",
    { type: "button", class: "linkish", "aria-expanded": "false", "aria-controls": "rd-domain-row" },
    "Add my domain",
  );
  const input = el("textarea", {
    id: "rd-input",
    rows: "1",
    maxlength: "10000",
    placeholder: "Type your message…",
    autocomplete: "off",
  });
  const sendButton = el(
    "button",
    { type: "submit", class: "send", "aria-label": "Send message" },
    icon(ICON_SEND),
  );
  const form = el(
    "form",
    { class: "composer" },
    domainRow,
    el(
      "div",
      { class: "row" },
      el("label", { for: "rd-input", class: "sr" }, "Your message"),
      input,
      sendButton,
    ),
    domainToggle,
  );
  const panel = el(
    "section",
    { id: "rd-panel", class: "panel", role: "dialog", "aria-labelledby": "rd-title", hidden: true },
    el("header", null, el("h2", { id: "rd-title" }, TITLE), restart, close),
    el("div", { class: "scroll" }, log, typing),
    alertBox,
    form,
  );
  const frame = el("div", { class: "rd", hidden: true }, launcher, panel);
  const sheet = el("link", { rel: "stylesheet", href: CSS_URL });
  // Show nothing until our CSS is in, so the page never sees an unstyled flash.
  const reveal = () => frame.removeAttribute("hidden");
  sheet.addEventListener("load", reveal);
  sheet.addEventListener("error", reveal);
  root.append(sheet, frame);

  // -- rendering ---------------------------------------------------------------------

  function bubble(entry) {
    if (entry.who === "user") {
      return el(
        "div",
        { class: "msg user" },
        el("span", { class: "sr" }, "You said: "),
        el("p", null, entry.text),
        entry.domain ? el("p", { class: "meta" }, "Domain: " + entry.domain) : null,
      );
    }
    if (entry.who === "note") return el("p", { class: "note" }, entry.text);
    const body = el("div", { class: "body" });
    if (entry.html) body.append(safeHtml(entry.html));
    else body.append(el("p", { class: "plain" }, entry.text || ""));
    return el(
      "div",
      { class: "msg bot" },
      el("span", { class: "sr" }, TITLE + " says: "),
      body,
      entry.reference
        ? el("p", { class: "ref" }, "Your reference: ", el("strong", null, entry.reference))
        : null,
      entry.article ? el("p", { class: "meta" }, "From our guide: " + entry.article) : null,
    );
  }

  function actionsNode(actions) {
    if (actions.feedback) {
      const label = el("span", { id: "rd-fb", class: "fb-label" }, "Was this helpful?");
      const group = el("div", { class: "actions", role: "group", "aria-labelledby": "rd-fb" }, label);
      for (const [title, helpful] of [["Yes", true], ["No", false]]) {
        const b = el("button", { type: "button", class: "chip" }, title);
        b.addEventListener("click", () => sendFeedback(helpful, group));
        group.append(b);
      }
      return group;
    }
    const group = el("div", { class: "actions", role: "group", "aria-label": "Suggested replies" });
    for (const q of actions.quick) {
      const b = el("button", { type: "button", class: "chip" }, q.title);
      b.addEventListener("click", () => send(q.value, q.title));
      group.append(b);
    }
    return group;
  }

  function scrollDown() {
    const scroller = log.parentElement;
    scroller.scrollTop = scroller.scrollHeight;
  }

  // Only ever append to the log, so a screen reader announces just what is new.
  function append(entry) {
    state.entries.push(entry);
    log.append(bubble(entry));
    scrollDown();
  }

  function setActions(actions) {
    for (const old of log.querySelectorAll(".actions")) old.remove();
    state.actions = actions;
    if (actions && (actions.feedback || actions.quick.length)) log.append(actionsNode(actions));
    scrollDown();
  }

  function renderAll() {
    log.replaceChildren(el("p", { class: "msg bot greeting" }, GREETING));
    for (const entry of state.entries) log.append(bubble(entry));
    if (state.actions) setActions(state.actions);
  }

  function setBusy(on) {
    busy = on;
    typing.hidden = !on;
    log.setAttribute("aria-busy", on ? "true" : "false");
    input.disabled = sendButton.disabled = on;
    if (on) scrollDown();
    else if (!panel.hidden && !root.activeElement) input.focus(); // disabling dropped focus
  }

  function showError(message, { retry = true, waitS = 0 } = {}) {
    clearTimeout(retryTimer);
    const children = [el("p", null, message)];
    if (retry) {
      const again = el("button", { type: "button", class: "retry", disabled: waitS > 0 }, "Retry");
      again.addEventListener("click", () => pending && post(pending));
      if (waitS > 0) retryTimer = setTimeout(() => (again.disabled = false), waitS * 1000);
      children.push(again);
    }
    alertBox.replaceChildren(...children);
    const button = alertBox.querySelector("button");
    if (button && !button.disabled && !panel.hidden && !root.activeElement) button.focus();
  }

  function clearError() {
    clearTimeout(retryTimer);
    alertBox.replaceChildren();
  }

  // -- talking to the service --------------------------------------------------------

  function retryAfter(response) {
    const raw = response.headers.get("Retry-After") || "";
    const seconds = /^\d+$/.test(raw) ? Number(raw) : (Date.parse(raw) - Date.now()) / 1000;
    return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 30;
  }

  async function post(payload) {
    const mine = generation;
    setBusy(true);
    clearError();
    let response = null;
    let body = null;
    try {
      response = await fetch(API + "/v1/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...payload, session_id: state.session }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      body = await response.json().catch(() => null);
    } catch (_) {
      response = null; // offline, refused, blocked by CORS or timed out
    }
    if (mine !== generation) return; // "start over" was pressed meanwhile
    if (response && response.ok && body && body.reply) {
      pending = null;
      answer(body);
    } else if (!response) {
      showError("We can't reach the support service right now. Check your connection and try again.");
    } else if (response.status === 429) {
      const wait = retryAfter(response);
      showError(`You're sending messages faster than we can answer. Please wait ${wait} seconds, then retry.`, { waitS: wait });
    } else if (response.status >= 500 || response.ok) {
      showError("Something went wrong on our side. Please try again in a moment.");
    } else {
      const why = body && body.error && body.error.message;
      showError("That message couldn't be sent" + (why ? ": " + why : "."), { retry: false });
    }
    setBusy(false); // after showError, so Retry (not the input) gets the focus on failure
  }

  function answer(body) {
    const reply = body.reply;
    state.session = body.session_id;
    append({
      who: "bot",
      text: reply.text,
      html: reply.html,
      reference: body.escalation ? body.escalation.reference : null,
      article: reply.article ? reply.article.title : null,
    });
    const quick = (reply.quick_replies || []).map((q) => ({ title: q.title, value: q.value }));
    // At resolution the bot's own buttons become the feedback question.
    setActions(body.state === "resolved" && quick.length ? { feedback: true, quick: [] } : { quick });
    save();
  }

  function send(message, shown) {
    const text = message.trim();
    if (busy || !text) return;
    const domain = domainInput.value.trim();
    clearError();
    setActions(null);
    append({ who: "user", text: shown || text, domain: domain || null });
    input.value = "";
    domainInput.value = "";
    toggleDomain(false);
    save();
    pending = domain ? { message: text, domain } : { message: text };
    post(pending);
  }

  async function sendFeedback(helpful, group) {
    for (const b of group.querySelectorAll("button")) b.disabled = true;
    let ok = false;
    try {
      const response = await fetch(API + "/v1/feedback", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session_id: state.session, helpful }),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      ok = response.ok;
    } catch (_) {
      ok = false;
    }
    if (!ok) {
      for (const b of group.querySelectorAll("button")) b.disabled = false;
      showError("We couldn't save your answer. Please try again.", { retry: false });
      return;
    }
    setActions(null);
    append({ who: "note", text: "Thanks for your feedback!" });
    save();
    if (!panel.hidden) input.focus();
  }

  // -- behaviour ---------------------------------------------------------------------

  function open() {
    panel.hidden = false;
    frame.classList.add("open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat: " + TITLE);
    launcher.replaceChildren(icon(ICON_DOWN));
    scrollDown();
    input.disabled ? log.focus() : input.focus();
  }

  function shut() {
    panel.hidden = true;
    frame.classList.remove("open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat: " + TITLE);
    launcher.replaceChildren(icon(ICON_CHAT));
    launcher.focus();
  }

  function toggleDomain(show) {
    domainRow.hidden = !show;
    domainToggle.setAttribute("aria-expanded", String(show));
    if (show) domainInput.focus();
  }

  function startOver() {
    generation += 1;
    pending = null;
    state = { session: null, entries: [], actions: null };
    try {
      localStorage.removeItem(STORE_KEY);
    } catch (_) {
      /* nothing stored */
    }
    clearError();
    setBusy(false);
    renderAll();
    input.value = "";
    input.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : shut()));
  close.addEventListener("click", shut);
  restart.addEventListener("click", startOver);
  domainToggle.addEventListener("click", () => toggleDomain(domainRow.hidden));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(input.value);
  });
  input.addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter makes a new line (pasted bounces are multi-line).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(input.value);
    }
  });
  domainInput.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      input.focus();
    }
  });
  frame.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.stopPropagation();
      shut();
    }
  });

  renderAll();
  const mount = () => document.body.append(host);
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
  window.RelayDeskWidget = { open, close: shut, startOver };
})();
