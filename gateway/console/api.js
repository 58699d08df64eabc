// The console's only way to the gateway: the public HTTP API (with the tab's token, if
// any) and one shared Server-Sent Events stream.

import { atOffset, isoParts, t } from "./i18n.js";

const TOKEN_KEY = "scgw.console.token";

/** Take `?token=` from the page address into sessionStorage, and out of the address bar. */
function adoptToken() {
  let token = null;
  try {
    const params = new URLSearchParams(window.location.search);
    token = params.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      params.delete("token");
      const query = params.toString();
      const clean = window.location.pathname + (query ? `?${query}` : "") + window.location.hash;
      window.history.replaceState(null, "", clean);
    } else {
      token = sessionStorage.getItem(TOKEN_KEY);
    }
  } catch {
    // no storage: the token (if any) is used for this page only
  }
  return token || null;
}

const token = adoptToken();

/** An error answer from the API: `status` and the text of its `detail`. */
export class ApiError extends Error {
  constructor(status, detail, path) {
    super(`${status} ${path}: ${detail}`);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
    this.path = path;
    this.userText = detail || t("err.http", { status });
  }
}

/** A request that never reached an answer (gateway down, network error). */
export class NetworkError extends Error {
  constructor(cause, path) {
    super(`${path}: ${cause}`);
    this.name = "NetworkError";
    this.userText = t("err.network", { detail: String(cause?.message ?? cause) });
  }
}

/** FastAPI's `detail`: a string, or a list of `{loc, msg}` for a validation error. */
function detailText(body) {
  const detail = body && typeof body === "object" ? body.detail : body;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const loc = Array.isArray(item?.loc) ? item.loc.filter((x) => x !== "body").join(".") : "";
        return loc ? `${loc}: ${item?.msg ?? ""}` : String(item?.msg ?? JSON.stringify(item));
      })
      .join("; ");
  }
  if (detail === undefined || detail === null) return typeof body === "string" ? body.slice(0, 300) : "";
  return typeof detail === "string" ? detail : JSON.stringify(detail);
}

/**
 * Call the API: `request("GET", "/api/clock")`, `request("POST", path, body)`.
 * Answers the parsed JSON (or text); throws ApiError for a 4xx/5xx, NetworkError when
 * there is no answer.
 */
export async function request(method, path, body) {
  const headers = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new NetworkError(error, path);
  }
  const text = await response.text().catch(() => "");
  let parsed = text;
  if (text && (response.headers.get("content-type") ?? "").includes("json")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) throw new ApiError(response.status, detailText(parsed), path);
  return parsed;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body ?? {}),
  put: (path, body) => request("PUT", path, body ?? {}),
};

/** A query string from an object, leaving out undefined and null values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// -- the event stream ------------------------------------------------------------------

export const KINDS = [
  "mo", "mt", "charge", "renewal", "renewal_failed", "expiry", "cancel", "price_notice", "error", "clock", "mail", "ticket", "handset", "dlr",
];
const RECENT_MAX = 500;

/**
 * One EventSource on `/api/events` for the whole page, shared by every view.
 *
 * A browser holds at most six HTTP/1.1 connections to one host; an EventSource per
 * phone would use them up and stall the page's other requests, so views filter the
 * shared stream themselves. The last 500 events are kept for views opened later.
 */
class EventStream extends EventTarget {
  constructor() {
    super();
    this.recent = [];
    this.state = "connecting";
    this.source = null;
    this.retry = null;
    this.seq = 0;
  }

  start() {
    if (this.source || typeof EventSource === "undefined") return;
    const url = `/api/events${token ? query({ token }) : ""}`;
    const source = new EventSource(url);
    this.source = source;
    const onEvent = (kind) => (message) => this.receive(kind, message.data);
    for (const kind of [...KINDS, "dropped"]) source.addEventListener(kind, onEvent(kind));
    source.onmessage = (message) => this.receive(null, message.data);
    source.onopen = () => this.setState("live");
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // the server refused the stream (not a reconnect): try again later ourselves
        source.close();
        this.source = null;
        this.setState("down");
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.start(), 5000);
      } else {
        this.setState("connecting");
      }
    };
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  receive(kind, data) {
    let payload = {};
    try {
      payload = data ? JSON.parse(data) : {};
    } catch {
      payload = { text: String(data) };
    }
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) payload = { value: payload };
    const event = { ...payload, kind: kind ?? payload.kind ?? "message", _seq: ++this.seq };
    // every time on the page is in the gateway's display offset (the one of `at`): a
    // `clock` event may carry `now` in another one (UTC)
    const offset = isoParts(event.at)?.offset;
    if (offset && typeof event.now === "string" && isoParts(event.now)?.offset !== offset) {
      event.now = atOffset(event.now, offset);
    }
    this.recent.push(event);
    if (this.recent.length > RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
    this.dispatchEvent(new CustomEvent("event", { detail: event }));
  }

  /** Call `fn(event)` for each event from now on; returns the function that stops it. */
  subscribe(fn) {
    const listener = (e) => {
      try {
        fn(e.detail);
      } catch (error) {
        // a view's bug must not stop the stream for the others
        reportError(error);
      }
    };
    this.addEventListener("event", listener);
    return () => this.removeEventListener("event", listener);
  }
}

/** Shown, not thrown: the page never lets an exception escape into the console. */
let errorReporter = () => {};
export function setErrorReporter(fn) {
  errorReporter = fn;
}
function reportError(error) {
  errorReporter(error);
}

export const stream = new EventStream();

/** Page-wide notifications between the header and the views (`clock`, `lang`). */
const bus = new EventTarget();
export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}
export function on(name, fn) {
  const listener = (e) => fn(e.detail);
  bus.addEventListener(name, listener);
  return () => bus.removeEventListener(name, listener);
}

// -- shared data -----------------------------------------------------------------------

let catalogsPromise = null;

/** The loaded catalogs (cached for the page; `[]` if the gateway has none to give). */
export function catalogs({ reload = false } = {}) {
  if (!catalogsPromise || reload) {
    catalogsPromise = api
      .get("/api/catalogs")
      .then((body) => (Array.isArray(body?.catalogs) ? body.catalogs : []))
      .catch((error) => {
        catalogsPromise = null;
        throw error;
      });
  }
  return catalogsPromise;
}

/** Does the gateway know this (canonical) MSISDN? Asked through search, which never 404s. */
export async function subscriberExists(msisdn) {
  const body = await api.get(`/api/subscribers${query({ query: msisdn, limit: 20 })}`);
  const list = Array.isArray(body?.subscribers) ? body.subscribers : [];
  return list.find((s) => s.msisdn === msisdn) ?? null;
}
