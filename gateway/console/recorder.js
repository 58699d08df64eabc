// The recorder on #/phones: "Record" marks a point (POST /api/recordings); "Save" downloads
// what was done on the phones and the clock since as a scenario file that
// `scgw scenario run` replays (GET /api/recordings/{id}.toml); "Stop" forgets the mark.
// The mark is kept for the tab (sessionStorage), so switching views or reloading keeps it.

import { api } from "./api.js";
import { attempt, fill, h, notice } from "./dom.js";
import { fmtTime, t } from "./i18n.js";

const KEY = "scgw.console.recording";

function load() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? "null");
    return value && typeof value.url === "string" ? value : null;
  } catch {
    return null;
  }
}

let mark = load(); // {id, at, url} or null

function keep(value) {
  mark = value;
  try {
    if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
    else sessionStorage.removeItem(KEY);
  } catch {
    // no storage: the mark lasts as long as the page
  }
}

/** The file's name: `recording-<mark>.toml`, the mark's local time without punctuation. */
function fileName(at) {
  return `recording-${String(at).slice(0, 19).replace(/[-:]/g, "")}.toml`;
}

async function save(button) {
  if (!mark) return;
  button.disabled = true;
  try {
    const text = await attempt(() => api.get(mark.url));
    if (typeof text !== "string") return;
    const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "application/toml" })), download: fileName(mark.at), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    notice(t("recorder.saved", { name: fileName(mark.at) }));
  } finally {
    button.disabled = false;
  }
}

/** The recorder's buttons, drawn again whenever it starts or stops. */
export function recorderWidget() {
  const box = h("div.recorder", { testid: "recorder" });
  const paint = () => {
    if (!mark) {
      const start = h("button.btn.btn-ghost", {
        type: "button", testid: "record-start", title: t("recorder.start.title"),
        onclick: async () => {
          start.disabled = true;
          const started = await attempt(() => api.post("/api/recordings"));
          start.disabled = false;
          if (!started?.url) return;
          keep({ id: started.id, at: started.at, url: started.url });
          notice(t("recorder.started", { at: fmtTime(started.at) }));
          paint();
        },
      }, h("span.rec-dot", { "aria-hidden": "true" }), t("recorder.start"));
      fill(box, start);
      return;
    }
    const saveButton = h("button.btn.btn-primary", {
      type: "button", testid: "record-save", title: t("recorder.save.title"),
      onclick: () => save(saveButton),
    }, t("recorder.save"));
    const stop = h("button.btn.btn-ghost", {
      type: "button", testid: "record-stop", onclick: () => { keep(null); paint(); },
    }, t("recorder.stop"));
    fill(box,
      h("span.recorder-state", { testid: "record-since", title: mark.id },
        h("span.rec-dot.rec-live", { "aria-hidden": "true" }), t("recorder.since", { at: fmtTime(mark.at) })),
      saveButton, stop);
  };
  paint();
  return box;
}
