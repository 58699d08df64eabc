// #/traffic: the live stream of every event, newest first, with filters, and the
// gateway's counters (GET /api/stats, every 2 s) with the throughput they imply.

import { KINDS, api, catalogs, stream } from "./api.js";
import { badge, errorText, fill, h, toastError, viewHeader } from "./dom.js";
import { fmtDecimal, fmtInt, fmtMoney, fmtTime, t, tMaybe } from "./i18n.js";
import { displayMsisdn, msisdnQuery } from "./sms.js";

const MAX_ROWS = 500;
const STATS_EVERY_MS = 2000;
/** The counters whose growth is the throughput. */
const RATE_KEYS = ["mo", "mt", "charges", "renewals", "renewals_failed", "errors", "mail"];

const filters = { msisdn: "", shortcode: "", kind: "" };
let clearedSeq = 0;
let packageShortcode = {};

/** Each kind's one-line summary. */
export function summary(event) {
  const money = (v) => (v === undefined || v === null ? "–" : fmtMoney(v));
  switch (event.kind) {
    case "mo":
    case "mt":
      return event.text ?? "";
    case "charge":
      return t("summary.charge", {
        amount: money(event.amount),
        package: event.package ?? "–",
        reason: tMaybe(`reason.${event.reason}`, event.reason ?? "–"),
        rule: event.rule ?? "–",
      });
    case "renewal":
    case "renewal_failed":
      return t(`summary.${event.kind}`, { package: event.package ?? "–", amount: money(event.amount) });
    case "expiry":
      return t("summary.expiry", { package: event.package ?? "–" });
    case "cancel":
      return t("summary.cancel", { package: event.package ?? "–", status: tMaybe(`pack.status.${event.status}`, event.status ?? "") });
    case "price_notice":
      // status carries the first renewal that charges the new price
      return t("summary.price_notice", { package: event.package ?? "–", amount: money(event.amount), from: fmtTime(event.status) });
    case "error":
      return t("summary.error", { reason: event.reason ?? "–", topic: event.topic ?? "–" });
    case "clock":
      return t("summary.clock", { now: fmtTime(event.now) });
    case "mail":
      return t("summary.mail", { to: Array.isArray(event.to) ? event.to.join(", ") : event.to ?? "–", subject: event.subject ?? "" });
    case "ticket":
      return t("summary.ticket", { id: event.id ?? "?", status: tMaybe(`tickets.status.${event.status}`, event.status ?? "") });
    case "handset":
      return t("summary.handset", { state: tMaybe(`handset.${event.state}`, event.state ?? "–") });
    case "dlr":
      return t("summary.dlr", { stat: event.stat ?? "–", err: String(event.err ?? 0).padStart(3, "0"), shortcode: event.shortcode ?? "–" });
    case "dropped":
      return t("summary.dropped", { count: event.dropped ?? event.count ?? "?" });
    default:
      return JSON.stringify(Object.fromEntries(Object.entries(event).filter(([k]) => !k.startsWith("_"))));
  }
}

/** The short code of an event: its own, or the one of the catalog that sells its package. */
function shortcodeOf(event) {
  return event.shortcode ?? (event.package ? packageShortcode[event.package] : undefined) ?? null;
}

function matches(event) {
  if (event._seq <= clearedSeq) return false;
  if (filters.kind && event.kind !== filters.kind) return false;
  if (filters.msisdn) {
    const q = msisdnQuery(filters.msisdn);
    if (!String(event.msisdn ?? "").includes(q)) return false;
  }
  if (filters.shortcode) {
    const sc = shortcodeOf(event);
    if (!sc || !String(sc).includes(filters.shortcode.trim())) return false;
  }
  return true;
}

function row(event) {
  const sc = shortcodeOf(event);
  const mtMeta = event.kind === "mt" && event.encoding ? h("span.row-meta", ` · ${event.encoding} · ${t("phones.segments", { count: event.segments ?? 1 })}`) : null;
  return h(
    "tr.traffic-row",
    { testid: "traffic-row", dataset: { kind: event.kind, seq: event._seq } },
    h("td.nowrap.mono", fmtTime(event.at ?? event.now, { seconds: true })),
    h("td", badge(event.kind, tMaybe(`kind.${event.kind}`, event.kind))),
    h("td.nowrap.mono", event.msisdn ? h("a", { href: `#/subscribers/${event.msisdn}` }, displayMsisdn(event.msisdn)) : "–"),
    h("td.mono", sc ? h("span", { class: event.shortcode ? "" : "derived" }, sc) : "–"),
    h("td.summary", h("span", summary(event)), mtMeta),
  );
}

export function mount(container) {
  let paused = false;
  let waiting = 0;
  let pending = [];
  let frame = 0;
  let last = null; // {at, totals} of the previous stats poll
  let statsFailed = false;
  let timer = 0;

  const list = h("tbody", { testid: "traffic-list" });
  const emptyRow = h("tr.empty-row", h("td", { colspan: 5 }, t("traffic.empty")));
  const waitingNote = h("span.waiting", { hidden: true });

  const counter = (testid, key, tone) =>
    h(`div.counter.counter-${tone}`,
      h("div.counter-label", t(key)),
      h("div.counter-value", { testid, dataset: { value: "0" } }, "0"));
  const counters = h(
    "div.counters",
    counter("counter-mo", "counter.mo", "mo"),
    counter("counter-mt", "counter.mt", "mt"),
    counter("counter-charges", "counter.charges", "charge"),
    counter("counter-errors", "counter.errors", "error"),
    counter("counter-rate", "counter.rate", "rate"),
  );
  const since = h("p.counters-since");

  const setCounter = (testid, value, text) => {
    const el = counters.querySelector(`[data-testid="${testid}"]`);
    el.dataset.value = String(value);
    el.textContent = text ?? fmtInt(value);
  };

  async function poll() {
    try {
      const stats = await api.get("/api/stats");
      statsFailed = false;
      setCounter("counter-mo", stats.mo ?? 0);
      setCounter("counter-mt", stats.mt ?? 0);
      setCounter("counter-charges", stats.charges ?? 0);
      setCounter("counter-errors", stats.errors ?? 0);
      const total = RATE_KEYS.reduce((sum, key) => sum + (Number(stats[key]) || 0), 0);
      const at = performance.now();
      if (last && at > last.at) {
        const rate = Math.max(0, (total - last.total) / ((at - last.at) / 1000));
        setCounter("counter-rate", rate.toFixed(1), fmtDecimal(rate));
      } else {
        setCounter("counter-rate", "0.0", fmtDecimal(0));
      }
      last = { at, total };
      since.textContent = stats.started_at ? t("counter.since", { at: fmtTime(stats.started_at) }) : "";
    } catch (error) {
      if (!statsFailed) toastError(errorText(error));
      statsFailed = true;
    }
  }

  function renderAll() {
    const rows = [];
    for (let i = stream.recent.length - 1; i >= 0 && rows.length < MAX_ROWS; i -= 1) {
      const event = stream.recent[i];
      if (matches(event)) rows.push(row(event));
    }
    fill(list, rows.length ? rows : emptyRow);
    waiting = 0;
    waitingNote.hidden = true;
  }

  function flush() {
    frame = 0;
    const fresh = pending.filter(matches);
    pending = [];
    if (!fresh.length) return;
    if (paused) {
      waiting += fresh.length;
      waitingNote.hidden = false;
      waitingNote.textContent = t("traffic.paused_count", { count: fmtInt(waiting) });
      return;
    }
    if (emptyRow.isConnected) emptyRow.remove();
    const fragment = document.createDocumentFragment();
    for (let i = fresh.length - 1; i >= 0 && fragment.childNodes.length < MAX_ROWS; i -= 1) {
      const el = row(fresh[i]);
      el.classList.add("fresh");
      fragment.append(el);
    }
    list.prepend(fragment);
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
  }

  const unsubscribe = stream.subscribe((event) => {
    pending.push(event);
    if (pending.length > MAX_ROWS * 2) pending.splice(0, pending.length - MAX_ROWS);
    if (!frame) frame = requestAnimationFrame(flush);
  });

  const input = (testid, key, placeholder, extra = {}) =>
    h("label.field",
      h("span.field-label", t(key)),
      h("input.input", {
        testid, value: filters[testid.replace("traffic-filter-", "")], placeholder, autocomplete: "off", ...extra,
        oninput: (e) => {
          filters[testid.replace("traffic-filter-", "")] = e.target.value;
          renderAll();
        },
      }));
  const kindSelect = h("select.input", {
    testid: "traffic-filter-kind",
    onchange: (e) => {
      filters.kind = e.target.value;
      renderAll();
    },
  },
  h("option", { value: "" }, t("common.all")),
  KINDS.map((kind) => h("option", { value: kind, selected: filters.kind === kind }, `${tMaybe(`kind.${kind}`, kind)} (${kind})`)));
  const shortcodeList = h("datalist#traffic-shortcodes");
  const pauseButton = h("button.btn.btn-ghost", {
    type: "button",
    onclick: () => {
      paused = !paused;
      pauseButton.textContent = paused ? t("traffic.resume") : t("traffic.pause");
      pauseButton.classList.toggle("active", paused);
      if (!paused) renderAll();
    },
  }, t("traffic.pause"));
  const clearButton = h("button.btn.btn-ghost", {
    type: "button",
    onclick: () => {
      clearedSeq = stream.seq;
      renderAll();
    },
  }, t("traffic.clear"));

  fill(
    container,
    viewHeader(t("traffic.title"), t("traffic.subtitle", { max: MAX_ROWS }), waitingNote, pauseButton, clearButton),
    counters,
    since,
    h("div.filters",
      input("traffic-filter-msisdn", "traffic.filter.msisdn", "0912…", { inputmode: "tel" }),
      input("traffic-filter-shortcode", "traffic.filter.shortcode", "888", { list: "traffic-shortcodes", inputmode: "numeric" }),
      h("label.field", h("span.field-label", t("traffic.filter.kind")), kindSelect),
      shortcodeList),
    h("div.table-wrap.traffic-wrap",
      h("table.data.traffic",
        h("thead", h("tr",
          h("th", t("traffic.col.time")), h("th", t("traffic.col.kind")), h("th", t("traffic.col.msisdn")),
          h("th", t("traffic.col.shortcode")), h("th", t("traffic.col.summary")))),
        list)),
  );
  renderAll();
  poll();
  timer = setInterval(poll, STATS_EVERY_MS);

  catalogs()
    .then((list) => {
      packageShortcode = {};
      for (const c of list) for (const p of c.packages ?? []) packageShortcode[p.code] = String(c.shortcode);
      fill(shortcodeList, list.map((c) => h("option", { value: String(c.shortcode) }, c.name ?? "")));
      if (!paused) renderAll();
    })
    .catch(() => {
      // without catalogs a charge simply shows no short code
    });

  return () => {
    unsubscribe();
    clearInterval(timer);
    if (frame) cancelAnimationFrame(frame);
  };
}
