// #/catalogs: each loaded catalog as a card, its plans and their terms in words.

import { catalogs } from "./api.js";
import { badge, empty, errorText, fill, h, table, toastError, viewHeader } from "./dom.js";
import { fmtDay, fmtMoney, lang, t } from "./i18n.js";

/** The catalog text in the console's language (plans carry vi, vi-diacritics and en). */
function localised(map) {
  if (!map || typeof map !== "object") return map ?? "";
  return lang() === "en" ? map.en ?? map["vi-diacritics"] ?? map.vi : map["vi-diacritics"] ?? map.vi ?? map.en;
}

function validityText(rule) {
  if (!rule || typeof rule !== "object") return "–";
  let base = null;
  if (rule.hours) base = rule.hours % 24 === 0 ? t("validity.days", { days: rule.hours / 24 }) : t("validity.hours", { hours: rule.hours });
  else if (rule.months) base = t("validity.months", { months: rule.months });
  if (rule.cap === "month_end") return base ? t("validity.capped", { base }) : t("validity.month_end");
  return base ?? "–";
}

/** One line when prepaid and postpaid agree, else one line each. */
function validityCell(validity) {
  const prepaid = validityText(validity?.prepaid);
  const postpaid = validityText(validity?.postpaid);
  if (prepaid === postpaid) return prepaid;
  return [
    h("div", h("span.muted", `${t("catalogs.validity.prepaid")}: `), prepaid),
    h("div", h("span.muted", `${t("catalogs.validity.postpaid")}: `), postpaid),
  ];
}

function daysText(from, before) {
  const f = from && from > 1 ? from : null;
  const b = before && before < 32 ? before : null;
  if (f && b) return t("terms.days.range", { from: f, before: b });
  if (f) return t("terms.days.from", { from: f });
  if (b) return t("terms.days.before", { before: b });
  return t("terms.days.any");
}

/** Every term of a plan, as sentences. */
function termsInWords(pkg) {
  const out = [];
  const price = Number(pkg.price) || 0;
  if (price === 0) out.push(t("terms.free"));
  if (pkg.kind === "addon") out.push(t("terms.addon", { group: pkg.requires ?? "?" }));
  if (pkg.trial?.days) out.push(t("terms.trial", { days: pkg.trial.days }));
  if (pkg.commitment?.periods) out.push(t(`terms.commitment.${pkg.commitment.billing === "upfront" ? "upfront" : "per_period"}`, { periods: pkg.commitment.periods }));
  for (const v of pkg.price_versions ?? []) {
    out.push(t("terms.price_version", { amount: fmtMoney(v.amount), from: fmtDay(v.from_date), announced: fmtDay(v.announced), notice: v.notice_days ?? 30 }));
  }
  const c = pkg.cancellation ?? {};
  if (price > 0) {
    if (c.self_service === false) out.push(t("terms.cancel.contact_sales"));
    out.push(t(`terms.cancel.${c.effective ?? "immediate"}`));
    const refunds = Array.isArray(c.refunds) ? c.refunds : [];
    for (const r of refunds) {
      const refund = t(`terms.refund.${r.refund ?? "none"}`);
      if (r.within_days) out.push(t("terms.refund.within_days", { refund, days: r.within_days, name: r.name }));
      else if (r.unused_since_last_payment) out.push(t("terms.refund.unused", { refund, name: r.name }));
      else out.push(t("terms.refund.always", { refund, name: r.name }));
    }
    if (!refunds.length && price > 0) out.push(t("terms.no_refund"));
    if (c.fee) {
      const after = c.fee.after_days ? t("terms.fee.after", { days: c.fee.after_days }) : "";
      out.push(t("terms.fee", { percent: c.fee.percent, after, name: c.fee.name }));
    }
    if (c.confirm_refund) out.push(t("terms.confirm_refund"));
    if (c.offer_retention) out.push(t("terms.offer_retention"));
  }
  if (pkg.retention?.pause_cycles) out.push(t("terms.retention.pause", { cycles: pkg.retention.pause_cycles }));
  if (pkg.retention?.switch_to) out.push(t("terms.retention.switch", { code: pkg.retention.switch_to }));
  if (pkg.reactivation) out.push(t("terms.reactivation", { code: pkg.code }));
  if (pkg.fallback) out.push(t("terms.fallback", { code: pkg.fallback }));
  for (const p of pkg.proration ?? []) {
    const kind = t(`terms.kind.${p.kind ?? "any"}`);
    const on = p.on === "cancellation" ? "cancellation" : "registration";
    out.push(t(`terms.proration.${on}`, { days: daysText(p.from_day, p.before_day), kind, percent: p.percent, name: p.name }));
  }
  return out;
}

function keywordChips(keywords) {
  if (!keywords || typeof keywords !== "object") return null;
  const rows = [];
  for (const key of ["subscribe", "cancel", "status", "reactivate", "check", "list_all", "confirm", "decline"]) {
    const value = keywords[key];
    if (!value) continue;
    const words = Array.isArray(value) ? value : Object.keys(value);
    if (!words.length) continue;
    rows.push(h("div.kw-row", h("span.kw-label", t(`catalogs.kw.${key}`)), h("span.kw-list", words.map((w) => h("code.kw", w)))));
  }
  return h("div.keywords", rows);
}

function catalogCard(c) {
  const packages = Array.isArray(c.packages) ? c.packages : [];
  const facts = [
    c.double_opt_in ? t("catalogs.double_opt_in") : t("catalogs.single_opt_in"),
    c.conversation_minutes ? t("catalogs.conversation", { minutes: c.conversation_minutes }) : null,
    c.renewal ? t("catalogs.renewal", { hours: c.renewal.retry_every_hours ?? "?", days: c.renewal.give_up_after_days ?? "?" }) : null,
    c.out_of_bundle_per_mb !== undefined && c.out_of_bundle_per_mb !== null ? t("catalogs.out_of_bundle", { amount: fmtMoney(c.out_of_bundle_per_mb) }) : null,
  ].filter(Boolean);
  return h(
    "article.card.catalog-card",
    { testid: "catalog-card", dataset: { shortcode: String(c.shortcode ?? "") } },
    h("header.catalog-head",
      h("div.shortcode-tile", String(c.shortcode ?? "?")),
      h("div",
        h("h2", c.name ?? ""),
        h("p.muted", `${t("catalogs.operator")}: `, h("strong", c.operator ?? "–"), ` · ${t("catalogs.timezone")}: ${c.timezone ?? "–"} · ${t("catalogs.language")}: ${c.default_language ?? "vi"}`))),
    h("ul.facts", facts.map((f) => h("li", f))),
    h("h3", t("catalogs.keywords")),
    keywordChips(c.keywords),
    table(
      [t("catalogs.col.plan"), t("catalogs.col.price"), t("catalogs.col.validity"), t("catalogs.col.terms")],
      packages.map((p) => h("tr", { dataset: { code: p.code } },
        h("td",
          h("strong.mono", p.code), p.kind === "addon" ? [" ", badge("info", "add-on")] : null,
          h("div.muted.small", localised(p.benefit))),
        h("td.num.nowrap",
          Number(p.price) > 0 ? [fmtMoney(p.price), h("span.muted", t("catalogs.per", { period: localised(p.period) || "" }))] : t("catalogs.free")),
        h("td.small.validity", validityCell(p.validity)),
        h("td.small", h("ul.terms", termsInWords(p).map((line) => h("li", line)))))),
      { class: "catalog-plans" }),
  );
}

export function mount(container) {
  const list = h("div.catalogs", h("p.muted", t("common.loading")));
  fill(container, viewHeader(t("catalogs.title"), t("catalogs.subtitle")), list);
  let alive = true;
  catalogs({ reload: true })
    .then((all) => {
      if (!alive) return;
      const sorted = [...all].sort((a, b) => Number(a.shortcode) - Number(b.shortcode) || String(a.shortcode).localeCompare(String(b.shortcode)));
      fill(list, sorted.length ? sorted.map(catalogCard) : empty(t("common.empty")));
    })
    .catch((error) => {
      if (!alive) return;
      fill(list, empty(t("common.empty")));
      toastError(errorText(error));
    });
  return () => {
    alive = false;
  };
}
