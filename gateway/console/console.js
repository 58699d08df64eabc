// The console's entry point: the shell (header with the gateway clock, navigation),
// the hash router, the language toggle, and the safety net for errors.

import { api, emit, on, setErrorReporter, stream } from "./api.js";
import { attempt, errorText, fill, h, notice, svg, toastError } from "./dom.js";
import { atOffset, fmtTime, isoParts, lang, setLang, t } from "./i18n.js";
import * as catalogsView from "./view-catalogs.js";
import * as chartsView from "./view-charts.js";
import * as inboxView from "./view-inbox.js";
import * as phonesView from "./view-phones.js";
import * as subscribersView from "./view-subscribers.js";
import * as trafficView from "./view-traffic.js";

// -- never an uncaught error: whatever escapes becomes a toast ---------------------------

setErrorReporter((error) => toastError(errorText(error)));
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  toastError(errorText(event.reason));
});
window.addEventListener("error", (event) => {
  if (event.error || event.message) {
    event.preventDefault();
    toastError(errorText(event.error ?? event.message));
  }
});

// -- routes -------------------------------------------------------------------------------

const ROUTES = {
  phones: { view: phonesView, section: "simulate", icon: "M7 2h10a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zM11 18h2" },
  traffic: { view: trafficView, section: "simulate", icon: "M3 12h4l3-8 4 16 3-8h4" },
  subscribers: { view: subscribersView, section: "inspect", icon: "M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM22 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75" },
  catalogs: { view: catalogsView, section: "inspect", icon: "M12 2 2 7l10 5 10-5-10-5zM2 17l10 5 10-5M2 12l10 5 10-5" },
  mail: { view: inboxView.mail, section: "inspect", icon: "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM22 6l-10 7L2 6" },
  tickets: { view: inboxView.tickets, section: "inspect", icon: "M9 11l3 3L22 4M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11" },
  charts: { view: chartsView, section: "inspect", icon: "M3 3v18h18M8 17V10M13 17V6M18 17v-4" },
};
const DEFAULT_ROUTE = "phones";

function parseHash() {
  const raw = decodeURIComponent(window.location.hash.replace(/^#\/?/, ""));
  const [name = "", ...rest] = raw.split("/");
  return { name, param: rest.join("/") || null };
}

let mounted = null; // {name, param, cleanup}

function route({ force = false } = {}) {
  let { name, param } = parseHash();
  if (!ROUTES[name]) {
    name = DEFAULT_ROUTE;
    param = null;
    window.history.replaceState(null, "", `#/${DEFAULT_ROUTE}`);
  }
  if (!force && mounted && mounted.name === name && mounted.param === param) return;
  if (mounted?.cleanup) {
    try {
      mounted.cleanup();
    } catch (error) {
      toastError(errorText(error));
    }
  }
  const root = document.getElementById("view");
  root.replaceChildren();
  window.scrollTo(0, 0);
  let cleanup = null;
  try {
    cleanup = ROUTES[name].view.mount(root, { param }) ?? null;
  } catch (error) {
    toastError(errorText(error));
  }
  mounted = { name, param, cleanup };
  for (const link of document.querySelectorAll(".nav-link")) {
    const active = link.dataset.route === name;
    link.classList.toggle("active", active);
    if (active) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${t(`nav.${name}`)} · ${t("app.name")}`;
}

// -- the gateway clock --------------------------------------------------------------------

const clock = { now: null, mode: null, fetchedAt: 0, busy: false };

function clockNow() {
  if (!clock.now) return null;
  if (clock.mode !== "real") return clock.now;
  return atOffset(clock.now, null, performance.now() - clock.fetchedAt);
}

function setClock(now, mode) {
  const moved = clock.now !== null && now !== clock.now && mode !== "real";
  const modeChanged = mode && mode !== clock.mode;
  clock.now = now;
  if (mode) clock.mode = mode;
  clock.fetchedAt = performance.now();
  if (modeChanged) renderClockControls();
  renderClockTime();
  if (moved) emit("clock", { now });
}

async function loadClock() {
  try {
    const body = await api.get("/api/clock");
    setClock(body.now, body.mode);
  } catch (error) {
    if (clock.now === null) toastError(errorText(error));
  }
}

function renderClockTime() {
  const el = document.querySelector('[data-testid="clock-now"]');
  if (!el) return;
  const now = clockNow();
  el.textContent = now ? fmtTime(now, { seconds: true }) : "––:––";
  el.dataset.now = now ?? "";
  el.setAttribute("datetime", now ?? "");
  const input = document.querySelector('[data-testid="clock-to-input"]');
  const p = isoParts(now);
  if (input && p) input.placeholder = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  const offset = document.querySelector(".clock-offset");
  if (offset) offset.textContent = now ? `UTC${isoParts(now)?.offset ?? ""}` : "";
}

function renderClockControls() {
  const real = clock.mode === "real";
  const mode = document.querySelector('[data-testid="clock-mode"]');
  if (mode) {
    mode.textContent = clock.mode ? t(`clock.mode.${clock.mode}`) : "…";
    mode.dataset.mode = clock.mode ?? "";
    mode.title = clock.mode ? t(`clock.mode.title.${clock.mode}`) : "";
    mode.className = `badge clock-mode badge-${real ? "real" : "virtual"}`;
  }
  const group = document.querySelector(".clock-controls");
  if (group) {
    group.title = real ? t("clock.real.note") : "";
    group.classList.toggle("is-real", real);
  }
  for (const el of document.querySelectorAll(".clock-controls button, .clock-controls input")) {
    el.disabled = real || clock.busy || !clock.mode;
    el.title = real ? t("clock.real.note") : el.dataset.title ?? "";
  }
  const note = document.querySelector(".clock-note");
  if (note) note.hidden = !real;
}

/** "2026-03-24 10:00", "24/03/2026 10:00", "10:00 24/03/2026" or full ISO -> ISO with offset. */
function parseWhen(text, offset) {
  const value = text.trim();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return value;
  const pad = (n) => String(n).padStart(2, "0");
  const build = (y, mo, d, hh = "0", mi = "0", ss = "0") => {
    const [Y, M, D, H, I, S] = [y, mo, d, hh, mi, ss].map(Number);
    if (M < 1 || M > 12 || D < 1 || D > 31 || H > 23 || I > 59 || S > 59) return null;
    return `${Y}-${pad(M)}-${pad(D)}T${pad(H)}:${pad(I)}:${pad(S)}${offset}`;
  };
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (m) return build(m[1], m[2], m[3], m[4], m[5], m[6]);
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[T ,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (m) return build(m[3], m[2], m[1], m[4], m[5], m[6]);
  m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?[ ,]+(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  if (m) return build(m[6], m[5], m[4], m[1], m[2], m[3]);
  return null;
}

/** Move the gateway clock; true once it moved. */
async function advance(body) {
  if (clock.busy || clock.mode === "real") return false;
  clock.busy = true;
  renderClockControls();
  try {
    const result = await attempt(() => api.post("/api/clock/advance", body));
    if (!result?.now) return false;
    setClock(result.now, result.mode);
    notice(t("clock.advanced", { now: fmtTime(result.now), processed: result.processed ?? 0 }));
    return true;
  } finally {
    clock.busy = false;
    renderClockControls();
  }
}

function advanceTo() {
  const input = document.querySelector('[data-testid="clock-to-input"]');
  const offset = isoParts(clock.now)?.offset || "+07:00";
  const when = parseWhen(input.value, offset);
  if (!when) {
    toastError(t("clock.bad_input", { value: input.value }));
    return;
  }
  advance({ to: when }).then((moved) => {
    if (!moved) return;
    // on a phone, the field folds away again
    document.querySelector(".topbar")?.classList.remove("clock-to-open");
    document.querySelector('[data-testid="clock-to-toggle"]')?.setAttribute("aria-expanded", "false");
  });
}

function clockWidget() {
  const step = (testid, key, seconds) =>
    h("button.btn.btn-ghost.btn-sm", {
      type: "button", testid, dataset: { title: key }, onclick: () => advance({ seconds }),
    }, t(key));
  const input = h("input.input.input-sm.clock-input", {
    type: "text",
    testid: "clock-to-input",
    placeholder: t("clock.to.placeholder"),
    "aria-label": t("clock.to.title"),
    dataset: { title: t("clock.to.title") },
    autocomplete: "off",
    spellcheck: "false",
    onkeydown: (e) => {
      if (e.key === "Enter" && !e.isComposing) advanceTo();
    },
  });
  // on a phone the "advance to" field folds away behind this button (console.css)
  const toToggle = h("button.btn.btn-ghost.btn-sm.clock-to-toggle", {
    type: "button", testid: "clock-to-toggle", "aria-expanded": "false",
    dataset: { title: t("clock.to.title") }, "aria-label": t("clock.to.title"),
    onclick: () => {
      const open = document.querySelector(".topbar")?.classList.toggle("clock-to-open") ?? false;
      toToggle.setAttribute("aria-expanded", String(open));
      if (open) input.focus();
    },
  }, t("clock.to.short"), h("span.clock-to-caret", { "aria-hidden": "true" }, "▾"));
  return h(
    "div.clock",
    h(
      "div.clock-display",
      h("span.clock-label",
        h("span.clock-label-text", t("clock.label")),
        h("span.clock-note", { hidden: true, role: "note", title: t("clock.real.note") }, t("clock.real.short"))),
      h("div.clock-time-row",
        h("time.clock-now", { testid: "clock-now" }, "––:––"),
        h("span.clock-offset"),
        h("span.badge.clock-mode", { testid: "clock-mode" }, "…"),
      ),
    ),
    h(
      "div.clock-controls",
      step("clock-1h", "clock.1h", 3600),
      step("clock-1d", "clock.1d", 86400),
      step("clock-1w", "clock.1w", 604800),
      toToggle,
      h("span.clock-to", input,
        h("button.btn.btn-primary.btn-sm", { type: "button", testid: "clock-to-go", onclick: advanceTo, dataset: { title: t("clock.to.title") } }, t("clock.go"))),
    ),
  );
}

// -- the shell ----------------------------------------------------------------------------

function icon(path) {
  return svg("svg", { viewBox: "0 0 24 24", width: 18, height: 18, fill: "none", stroke: "currentColor", "stroke-width": 2, "stroke-linecap": "round", "stroke-linejoin": "round", "aria-hidden": "true", class: "icon" }, svg("path", { d: path }));
}

let paintStream = null;

function streamIndicator() {
  const el = h("span.stream-state", { title: t("stream.title") });
  if (paintStream) stream.removeEventListener("state", paintStream);
  paintStream = () => {
    el.dataset.state = stream.state;
    fill(el, h("span.dot"), t(`stream.${stream.state}`));
  };
  paintStream();
  stream.addEventListener("state", paintStream);
  return el;
}

// on a narrow screen the navigation is a drawer that this button opens (console.css)
function setMenu(open) {
  document.getElementById("app")?.classList.toggle("nav-open", open);
  document.querySelector('[data-testid="nav-toggle"]')?.setAttribute("aria-expanded", String(open));
}

function renderShell() {
  const app = document.getElementById("app");
  const nav = h("nav.sidenav#nav", { "aria-label": "Views" },
    h("div.nav-brand", h("img", { src: "/console/favicon.svg", alt: "", width: 28, height: 28 }),
      h("span.brand-text", h("span.brand-name", t("app.name")), h("span.brand-tagline", t("app.tagline")))));
  for (const section of ["simulate", "inspect"]) {
    nav.append(h("div.nav-section", t(`nav.section.${section}`)));
    for (const [name, spec] of Object.entries(ROUTES)) {
      if (spec.section !== section) continue;
      nav.append(h("a.nav-link", {
        href: `#/${name}`, testid: `nav-${name}`, dataset: { route: name }, onclick: () => setMenu(false),
      }, icon(spec.icon), h("span.nav-label", t(`nav.${name}`))));
    }
  }
  nav.append(h("div.nav-footer", h("a", { href: "/docs", target: "_blank", rel: "noopener" }, "OpenAPI /docs")));
  const brand = h(
    "a.brand", { href: "#/phones" },
    h("img", { src: "/console/favicon.svg", alt: "", width: 30, height: 30 }),
    h("span.brand-text", h("span.brand-name", t("app.name")), h("span.brand-tagline", t("app.tagline"))),
  );
  const toggle = h("button.btn.btn-ghost.lang-toggle", {
    type: "button", testid: "lang-toggle", title: t("lang.switch.title"), "aria-label": t("lang.switch.title"),
    onclick: () => {
      setLang(lang() === "vi" ? "en" : "vi");
      renderShell();
      route({ force: true });
      emit("lang", lang());
    },
  }, t("lang.switch"));
  const menu = h("button.btn.btn-ghost.nav-toggle", {
    type: "button", testid: "nav-toggle", title: t("nav.menu"), "aria-label": t("nav.menu"),
    "aria-controls": "nav", "aria-expanded": "false",
    onclick: () => setMenu(!app.classList.contains("nav-open")),
  }, h("span.nav-toggle-bars", { "aria-hidden": "true" }));
  app.classList.remove("nav-open");
  fill(app,
    h("header.topbar", menu, brand, clockWidget(), h("div.topbar-end", streamIndicator(), toggle)),
    nav,
    h("div.nav-backdrop", { "aria-hidden": "true", onclick: () => setMenu(false) }),
    h("main.view#view", { tabindex: "-1" }),
  );
  renderClockControls();
  renderClockTime();
}

// -- start --------------------------------------------------------------------------------

function start() {
  setLang(lang(), { remember: false });
  renderShell();
  stream.start();
  stream.subscribe((event) => {
    if (event.kind === "clock" && event.now) setClock(event.now, clock.mode); // now: in the gateway's offset (api.js)
    if (event.kind === "dropped") notice(t("stream.dropped", { count: event.dropped ?? event.count ?? "?" }), "warn");
  });
  window.addEventListener("hashchange", () => {
    setMenu(false);
    route();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.getElementById("app")?.classList.contains("nav-open")) {
      setMenu(false);
      document.querySelector('[data-testid="nav-toggle"]')?.focus();
    }
  });
  route();
  loadClock();
  setInterval(renderClockTime, 1000);
  setInterval(loadClock, 10000);
  on("clock-refresh", loadClock);
}

start();
