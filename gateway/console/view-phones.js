// #/phones: handsets side by side. Each texts a short code through POST /api/sms and
// shows the conversation; MTs that come later (renewals, codes, expiry) arrive on the
// shared event stream.

import { api, catalogs, query, stream, subscriberExists } from "./api.js";
import { debounce, errorText, fill, h, svg, toastError, viewHeader } from "./dom.js";
import { fmtDay, fmtMoney, fmtTime, isoParts, t } from "./i18n.js";
import { recorderWidget } from "./recorder.js";
import { canonicalMsisdn, displayMsisdn, newId, smsLayout } from "./sms.js";

const DEFAULT_SHORTCODE = "888";
const THREAD_MAX = 300;
const NUMBERS = ["0912345678", "0911000001", "0903000003", "0987000004", "0868000005", "0777000006", "0356000007", "0522000008"];

/** The handsets; kept while the page lives, so switching views loses nothing. */
const phones = [];
let nextKey = 1;
let root = null; // the mounted view's phone row, or null
let shortcodes = [{ shortcode: DEFAULT_SHORTCODE, label: DEFAULT_SHORTCODE, catalog: null }];
let listening = false;

function newPhone() {
  const used = new Set(phones.map((p) => p.msisdn));
  const raw =
    NUMBERS.find((n) => !used.has(canonicalMsisdn(n))) ??
    `09${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}`;
  const phone = {
    key: nextKey++,
    raw,
    msisdn: canonicalMsisdn(raw),
    shortcode: DEFAULT_SHORTCODE,
    thread: [],
    ids: new Set(),
    draft: "",
    state: "idle", // idle | loading | new | ready
    info: null, // the search entry: {msisdn, kind, balance, status, email}
    loadToken: 0,
    el: null,
  };
  phone.refreshInfo = debounce(() => refreshInfo(phone), 300);
  return phone;
}

/** "zalo" -> "Zalo": catalog names are written in lower case. */
function title(name) {
  return name ? name.charAt(0).toUpperCase() + name.slice(1) : "";
}

// -- the model ----------------------------------------------------------------------------

function normalise(message, direction) {
  return {
    id: message.id ?? null,
    direction: message.direction ?? direction,
    text: message.text ?? "",
    encoding: message.encoding ?? null,
    segments: message.segments ?? null,
    at: message.at ?? null,
    shortcode: message.shortcode ?? null,
    status: message.status ?? "sent",
    duplicate: Boolean(message.duplicate),
  };
}

/** Add a message once (by id); a second copy only fills in what the first lacked. */
function addMessage(phone, message) {
  if (message.id && phone.ids.has(message.id)) {
    const known = phone.thread.find((m) => m.id === message.id);
    if (known) {
      for (const key of ["at", "encoding", "segments", "shortcode"]) {
        if (known[key] === null || known[key] === undefined) known[key] = message[key] ?? null;
      }
    }
    return false;
  }
  if (message.id) phone.ids.add(message.id);
  phone.thread.push(message);
  if (phone.thread.length > THREAD_MAX) {
    for (const gone of phone.thread.splice(0, phone.thread.length - THREAD_MAX)) phone.ids.delete(gone.id);
  }
  return true;
}

function setMsisdn(phone, raw) {
  phone.raw = raw;
  const msisdn = canonicalMsisdn(raw);
  if (msisdn === phone.msisdn && phone.state !== "idle") return;
  phone.msisdn = msisdn;
  phone.thread = [];
  phone.ids = new Set();
  phone.info = null;
  phone.state = "idle";
  loadHistory(phone);
}

async function loadHistory(phone) {
  const token = ++phone.loadToken;
  const { msisdn, shortcode } = phone;
  if (!msisdn) {
    phone.state = "idle";
    render(phone);
    return;
  }
  phone.state = "loading";
  render(phone);
  try {
    // search first: the messages endpoint answers 404 for a number it does not know
    const info = await subscriberExists(msisdn);
    if (token !== phone.loadToken) return;
    phone.info = info;
    if (!info) {
      phone.state = phone.thread.length ? "ready" : "new";
      render(phone);
      return;
    }
    const body = await api.get(`/api/subscribers/${msisdn}/messages${query({ shortcode })}`);
    if (token !== phone.loadToken) return;
    const history = (Array.isArray(body?.messages) ? body.messages : []).map((m) => normalise(m, m.direction));
    const historyIds = new Set(history.map((m) => m.id).filter(Boolean));
    const live = phone.thread.filter((m) => !m.id || !historyIds.has(m.id));
    for (const m of phone.thread) {
      const copy = m.id && history.find((x) => x.id === m.id);
      if (copy) {
        for (const key of ["at", "encoding", "segments"]) copy[key] = copy[key] ?? m[key];
        copy.duplicate = m.duplicate;
      }
    }
    phone.thread = [...history, ...live].slice(-THREAD_MAX);
    phone.ids = new Set(phone.thread.map((m) => m.id).filter(Boolean));
    phone.state = "ready";
  } catch (error) {
    if (token !== phone.loadToken) return;
    phone.state = phone.thread.length ? "ready" : "new";
    toastError(errorText(error));
  }
  render(phone);
}

async function refreshInfo(phone) {
  if (!phone.msisdn) return;
  const msisdn = phone.msisdn;
  try {
    const info = await subscriberExists(msisdn);
    if (phone.msisdn !== msisdn) return;
    phone.info = info;
    renderInfo(phone);
  } catch {
    // the balance chip is a convenience: a failed refresh keeps the last one
  }
}

async function send(phone) {
  const el = phone.el;
  const input = el?.querySelector('[data-testid="phone-text"]');
  const msisdnInput = el?.querySelector('[data-testid="phone-msisdn"]');
  const select = el?.querySelector('[data-testid="phone-shortcode"]');
  if (msisdnInput && msisdnInput.value !== phone.raw) setMsisdn(phone, msisdnInput.value);
  if (select && select.value && select.value !== phone.shortcode) setShortcode(phone, select.value);
  const text = (input?.value ?? phone.draft).trim();
  if (!text) return;
  if (!phone.msisdn) {
    toastError(t("err.msisdn", { value: phone.raw }));
    return;
  }
  const id = newId("console");
  const mo = normalise({ id, text, ...smsLayout(text), shortcode: phone.shortcode, status: "pending" }, "mo");
  addMessage(phone, mo);
  if (phone.state === "new" || phone.state === "idle") phone.state = "ready";
  phone.draft = "";
  if (input) input.value = "";
  render(phone);
  try {
    const result = await api.post("/api/sms", { id, from: phone.msisdn, to: phone.shortcode, text });
    const replies = Array.isArray(result?.replies) ? result.replies : [];
    mo.status = "sent";
    mo.duplicate = Boolean(result?.duplicate);
    if (!mo.at && replies[0]?.at) mo.at = replies[0].at;
    for (const reply of replies) addMessage(phone, normalise({ ...reply, shortcode: reply.shortcode ?? phone.shortcode }, "mt"));
  } catch (error) {
    mo.status = "failed";
    toastError(errorText(error));
  }
  render(phone);
  phone.refreshInfo();
}

function setShortcode(phone, shortcode) {
  if (shortcode === phone.shortcode) return;
  phone.shortcode = shortcode;
  phone.thread = [];
  phone.ids = new Set();
  loadHistory(phone);
}

/** The shared stream, for every phone: MOs and MTs of its number, and balance changes. */
function onStreamEvent(event) {
  if (!event.msisdn) return;
  for (const phone of phones) {
    if (phone.msisdn !== event.msisdn) continue;
    if (event.kind === "mo" || event.kind === "mt") {
      // a phone shows its short code's conversation, and whatever else reaches the
      // handset (a one-time code, another service's renewal), marked with its sender
      const added = addMessage(phone, normalise(event, event.kind));
      if (added && phone.state !== "loading") phone.state = "ready";
      render(phone);
    }
    if (["charge", "renewal", "renewal_failed", "cancel", "expiry", "mt"].includes(event.kind)) phone.refreshInfo();
  }
}

function ensurePhones() {
  while (phones.length < 2) phones.push(newPhone());
}

// -- the view -----------------------------------------------------------------------------

function suggestions(catalog) {
  if (!catalog) return ["DK ZL7", "HUY ZL7", "KTTK_ZL", "TC"];
  const kw = catalog.keywords ?? {};
  const packs = Array.isArray(catalog.packages) ? catalog.packages : [];
  const paid = packs.find((p) => Number(p.price) > 0 && p.kind !== "addon") ?? packs[0];
  const out = [];
  const first = (list, fallback) => (Array.isArray(list) && list.length ? list[0] : fallback);
  if (paid) {
    out.push(`${first(kw.subscribe, "DK")} ${paid.code}`);
    out.push(`${first(kw.cancel, "HUY")} ${paid.code}`);
  }
  const status = kw.status && typeof kw.status === "object" ? Object.keys(kw.status)[0] : null;
  if (status) out.push(status);
  out.push(first(kw.list_all, "TC"));
  if (catalog.double_opt_in || packs.some((p) => p.cancellation?.offer_retention || p.cancellation?.confirm_refund)) {
    out.push(first(kw.confirm, "Y"), first(kw.decline, "N"));
  }
  return out.slice(0, 6);
}

function bubble(message, phone) {
  const parts = [];
  parts.push(message.at ? fmtTime(message.at, { date: false }) : "…");
  if (message.encoding) parts.push(message.encoding);
  if (message.segments) parts.push(t("phones.segments", { count: message.segments }));
  const meta = h("div.bubble-meta", { testid: "bubble-meta" }, parts.join(" · "));
  if (message.shortcode && message.shortcode !== phone.shortcode) {
    meta.prepend(h("span.bubble-from", t("phones.other_shortcode", { shortcode: message.shortcode })), " · ");
  }
  if (message.direction === "mo") {
    if (message.status === "pending") meta.append(h("span.tick.pending", { "aria-hidden": "true" }, " ◷"));
    else if (message.status === "failed") meta.append(h("span.tick.failed", { title: t("phones.failed") }, ` ⚠ ${t("phones.failed")}`));
    else meta.append(h("span.tick", { "aria-hidden": "true" }, " ✓"));
    if (message.duplicate) meta.append(h("span.tick", { title: t("phones.duplicate") }, " ⟲"));
  }
  return h(
    `div.bubble.bubble-${message.direction}`,
    { testid: `bubble-${message.direction}`, dataset: { id: message.id ?? "" }, title: message.at ? fmtTime(message.at, { seconds: true }) : null },
    h("div.bubble-text", message.text),
    meta,
  );
}

function renderThread(phone) {
  const thread = phone.el?.querySelector('[data-testid="phone-thread"]');
  if (!thread) return;
  const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
  const items = [];
  let lastDay = null;
  for (const message of phone.thread) {
    const p = isoParts(message.at);
    const day = p ? `${p.year}-${p.month}-${p.day}` : lastDay;
    if (day && day !== lastDay) {
      items.push(h("div.thread-day", fmtDay(day)));
      lastDay = day;
    }
    items.push(bubble(message, phone));
  }
  if (!phone.thread.length) {
    const catalog = shortcodes.find((s) => s.shortcode === phone.shortcode)?.catalog;
    if (phone.state === "loading") items.push(h("p.thread-hint", t("phones.loading")));
    else {
      if (phone.state === "new") items.push(h("p.thread-hint", t("phones.new_subscriber")));
      items.push(h("p.thread-hint", t("phones.empty", { example: suggestions(catalog)[0] ?? "DK ZL7" })));
    }
  }
  fill(thread, items);
  if (nearBottom || phone.thread.at(-1)?.direction === "mo" || phone.thread.length <= 1) thread.scrollTop = thread.scrollHeight;
}

function renderInfo(phone) {
  const bar = phone.el?.querySelector(".phone-info");
  if (!bar) return;
  const catalog = shortcodes.find((s) => s.shortcode === phone.shortcode)?.catalog;
  const service = catalog ? `${catalog.operator ?? ""} ${title(catalog.name)}`.trim() : "";
  fill(
    bar,
    h("span.phone-service", h("strong", phone.shortcode), service ? ` · ${service}` : ""),
    phone.info
      ? h("span.phone-balance", { title: t("phones.balance") },
        `${t("phones.balance")}: `, h("strong", fmtMoney(phone.info.balance)),
        phone.msisdn
          ? h("a.phone-link", { href: `#/subscribers/${phone.msisdn}`, title: t("phones.open_subscriber") }, "↗")
          : null)
      : null,
  );
}

function renderSuggestions(phone) {
  const host = phone.el?.querySelector(".phone-suggestions");
  if (!host) return;
  const catalog = shortcodes.find((s) => s.shortcode === phone.shortcode)?.catalog;
  fill(
    host,
    suggestions(catalog).map((cmd) =>
      h("button.chip", {
        type: "button",
        onclick: () => {
          const input = phone.el.querySelector('[data-testid="phone-text"]');
          input.value = cmd;
          phone.draft = cmd;
          input.focus();
        },
      }, cmd),
    ),
  );
}

function render(phone) {
  if (!phone.el || !phone.el.isConnected) return;
  phone.el.classList.toggle("invalid", !phone.msisdn);
  const label = phone.el.querySelector(".phone-number");
  if (label) label.textContent = phone.msisdn ? displayMsisdn(phone.msisdn) : "—";
  renderInfo(phone);
  renderThread(phone);
}

function shortcodeOptions(phone) {
  return shortcodes.map((s) => h("option", { value: s.shortcode, selected: s.shortcode === phone.shortcode }, s.label));
}

/** A paper plane, as on a phone's own Send button. */
function sendIcon() {
  return svg("svg", {
    viewBox: "0 0 24 24", width: 18, height: 18, fill: "none", stroke: "currentColor", "stroke-width": 2.2,
    "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true",
  }, svg("path", { d: "M22 2 11 13M22 2l-7 20-4-9-9-4 20-7z" }));
}

function phoneElement(phone) {
  const msisdn = h("input.input.phone-msisdn", {
    testid: "phone-msisdn", value: phone.raw, inputmode: "tel", autocomplete: "off", spellcheck: "false",
    "aria-label": t("phones.msisdn"), placeholder: "09xxxxxxxx",
    onchange: (e) => setMsisdn(phone, e.target.value),
    onkeydown: (e) => {
      if (e.key === "Enter" && !e.isComposing) setMsisdn(phone, e.target.value);
    },
  });
  const select = h("select.input.phone-shortcode", {
    testid: "phone-shortcode", "aria-label": t("phones.shortcode"),
    onchange: (e) => {
      setShortcode(phone, e.target.value);
      renderSuggestions(phone);
    },
  }, shortcodeOptions(phone));
  const text = h("input.input.phone-text", {
    testid: "phone-text", value: phone.draft, placeholder: t("phones.placeholder"), autocomplete: "off",
    "aria-label": t("phones.placeholder"), maxlength: 1600,
    oninput: (e) => {
      phone.draft = e.target.value;
    },
    onkeydown: (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        send(phone);
      }
    },
  });
  const remove = phones.length > 1
    ? h("button.icon-btn.phone-remove", {
        type: "button", title: t("phones.remove"), "aria-label": t("phones.remove"),
        onclick: () => {
          const index = phones.indexOf(phone);
          if (index >= 0) phones.splice(index, 1);
          phone.loadToken += 1;
          renderAll();
        },
      }, "×")
    : null;
  phone.el = h(
    "section.phone",
    { testid: "phone", dataset: { key: phone.key } },
    h("div.phone-notch"),
    h("header.phone-head",
      h("div.phone-fields",
        h("label.field-inline", h("span.sr-only", t("phones.msisdn")), msisdn),
        h("label.field-inline", h("span.sr-only", t("phones.shortcode")), select)),
      remove),
    h("div.phone-info"),
    h("div.phone-thread", { testid: "phone-thread", role: "log", "aria-live": "polite" }),
    h("div.phone-suggestions", { "aria-label": t("phones.suggestions") }),
    h("form.phone-compose", {
      onsubmit: (e) => {
        e.preventDefault();
        send(phone);
      },
    }, text, h("button.btn.btn-primary.phone-send", {
      type: "submit", testid: "phone-send", title: t("phones.send"), "aria-label": t("phones.send"),
    }, sendIcon())),
  );
  return phone.el;
}

function renderAll() {
  if (!root) return;
  fill(root, phones.map(phoneElement));
  for (const phone of phones) {
    renderSuggestions(phone);
    render(phone);
  }
}

async function loadShortcodes() {
  try {
    const list = await catalogs();
    if (!list.length) return;
    shortcodes = list.map((c) => ({
      shortcode: String(c.shortcode),
      label: `${c.shortcode} · ${title(c.name) || c.operator || ""}`.replace(/ · $/, ""),
      catalog: c,
    }));
    if (!shortcodes.some((s) => s.shortcode === DEFAULT_SHORTCODE)) {
      shortcodes.unshift({ shortcode: DEFAULT_SHORTCODE, label: DEFAULT_SHORTCODE, catalog: null });
    }
    for (const phone of phones) {
      const select = phone.el?.querySelector('[data-testid="phone-shortcode"]');
      if (select && phone.el.isConnected) {
        fill(select, shortcodeOptions(phone));
        select.value = phone.shortcode;
        renderSuggestions(phone);
        renderInfo(phone);
      }
    }
  } catch (error) {
    toastError(errorText(error));
  }
}

export function mount(container) {
  if (!listening) {
    stream.subscribe(onStreamEvent);
    listening = true;
  }
  ensurePhones();
  root = h("div.phone-row");
  const add = h("button.btn.btn-primary", {
    type: "button", testid: "add-phone",
    onclick: () => {
      const phone = newPhone();
      phones.push(phone);
      renderAll();
      loadHistory(phone);
      phone.el?.scrollIntoView({ behavior: "smooth", inline: "end", block: "nearest" });
    },
  }, "+ ", t("phones.add"));
  fill(container, viewHeader(t("phones.title"), t("phones.subtitle"), recorderWidget(), add), root);
  renderAll();
  for (const phone of phones) {
    if (phone.state === "idle") loadHistory(phone);
    else phone.refreshInfo();
  }
  loadShortcodes();
  return () => {
    root = null;
  };
}

// exported for the subscriber page's "open on a phone"
export function openOnPhone(msisdn) {
  ensurePhones();
  const target = phones.find((p) => p.msisdn === msisdn) ?? phones[0];
  if (target) {
    target.raw = msisdn.replace(/^84/, "0");
    target.msisdn = null;
    target.state = "idle";
    setMsisdn(target, target.raw);
  }
  window.location.hash = "#/phones";
}
