// #/subscribers and #/subscribers/<msisdn>: search, provision, and one subscriber's
// balance, plans, invoices, charges (with the rule and its inputs) and timeline.

import { api, catalogs, on, query, stream, subscriberExists } from "./api.js";
import { attempt, badge, debounce, empty, errorText, fill, h, notice, table, toastError, viewHeader } from "./dom.js";
import { fmtMoney, fmtMonth, fmtTime, t, tMaybe } from "./i18n.js";
import { canonicalMsisdn, displayMsisdn, msisdnQuery } from "./sms.js";
import { openOnPhone } from "./view-phones.js";
import { summary } from "./view-traffic.js";

let lastQuery = "";

export function mount(container, { param }) {
  return param ? mountDetail(container, param) : mountList(container);
}

// -- shared pieces ------------------------------------------------------------------------

/** A positive whole amount of đồng from "10000", "10.000", "10,000 VND"; null otherwise. */
function parseAmount(text) {
  const digits = String(text ?? "").replace(/[^\d-]/g, "");
  if (!/^-?\d+$/.test(digits)) return null;
  return Number(digits);
}

function kindOptions(selected, { keep = false } = {}) {
  return [
    keep ? h("option", { value: "" }, t("subs.field.keep")) : null,
    ...["prepaid", "postpaid"].map((kind) => h("option", { value: kind, selected: selected === kind }, t(`subs.kind.${kind}`))),
  ];
}

function languageOptions(selected, { keep = false } = {}) {
  return [
    keep ? h("option", { value: "" }, t("subs.field.keep")) : null,
    ...["vi", "vi-diacritics", "en"].map((code) => h("option", { value: code, selected: selected === code }, t(`subs.lang.${code}`))),
  ];
}

function field(label, control, hint) {
  return h("label.field", h("span.field-label", label), control, hint ? h("span.field-hint", hint) : null);
}

function statusBadge(status) {
  const tone = { active: "ok", trial: "info", renewal_failed: "warn", pending_cancel: "warn", paused: "muted", cancelled: "muted", expired: "muted", closed: "danger" }[status] ?? "muted";
  return badge(tone, tMaybe(`pack.status.${status}`, tMaybe(`subs.status.${status}`, status ?? "–")));
}

function provisionForm(prefill = "") {
  const msisdn = h("input.input", { testid: "provision-msisdn", value: prefill, placeholder: "0912345678", inputmode: "tel", autocomplete: "off" });
  const kind = h("select.input", { testid: "provision-kind" }, kindOptions(null, { keep: true }));
  const balance = h("input.input", { testid: "provision-balance", placeholder: "50000", inputmode: "numeric", autocomplete: "off" });
  const email = h("input.input", { type: "email", placeholder: "an@example.com", autocomplete: "off" });
  const language = h("select.input", languageOptions(null, { keep: true }));
  const go = h("button.btn.btn-primary", { type: "submit", testid: "provision-go" }, t("subs.provision.go"));
  return h(
    "form.card.form-card",
    {
      onsubmit: async (e) => {
        e.preventDefault();
        const canonical = canonicalMsisdn(msisdn.value);
        if (!canonical) {
          toastError(t("err.msisdn", { value: msisdn.value }));
          return;
        }
        const body = {};
        if (kind.value) body.kind = kind.value;
        if (balance.value.trim()) {
          const amount = parseAmount(balance.value);
          if (amount === null) {
            toastError(t("err.amount", { value: balance.value }));
            return;
          }
          body.balance = amount;
        }
        if (email.value.trim()) body.email = email.value.trim();
        if (language.value) body.language = language.value;
        go.disabled = true;
        const saved = await attempt(() => api.put(`/api/subscribers/${canonical}`, body));
        go.disabled = false;
        if (saved) {
          notice(t("subs.provision.updated", { msisdn: displayMsisdn(canonical) }));
          window.location.hash = `#/subscribers/${canonical}`;
        }
      },
    },
    h("h2", t("subs.provision.title")),
    h("p.muted", t("subs.provision.hint")),
    h("div.form-grid",
      field(t("subs.field.msisdn"), msisdn),
      field(t("subs.field.kind"), kind),
      field(t("subs.field.balance"), balance),
      field(t("subs.field.email"), email),
      field(t("subs.field.language"), language)),
    h("div.form-actions", go),
  );
}

// -- the list -----------------------------------------------------------------------------

function mountList(container) {
  const input = h("input.input.search-input", {
    type: "search", testid: "subscriber-search", value: lastQuery, placeholder: t("subs.search.placeholder"), autocomplete: "off",
  });
  const results = h("div.results");
  let token = 0;

  async function search() {
    lastQuery = input.value;
    const mine = ++token;
    fill(results, h("p.muted", t("common.loading")));
    try {
      const body = await api.get(`/api/subscribers${query({ query: msisdnQuery(input.value), limit: 50 })}`);
      if (mine !== token) return;
      const list = Array.isArray(body?.subscribers) ? body.subscribers : [];
      if (!list.length) {
        fill(results, empty(t("subs.no_results")));
        return;
      }
      fill(results, table(
        [t("subs.col.msisdn"), t("subs.col.kind"), t("subs.col.balance"), t("subs.col.status"), t("subs.col.email")],
        list.map((s) => {
          const href = `#/subscribers/${s.msisdn}`;
          return h("tr.clickable", {
            testid: "subscriber-result", dataset: { msisdn: s.msisdn }, tabindex: 0,
            onclick: () => { window.location.hash = href; },
            onkeydown: (e) => { if (e.key === "Enter") window.location.hash = href; },
          },
          h("td.mono", h("a", { href }, displayMsisdn(s.msisdn)), h("span.sub-mono", ` ${s.msisdn}`)),
          h("td", t(`subs.kind.${s.kind}`)),
          h("td.num", fmtMoney(s.balance)),
          h("td", statusBadge(s.status ?? "active")),
          h("td", s.email ?? "–"));
        }),
      ));
    } catch (error) {
      if (mine !== token) return;
      fill(results, empty(t("subs.no_results")));
      toastError(errorText(error));
    }
  }

  fill(
    container,
    viewHeader(t("subs.title"), t("subs.subtitle")),
    h("div.split",
      h("section.card",
        h("form.search-bar", { onsubmit: (e) => { e.preventDefault(); search(); } },
          input,
          h("button.btn.btn-primary", { type: "submit", testid: "subscriber-search-go" }, t("subs.search.go"))),
        h("h2", t("subs.results")),
        results),
      provisionForm()),
  );
  search();
  return () => { token += 1; };
}

// -- one subscriber -----------------------------------------------------------------------

function mountDetail(container, param) {
  const msisdn = canonicalMsisdn(param);
  const back = h("a.back", { href: "#/subscribers" }, "← ", t("common.back"));
  if (!msisdn) {
    fill(container, back, viewHeader(param, null), empty(t("err.msisdn", { value: param })), provisionForm(param));
    return null;
  }
  const state = { openMonth: null, openCharges: new Set(), token: 0, failed: new Set(), prices: {}, sub: null };

  const summaryBox = h("div.summary-grid");
  const packs = h("div", { testid: "subscriber-packs" });
  const invoices = h("div", { testid: "subscriber-invoices" });
  const charges = h("div", { testid: "subscriber-charges" });
  const timeline = h("div", { testid: "subscriber-timeline" });
  const actions = h("div.actions-grid");
  const body = h("div.detail", summaryBox, actions,
    h("section.card", h("h2", t("subs.packs.title")), packs),
    h("div.split",
      h("section.card", h("h2", t("subs.invoices.title")), invoices),
      h("section.card", h("h2", t("subs.timeline.title")), timeline)),
    h("section.card", h("h2", t("subs.charges.title")), h("p.muted", t("subs.charges.hint")), charges));
  const openPhone = h("button.btn.btn-ghost", { type: "button", onclick: () => openOnPhone(msisdn) }, t("subs.detail.open_phone"));
  const main = h("div", h("p.muted", t("common.loading")));
  fill(container, back, viewHeader(displayMsisdn(msisdn), msisdn, openPhone), main);

  /** A piece that failed once says so once, not at every refresh. */
  async function part(name, fn) {
    try {
      const value = await fn();
      state.failed.delete(name);
      return value;
    } catch (error) {
      if (!state.failed.has(name)) toastError(errorText(error));
      state.failed.add(name);
      return undefined;
    }
  }

  async function load() {
    const mine = ++state.token;
    const found = await part("exists", () => subscriberExists(msisdn));
    if (mine !== state.token) return;
    if (found === undefined) return;
    if (!found) {
      fill(main, h("p.notice-box", t("subs.not_found", { msisdn: displayMsisdn(msisdn) })), provisionForm(msisdn.replace(/^84/, "0")));
      return;
    }
    const base = `/api/subscribers/${msisdn}`;
    const [sub, inv, chg, tl] = await Promise.all([
      part("subscriber", () => api.get(base)),
      part("invoices", () => api.get(`${base}/invoices`)),
      part("charges", () => api.get(`${base}/charges`)),
      part("timeline", () => api.get(`${base}/timeline`)),
    ]);
    if (mine !== state.token) return;
    if (!body.isConnected) fill(main, body);
    if (sub) {
      const first = state.sub === null;
      state.sub = sub;
      renderSummary(sub);
      renderPacks(sub);
      if (first) renderActions(sub);
    }
    renderInvoices(inv);
    renderCharges(chg);
    renderTimeline(tl);
  }
  const refresh = debounce(load, 400);

  function renderSummary(sub) {
    const item = (label, value, attrs = {}) =>
      h("div.stat", h("div.stat-label", label), h("div.stat-value", { title: typeof value === "string" ? value : null, ...attrs }, value));
    fill(
      summaryBox,
      item(t("subs.detail.balance"), fmtMoney(sub.balance), { testid: "subscriber-balance", dataset: { value: String(sub.balance) } }),
      item(t("subs.detail.kind"), t(`subs.kind.${sub.kind}`)),
      item(t("subs.detail.status"), statusBadge(sub.status ?? "active")),
      item(t("subs.detail.email"), sub.email ?? "–"),
      item(t("subs.detail.language"), sub.language ? t(`subs.lang.${sub.language}`) : t("subs.lang.default")),
      item(sub.closed_at ? t("subs.detail.closed") : t("subs.detail.created"), fmtTime(sub.closed_at ?? sub.created_at)),
    );
  }

  function renderPacks(sub) {
    const list = Array.isArray(sub.subscriptions) ? [...sub.subscriptions].reverse() : [];
    if (!list.length) {
      fill(packs, empty(t("subs.packs.none")));
      return;
    }
    fill(packs, table(
      [t("subs.packs.col.package"), t("subs.packs.col.status"), t("subs.packs.col.started"), t("subs.packs.col.expires"),
        t("subs.packs.col.next"), t("subs.packs.col.price"), t("subs.packs.col.auto_renew")],
      list.map((s) => [
        h("strong.mono", s.package, s.next_package ? h("span.sub-mono", ` → ${t("subs.packs.next_package", { code: s.next_package })}`) : null),
        statusBadge(s.status),
        fmtTime(s.started_at),
        fmtTime(s.expires_at),
        s.next_action_at ?? s.next_renewal_at ?? s.next_retry_at ? fmtTime(s.next_action_at ?? s.next_renewal_at ?? s.next_retry_at) : "–",
        h("span.num", fmtMoney(s.price ?? state.prices[s.package])),
        s.auto_renew ? t("common.yes") : t("common.no"),
      ]),
    ));
  }

  function renderInvoices(inv) {
    if (inv === undefined) {
      if (!invoices.childNodes.length) fill(invoices, empty(t("common.empty")));
      return;
    }
    const list = Array.isArray(inv?.invoices) ? inv.invoices : [];
    if (!list.length) {
      fill(invoices, empty(t("subs.invoices.none")));
      return;
    }
    const rows = [];
    for (const invoice of list) {
      const open = state.openMonth === invoice.month;
      const lineCount = Array.isArray(invoice.lines) ? invoice.lines.length : invoice.lines;
      rows.push(h("li.month" + (open ? ".open" : ""), { dataset: { month: invoice.month } },
        h("button.month-head", {
          type: "button", "aria-expanded": String(open),
          onclick: () => {
            state.openMonth = open ? null : invoice.month;
            renderInvoices(inv);
          },
        },
        h("span.caret", open ? "▾" : "▸"),
        h("span.month-name", fmtMonth(invoice.month)),
        lineCount !== undefined && lineCount !== null ? h("span.muted", t("subs.invoices.lines", { count: lineCount })) : null,
        h("strong.num", fmtMoney(invoice.total))),
        open ? invoiceLines(invoice.month) : null));
    }
    fill(invoices, h("ul.months", rows));
  }

  function invoiceLines(month) {
    const box = h("div.month-lines", h("p.muted", t("common.loading")));
    part(`invoice-${month}`, () => api.get(`/api/subscribers/${msisdn}/invoices/${month}`)).then((inv) => {
      if (!inv) {
        fill(box, empty(t("common.empty")));
        return;
      }
      const lines = Array.isArray(inv.lines) ? inv.lines : [];
      fill(box, table(
        [t("subs.invoices.col.at"), t("subs.invoices.col.package"), t("subs.invoices.col.description"), t("subs.invoices.col.amount")],
        [
          ...lines.map((l) => [fmtTime(l.at), h("span.mono", l.package ?? "–"), l.description ?? "", h("span.num", { class: l.amount < 0 ? "neg" : "" }, fmtMoney(l.amount))]),
          h("tr.total", h("td", { colspan: 3 }, t("subs.invoices.total")), h("td", h("strong.num", fmtMoney(inv.total)))),
        ],
      ));
    });
    return box;
  }

  function renderCharges(chg) {
    if (chg === undefined) return;
    const list = Array.isArray(chg?.charges) ? [...chg.charges].reverse() : [];
    if (!list.length) {
      fill(charges, empty(t("subs.charges.none")));
      return;
    }
    const rows = [];
    for (const c of list) {
      const inputs = c.inputs && typeof c.inputs === "object" ? Object.entries(c.inputs) : [];
      const open = state.openCharges.has(c.id);
      const hover = inputs.map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("\n");
      const billing = c.billing === "invoice" ? t("subs.charges.billing.invoice", { month: fmtMonth(c.invoice_month) }) : t("subs.charges.billing.balance");
      const mainRow = h("tr.clickable" + (open ? ".open" : ""), {
        dataset: { id: c.id }, title: hover || null, tabindex: 0, "aria-expanded": String(open),
        onclick: () => {
          if (open) state.openCharges.delete(c.id);
          else state.openCharges.add(c.id);
          renderCharges(chg);
        },
      },
      h("td.nowrap", h("span.caret", inputs.length ? (open ? "▾ " : "▸ ") : "  "), fmtTime(c.at)),
      h("td.mono", c.package ?? "–"),
      h("td", tMaybe(`reason.${c.reason}`, c.reason ?? "–")),
      h("td.num", { class: c.amount < 0 ? "neg" : "" }, fmtMoney(c.amount)),
      h("td.mono", c.rule ?? "–"),
      h("td", billing));
      rows.push(mainRow);
      if (open) {
        rows.push(h("tr.inputs-row", h("td", { colspan: 6 },
          h("div.inputs", h("div.inputs-title", t("subs.charges.inputs")),
            inputs.length
              ? h("dl", inputs.flatMap(([k, v]) => [h("dt.mono", k), h("dd.mono", typeof v === "object" ? JSON.stringify(v) : String(v))]))
              : h("p.muted", t("common.none"))))));
      }
    }
    fill(charges, table(
      [t("subs.charges.col.at"), t("subs.charges.col.package"), t("subs.charges.col.reason"), t("subs.charges.col.amount"), t("subs.charges.col.rule"), t("subs.charges.col.billing")],
      rows,
    ));
  }

  function renderTimeline(tl) {
    if (tl === undefined) {
      if (!timeline.childNodes.length) fill(timeline, empty(t("common.empty")));
      return;
    }
    const events = Array.isArray(tl?.events) ? tl.events.slice(-200).reverse() : [];
    if (!events.length) {
      fill(timeline, empty(t("subs.timeline.none")));
      return;
    }
    fill(timeline, h("ol.timeline", events.map((e) =>
      h("li", { dataset: { kind: e.kind ?? "" } },
        h("span.timeline-time.mono", fmtTime(e.at ?? e.now)),
        badge(e.kind ?? "muted", tMaybe(`kind.${e.kind}`, e.kind ?? "?")),
        h("span.timeline-text", summary(e))))));
  }

  function renderActions(sub) {
    const amount = h("input.input", { testid: "topup-amount", placeholder: "10000", inputmode: "numeric", autocomplete: "off" });
    const topupGo = h("button.btn.btn-primary", { type: "submit", testid: "topup-go" }, t("subs.topup.go"));
    const kindSelect = h("select.input", { testid: "kind-select" }, kindOptions(sub.kind));
    const kindGo = h("button.btn.btn-primary", { type: "submit", testid: "kind-go" }, t("subs.kindchange.go"));
    const email = h("input.input", { type: "email", value: sub.email ?? "", placeholder: "an@example.com", autocomplete: "off" });
    const language = h("select.input", languageOptions(sub.language ?? "vi"));
    const saveGo = h("button.btn.btn-ghost", { type: "submit" }, t("common.save"));
    const busy = async (button, fn) => {
      button.disabled = true;
      try {
        return await attempt(fn);
      } finally {
        button.disabled = false;
      }
    };
    fill(
      actions,
      h("form.card.action-card", {
        onsubmit: async (e) => {
          e.preventDefault();
          const value = parseAmount(amount.value);
          if (value === null || value <= 0) {
            toastError(t("err.amount", { value: amount.value }));
            return;
          }
          const result = await busy(topupGo, () => api.post(`/api/subscribers/${msisdn}/topup`, { amount: value }));
          if (result) {
            amount.value = "";
            notice(t("subs.topup.done", { amount: fmtMoney(value), msisdn: displayMsisdn(msisdn) }));
            load();
          }
        },
      }, h("h3", t("subs.topup.title")), h("div.inline-form", amount, topupGo)),
      h("form.card.action-card", {
        onsubmit: async (e) => {
          e.preventDefault();
          const result = await busy(kindGo, () => api.put(`/api/subscribers/${msisdn}`, { kind: kindSelect.value }));
          if (result) {
            notice(t("subs.kindchange.done", { msisdn: displayMsisdn(msisdn), kind: t(`subs.kind.${kindSelect.value}`) }));
            load();
          }
        },
      }, h("h3", t("subs.kindchange.title")), h("div.inline-form", kindSelect, kindGo)),
      h("form.card.action-card", {
        onsubmit: async (e) => {
          e.preventDefault();
          const result = await busy(saveGo, () =>
            api.put(`/api/subscribers/${msisdn}`, { email: email.value.trim() || null, language: language.value }));
          if (result) {
            notice(t("subs.edit.done"));
            load();
          }
        },
      }, h("h3", t("subs.edit.title")), h("div.stack-form", email, language, h("div.form-end", saveGo)), h("p.field-hint", t("subs.edit.remove_email"))),
    );
  }

  const unsubscribe = stream.subscribe((event) => {
    if (event.msisdn === msisdn) refresh();
  });
  const offClock = on("clock", () => refresh());
  catalogs()
    .then((list) => {
      for (const c of list) for (const p of c.packages ?? []) state.prices[p.code] = p.price;
      if (state.sub) renderPacks(state.sub);
    })
    .catch(() => {});
  load();
  return () => {
    state.token += 1;
    refresh.cancel();
    unsubscribe();
    offClock();
  };
}
