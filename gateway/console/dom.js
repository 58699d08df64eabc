// Small DOM helpers: building elements without innerHTML (API text is never parsed as
// HTML), toasts, and badges.

import { t } from "./i18n.js";

/**
 * `h("div.card", {testid: "x", onclick: fn}, child, "text", [more])`.
 * The tag may carry `.class` and `#id` parts; `testid` sets data-testid; `on<event>` adds a
 * listener; `dataset` and `style` objects are applied; other keys become attributes
 * (false / null / undefined leave them out). Children may be nodes, strings, numbers,
 * arrays or null.
 */
export function h(spec, attrs, ...children) {
  const [tag, ...parts] = spec.split(/(?=[.#])/);
  const el = document.createElement(/^[.#]/.test(tag) ? "div" : tag);
  for (const part of /^[.#]/.test(tag) ? [tag, ...parts] : parts) {
    if (part.startsWith("#")) el.id = part.slice(1);
    else el.classList.add(part.slice(1));
  }
  if (attrs && (attrs instanceof Node || typeof attrs !== "object" || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "testid") el.dataset.testid = value;
    else if (key === "class") el.className = [el.className, value].filter(Boolean).join(" ");
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Remove every child of `el` and append `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** An SVG element with attributes. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** A coloured label: `badge("mo", "MO")` uses the `.badge-mo` colours. */
export function badge(tone, text, attrs = {}) {
  return h(`span.badge.badge-${tone}`, attrs, text);
}

/** A heading row for a view: title, subtitle and optional actions on the right. */
export function viewHeader(title, subtitle, ...actions) {
  return h(
    "header.view-header",
    h("div", h("h1", title), subtitle ? h("p.view-subtitle", subtitle) : null),
    actions.length ? h("div.view-actions", actions) : null,
  );
}

/** A placeholder paragraph for an empty list. */
export function empty(text) {
  return h("p.empty", text);
}

/** A `<table>` with a header row; `rows` are arrays of cells or ready `<tr>`s. */
export function table(headers, rows, attrs = {}) {
  const head = h("thead", h("tr", headers.map((x) => h("th", x))));
  const body = h(
    "tbody",
    rows.map((row) => (row instanceof Node ? row : h("tr", row.map((cell) => h("td", cell))))),
  );
  labelCells(head, body);
  return h("div.table-wrap", h("table.data", attrs, head, body));
}

/**
 * Give each body cell its column's name as `data-label`, for the narrow-screen layout
 * where a row becomes a card and the header row is hidden (console.css). A cell that
 * spans columns gets none.
 */
export function labelCells(head, body) {
  const names = [...head.querySelectorAll("th")].map((th) => th.textContent.trim());
  for (const row of body.querySelectorAll(":scope > tr")) {
    let column = 0;
    for (const cell of row.children) {
      const span = cell.colSpan || 1;
      if (span === 1 && names[column]) cell.dataset.label = names[column];
      column += span;
    }
  }
}

// -- toasts ---------------------------------------------------------------------------

let toastHost = null;

function host() {
  if (!toastHost || !toastHost.isConnected) {
    toastHost = h("div.toasts", { "aria-live": "polite", role: "status" });
    document.body.append(toastHost);
  }
  return toastHost;
}

function showToast(text, { tone, testid, timeout }) {
  const close = h("button.toast-close", { type: "button", title: t("common.close"), "aria-label": t("common.close") }, "×");
  const el = h(`div.toast.toast-${tone}`, { testid, role: tone === "error" ? "alert" : "status" }, h("span.toast-text", text), close);
  const remove = () => {
    el.classList.add("toast-leaving");
    setTimeout(() => el.remove(), 180);
  };
  close.addEventListener("click", remove);
  host().prepend(el);
  while (host().children.length > 5) host().lastElementChild.remove();
  if (timeout) setTimeout(remove, timeout);
  return el;
}

/** A dismissible error toast (`data-testid="toast"`): API errors and rejected input. */
export function toastError(text) {
  return showToast(text, { tone: "error", testid: "toast", timeout: 10000 });
}

/** A short confirmation or warning (`data-testid="notice"`), gone after a few seconds. */
export function notice(text, tone = "ok") {
  return showToast(text, { tone, testid: "notice", timeout: tone === "ok" ? 4000 : 8000 });
}

/** Run an async action; any error becomes a toast and the promise resolves to undefined. */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    toastError(errorText(error));
    return undefined;
  }
}

/** The text a user should read for an error thrown by the API client or the page. */
export function errorText(error) {
  if (error && typeof error.userText === "string") return error.userText;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Debounce: `fn` runs once `ms` after the last call. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
