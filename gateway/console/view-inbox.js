// #/mail (the mail sink, through the Mailpit-compatible API) and #/tickets (the
// support desk): a list on the left, the selected item on the right.

import { api, query, stream } from "./api.js";
import { attempt, badge, debounce, empty, errorText, fill, h, notice, toastError, viewHeader } from "./dom.js";
import { fmtInt, fmtTime, t, tMaybe } from "./i18n.js";
import { displayMsisdn } from "./sms.js";

const MAIL_LIMIT = 200;

function addresses(list) {
  if (!Array.isArray(list)) return list?.Address ?? "";
  return list.map((a) => (a?.Name ? `${a.Name} <${a.Address}>` : a?.Address ?? "")).join(", ");
}

function mailStatusBadge(status) {
  const tone = { sent: "ok", queued: "warn", failed: "danger" }[status] ?? "muted";
  return status ? badge(tone, status) : null;
}

/** Bring an opened item into view when it shows below the list (a narrow screen). */
function reveal(detail) {
  const top = detail.getBoundingClientRect().top;
  if (top > window.innerHeight * 0.6) detail.scrollIntoView({ block: "start", behavior: "smooth" });
}

// -- mail ---------------------------------------------------------------------------------

export const mail = {
  mount(container) {
    let selected = null;
    let token = 0;
    const search = h("input.input.search-input", { type: "search", placeholder: t("mail.search.placeholder"), autocomplete: "off" });
    const list = h("div.list-pane", { testid: "mail-list" });
    const total = h("span.muted");
    const detail = h("div.card.detail-pane", empty(t("mail.pick")));

    async function load() {
      const mine = ++token;
      const q = search.value.trim();
      try {
        const body = q
          ? await api.get(`/api/v1/search${query({ query: q, limit: MAIL_LIMIT })}`)
          : await api.get(`/api/v1/messages${query({ limit: MAIL_LIMIT })}`);
        if (mine !== token) return;
        const messages = Array.isArray(body?.messages) ? body.messages : [];
        total.textContent = t("mail.total", { count: fmtInt(body?.total ?? messages.length) });
        if (!messages.length) {
          fill(list, empty(t("mail.empty")));
          return;
        }
        fill(list, messages.map((m) =>
          h("button.list-row" + (m.Read ? "" : ".unread") + (m.ID === selected ? ".selected" : ""), {
            type: "button", testid: "mail-row", dataset: { id: m.ID },
            onclick: () => open(m.ID),
          },
          h("div.list-row-top",
            h("span.list-row-title", m.Subject || "(no subject)"),
            h("span.muted.small.nowrap", fmtTime(m.Created))),
          h("div.list-row-bottom",
            h("span.small", `${t("mail.to")}: ${addresses(m.To)}`),
            h("span.badges", m.Kind ? badge("mail", m.Kind) : null, mailStatusBadge(m.Status))),
          m.Snippet ? h("div.list-row-snippet", m.Snippet) : null)));
      } catch (error) {
        if (mine !== token) return;
        fill(list, empty(t("mail.empty")));
        toastError(errorText(error));
      }
    }

    async function open(id) {
      selected = id;
      for (const row of list.querySelectorAll(".list-row")) row.classList.toggle("selected", row.dataset.id === id);
      fill(detail, h("p.muted", t("common.loading")));
      const m = await attempt(() => api.get(`/api/v1/message/${encodeURIComponent(id)}`));
      if (selected !== id) return;
      if (!m) {
        fill(detail, empty(t("mail.pick")));
        return;
      }
      list.querySelector(`.list-row[data-id="${CSS.escape(id)}"]`)?.classList.remove("unread");
      const row = (label, value) => (value ? h("div.kv", h("span.kv-key", label), h("span.kv-value", value)) : null);
      fill(
        detail,
        h("h2.mail-subject", m.Subject || "(no subject)"),
        h("div.kvs",
          row(t("mail.from"), addresses(m.From ? [m.From] : [])),
          row(t("mail.to"), addresses(m.To)),
          row(t("mail.date"), fmtTime(m.Date ?? m.Created, { seconds: true })),
          row(t("mail.message_id"), m.MessageID),
          row("MSISDN", m.MSISDN ? displayMsisdn(m.MSISDN) : null)),
        h("pre.mail-body", m.Text || m.HTML || ""),
      );
      reveal(detail);
    }

    const refresh = debounce(load, 500);
    const unsubscribe = stream.subscribe((event) => {
      if (event.kind === "mail") refresh();
    });
    fill(
      container,
      viewHeader(t("mail.title"), t("mail.subtitle"), total,
        h("button.btn.btn-ghost", { type: "button", onclick: load }, t("common.refresh"))),
      h("div.master-detail",
        h("div.card.master",
          h("form.search-bar", { onsubmit: (e) => { e.preventDefault(); load(); } },
            search, h("button.btn.btn-primary", { type: "submit" }, t("mail.search.go"))),
          list),
        detail),
    );
    load();
    return () => {
      token += 1;
      refresh.cancel();
      unsubscribe();
    };
  },
};

// -- tickets ------------------------------------------------------------------------------

function ticketStatusBadge(status) {
  const tone = { open: "info", verifying: "warn", closed: "muted" }[status] ?? "muted";
  return badge(tone, tMaybe(`tickets.status.${status}`, status ?? "–"));
}

export const tickets = {
  mount(container) {
    let selected = null;
    let token = 0;
    const list = h("div.list-pane", { testid: "ticket-list" });
    const detail = h("div.card.detail-pane", empty(t("tickets.pick")));

    async function load() {
      const mine = ++token;
      try {
        const body = await api.get("/api/tickets");
        if (mine !== token) return;
        const all = Array.isArray(body?.tickets) ? [...body.tickets] : [];
        all.sort((a, b) => String(b.updated_at ?? "").localeCompare(String(a.updated_at ?? "")) || (b.id ?? 0) - (a.id ?? 0));
        if (!all.length) {
          fill(list, empty(t("tickets.empty")));
          return;
        }
        fill(list, all.map((tk) =>
          h("button.list-row" + (String(tk.id) === String(selected) ? ".selected" : ""), {
            type: "button", testid: "ticket-row", dataset: { id: String(tk.id) },
            onclick: () => open(tk.id),
          },
          h("div.list-row-top",
            h("span.list-row-title", `#${tk.id} · ${tk.title ?? ""}`),
            h("span.muted.small.nowrap", fmtTime(tk.updated_at ?? tk.created_at))),
          h("div.list-row-bottom",
            h("span.small", [tk.requester, tk.msisdn ? displayMsisdn(tk.msisdn) : null].filter(Boolean).join(" · ") || "–"),
            h("span.badges", badge("ticket", tMaybe(`tickets.kind.${tk.kind}`, tk.kind ?? "")), ticketStatusBadge(tk.status))))));
        if (selected !== null) open(selected, { quiet: true });
      } catch (error) {
        if (mine !== token) return;
        fill(list, empty(t("tickets.empty")));
        toastError(errorText(error));
      }
    }

    async function open(id, { quiet = false } = {}) {
      selected = id;
      for (const row of list.querySelectorAll(".list-row")) row.classList.toggle("selected", row.dataset.id === String(id));
      if (!quiet) fill(detail, h("p.muted", t("common.loading")));
      const tk = await attempt(() => api.get(`/api/tickets/${encodeURIComponent(id)}`));
      if (selected !== id) return;
      if (!tk) {
        fill(detail, empty(t("tickets.pick")));
        return;
      }
      const kv = (label, value) => (value ? h("div.kv", h("span.kv-key", label), h("span.kv-value", value)) : null);
      const code = h("input.input", { placeholder: t("tickets.verify.placeholder"), inputmode: "numeric", autocomplete: "one-time-code", maxlength: 20 });
      const resolution = h("input.input", { placeholder: t("tickets.close.placeholder"), maxlength: 1000 });
      const events = Array.isArray(tk.events) ? tk.events : [];
      const mails = Array.isArray(tk.mails) ? tk.mails : [];
      fill(
        detail,
        h("div.detail-title", h("h2", `#${tk.id} · ${tk.title ?? ""}`), ticketStatusBadge(tk.status)),
        h("div.kvs",
          kv(t("tickets.col.kind"), tMaybe(`tickets.kind.${tk.kind}`, tk.kind)),
          kv(t("tickets.source"), tk.source),
          kv(t("tickets.col.requester"), tk.requester),
          kv(t("tickets.col.msisdn"), tk.msisdn ? h("a", { href: `#/subscribers/${tk.msisdn}` }, displayMsisdn(tk.msisdn)) : null),
          kv(t("tickets.created"), fmtTime(tk.created_at)),
          kv(t("tickets.col.updated"), fmtTime(tk.updated_at)),
          tk.verification ? kv("OTP", t("tickets.verification", { expires: fmtTime(tk.verification.expires_at), wrong: tk.verification.wrong_attempts ?? 0 })) : null,
          kv(t("tickets.resolution"), tk.resolution)),
        tk.content ? h("div", h("h3", t("tickets.content")), h("pre.mail-body", tk.content)) : null,
        h("h3", t("tickets.events")),
        events.length
          ? h("ol.timeline", events.map((e) => h("li",
              h("span.timeline-time.mono", fmtTime(e.at)),
              ticketStatusBadge(e.status),
              h("span.timeline-text", e.note ?? ""))))
          : empty(t("common.none")),
        h("h3", t("tickets.mails")),
        mails.length
          ? h("ul.plain", mails.map((m) => h("li",
              h("a", { href: "#/mail" }, m.Subject || "(no subject)"),
              h("span.muted.small", ` · ${addresses(m.To)} · ${fmtTime(m.Created)}`))))
          : empty(t("common.none")),
        tk.status !== "closed"
          ? h("div.ticket-actions",
              tk.status === "verifying"
                ? h("form.inline-form", {
                    onsubmit: async (e) => {
                      e.preventDefault();
                      const result = await attempt(() => api.post(`/api/tickets/${tk.id}/verify`, { code: code.value.trim() }));
                      if (result) {
                        notice(t("tickets.verify.done"));
                        load();
                      } else {
                        open(tk.id, { quiet: true });
                      }
                    },
                  }, code, h("button.btn.btn-primary", { type: "submit" }, t("tickets.verify.go")))
                : null,
              h("form.inline-form", {
                onsubmit: async (e) => {
                  e.preventDefault();
                  const body = resolution.value.trim() ? { resolution: resolution.value.trim() } : {};
                  const result = await attempt(() => api.post(`/api/tickets/${tk.id}/close`, body));
                  if (result) {
                    notice(t("tickets.close.done", { id: tk.id }));
                    load();
                  }
                },
              }, resolution, h("button.btn.btn-danger", { type: "submit" }, t("tickets.close.go"))))
          : null,
      );
      if (!quiet) reveal(detail);
    }

    const refresh = debounce(load, 500);
    const unsubscribe = stream.subscribe((event) => {
      if (event.kind === "ticket") refresh();
    });
    fill(
      container,
      viewHeader(t("tickets.title"), t("tickets.subtitle"),
        h("button.btn.btn-ghost", { type: "button", onclick: load }, t("common.refresh"))),
      h("div.master-detail", h("div.card.master", list), detail),
    );
    load();
    return () => {
      token += 1;
      refresh.cancel();
      unsubscribe();
    };
  },
};
