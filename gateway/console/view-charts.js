// #/charts: revenue by plan and by day, plans serving over time, renewals succeeded vs
// failed (GET /api/reports/...), drawn in inline SVG.

import { api, on, stream } from "./api.js";
import { barChart, lineChart, stackedBarChart } from "./charts.js";
import { debounce, errorText, fill, h, toastError, viewHeader } from "./dom.js";
import { fmtDay, fmtInt, fmtMoney, t } from "./i18n.js";

const DAYS = 30;

function legend(items) {
  return h("div.legend", items.map(([name, color]) => h("span.legend-item", h("span.swatch", { style: { background: color } }), name)));
}

function card(testid, title, legendItems) {
  const body = h("div.chart-body", h("p.muted", t("common.loading")));
  const el = h("figure.card.chart", { testid }, h("figcaption", h("h2", title), legend(legendItems)), body);
  return { el, body };
}

export function mount(container) {
  const money = (v) => fmtMoney(v);
  const count = (v) => fmtInt(v);
  const day = (d) => fmtDay(d, { short: true });
  const colors = { revenue: "var(--c-primary)", day: "var(--c-teal)", active: "var(--c-indigo)", ok: "var(--c-ok)", failed: "var(--c-danger)" };
  const byPackage = card("chart-revenue-package", t("charts.revenue_package"), [[t("charts.series.revenue"), colors.revenue]]);
  const byDay = card("chart-revenue-day", t("charts.revenue_day"), [[t("charts.series.revenue"), colors.day]]);
  const active = card("chart-active", t("charts.active"), [[t("charts.series.active"), colors.active]]);
  const renewals = card("chart-renewals", t("charts.renewals"), [[t("charts.series.succeeded"), colors.ok], [t("charts.series.failed"), colors.failed]]);
  let token = 0;
  let toasted = false;
  let loaded = null;
  let drawnAt = 0;

  async function load() {
    const mine = ++token;
    const get = (path) => api.get(path).then((body) => (Array.isArray(body?.rows) ? body.rows : []));
    const results = await Promise.allSettled([
      get("/api/reports/revenue?by=package"),
      get("/api/reports/revenue?by=day"),
      get(`/api/reports/subscriptions?days=${DAYS}`),
      get(`/api/reports/renewals?days=${DAYS}`),
    ]);
    if (mine !== token) return;
    const failure = results.find((r) => r.status === "rejected");
    if (failure && !toasted) toastError(errorText(failure.reason));
    toasted = Boolean(failure);
    loaded = results.map((r) => (r.status === "fulfilled" ? r.value : []));
    draw();
  }

  // drawn at the cards' width, so that labels keep their size on a phone
  function draw() {
    if (!loaded) return;
    const rows = (i) => loaded[i];
    const emptyText = t("common.empty");
    const width = byPackage.body.clientWidth;
    drawnAt = width;

    fill(byPackage.body, barChart({
      width, title: t("charts.revenue_package"),
      rows: rows(0).map((r) => ({ label: r.key, value: r.amount, tip: `${r.key}: ${money(r.amount)} · ${t("charts.count", { count: fmtInt(r.count ?? 0) })}` })),
      format: money, xTitle: t("charts.axis.package"), yTitle: t("charts.axis.revenue"), color: colors.revenue, emptyText,
    }));
    fill(byDay.body, barChart({
      width, title: t("charts.revenue_day"),
      rows: rows(1).map((r) => ({ label: day(r.key), value: r.amount, tip: `${fmtDay(r.key)}: ${money(r.amount)} · ${t("charts.count", { count: fmtInt(r.count ?? 0) })}` })),
      format: money, xTitle: t("charts.axis.day"), yTitle: t("charts.axis.revenue"), color: colors.day, emptyText,
    }));
    fill(active.body, lineChart({
      width, title: t("charts.active"),
      rows: rows(2).map((r) => ({ label: day(r.day), value: r.active })),
      format: count, xTitle: t("charts.axis.day"), yTitle: t("charts.axis.active"), color: colors.active, emptyText,
    }));
    fill(renewals.body, stackedBarChart({
      width, title: t("charts.renewals"),
      rows: rows(3).map((r) => ({ label: day(r.day), values: [r.succeeded ?? 0, r.failed ?? 0] })),
      series: [{ name: t("charts.series.succeeded"), color: colors.ok }, { name: t("charts.series.failed"), color: colors.failed }],
      format: count, xTitle: t("charts.axis.day"), yTitle: t("charts.axis.renewals"), emptyText,
    }));
  }

  const refresh = debounce(load, 1500);
  const unsubscribe = stream.subscribe((event) => {
    if (["charge", "renewal", "renewal_failed", "expiry", "cancel"].includes(event.kind)) refresh();
  });
  const offClock = on("clock", () => refresh());
  fill(
    container,
    viewHeader(t("charts.title"), t("charts.subtitle"), h("button.btn.btn-ghost", { type: "button", onclick: load }, t("common.refresh"))),
    h("div.chart-grid", byPackage.el, byDay.el, active.el, renewals.el),
  );
  load();
  // redrawn in the next frame, never inside the observer (a "ResizeObserver loop" error)
  const resized = new ResizeObserver(() => {
    requestAnimationFrame(() => {
      if (byPackage.body.isConnected && Math.abs(byPackage.body.clientWidth - drawnAt) >= 8) draw();
    });
  });
  resized.observe(byPackage.body);
  return () => {
    resized.disconnect();
    token += 1;
    refresh.cancel();
    unsubscribe();
    offClock();
  };
}
