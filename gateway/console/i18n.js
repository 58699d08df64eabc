// Every UI string of the console, in Vietnamese and English, and the formatters that
// depend on the language (money, numbers, gateway times).

const STORAGE_KEY = "scgw.console.lang";
export const LANGUAGES = ["vi", "en"];

// The strings themselves are data: one JSON file per language beside this module
// (i18n/vi.json, i18n/en.json), loaded once when the console starts.
async function load(language) {
  const response = await fetch(new URL(`./i18n/${language}.json`, import.meta.url));
  if (!response.ok) throw new Error(`console strings ${language}: HTTP ${response.status}`);
  return response.json();
}

const DICT = Object.fromEntries(
  await Promise.all(LANGUAGES.map(async (language) => [language, await load(language)])),
);


/** The browser's language: Vietnamese for `vi`, `vi-VN`, ...; English for anything else. */
export function browserLanguage(tag = navigator.language) {
  return /^vi(-|_|$)/i.test(String(tag ?? "")) ? "vi" : "en";
}

/** The language chosen with the toggle, if any (kept in localStorage), else the browser's. */
function initialLanguage() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    if (LANGUAGES.includes(value)) return value;
  } catch {
    // storage may be disabled: fall back to the browser's language
  }
  return browserLanguage();
}

let current = initialLanguage();

export function lang() {
  return current;
}

/** Switch to `value`; `remember` keeps it as the user's choice for later visits. */
export function setLang(value, { remember = true } = {}) {
  current = LANGUAGES.includes(value) ? value : browserLanguage();
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, current);
    } catch {
      // storage may be disabled: the choice lasts for this page only
    }
  }
  document.documentElement.lang = current;
}

/** The text of `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = DICT[current][key] ?? DICT.vi[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined || params[name] === null ? whole : String(params[name]),
  );
}

/** `t(key)` if the dictionary has it, else `fallback` (for codes from the API). */
export function tMaybe(key, fallback) {
  return key in DICT[current] ? t(key) : fallback;
}

function group(digits, sep) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
}

/** An integer with the language's thousands separator: 1.234 (vi), 1,234 (en). */
export function fmtInt(value) {
  const n = Math.round(Number(value) || 0);
  const sign = n < 0 ? "-" : "";
  return sign + group(String(Math.abs(n)), current === "vi" ? "." : ",");
}

/** A decimal with one fraction digit: 12,5 (vi), 12.5 (en). */
export function fmtDecimal(value, digits = 1) {
  const n = Number(value) || 0;
  const [whole, fraction] = Math.abs(n).toFixed(digits).split(".");
  const sign = n < 0 ? "-" : "";
  const body = group(whole, current === "vi" ? "." : ",");
  return sign + body + (fraction ? (current === "vi" ? "," : ".") + fraction : "");
}

/** Money in đồng: 15.000đ (vi), 15,000 VND (en). */
export function fmtMoney(value) {
  if (value === null || value === undefined || value === "") return "–";
  return current === "vi" ? `${fmtInt(value)}đ` : `${fmtInt(value)} VND`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The fields of an ISO 8601 time as written (the gateway's own offset), or null. */
export function isoParts(iso) {
  const m = typeof iso === "string" ? ISO.exec(iso.trim()) : null;
  if (!m) return null;
  return {
    year: m[1], month: m[2], day: m[3],
    hour: m[4] ?? "00", minute: m[5] ?? "00", second: m[6] ?? "00",
    offset: m[7] === "Z" ? "+00:00" : m[7] ?? "",
  };
}

/**
 * `iso` written in the UTC offset `offset` ("+07:00"), `ms` later: the same instant as
 * the gateway would write it in its display time zone. `iso` as given if unreadable.
 */
export function atOffset(iso, offset, ms = 0) {
  const p = isoParts(iso);
  const base = Date.parse(iso);
  const target = /^[+-]\d{2}:\d{2}$/.test(offset ?? "") ? offset : p?.offset;
  if (!p || !p.offset || Number.isNaN(base) || !target) return iso;
  const sign = target.startsWith("-") ? -1 : 1;
  const [oh, om] = target.slice(1).split(":").map(Number);
  const local = new Date(base + ms + sign * (oh * 60 + om) * 60000);
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}` +
    `T${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${target}`
  );
}

/** A gateway time as the gateway wrote it: 10:00 10/03/2026 (vi), 10 Mar 2026 10:00 (en). */
export function fmtTime(iso, { seconds = false, date = true } = {}) {
  const p = isoParts(iso);
  if (!p) return iso ? String(iso) : "–";
  const time = `${p.hour}:${p.minute}${seconds ? `:${p.second}` : ""}`;
  if (!date) return time;
  if (current === "vi") return `${time} ${p.day}/${p.month}/${p.year}`;
  return `${Number(p.day)} ${MONTHS_EN[Number(p.month) - 1]} ${p.year} ${time}`;
}

/** A calendar day (2026-03-10 or a full time): 10/03/2026 (vi), 10 Mar 2026 (en). */
export function fmtDay(value, { short = false } = {}) {
  const p = isoParts(value);
  if (!p) return value ? String(value) : "–";
  if (current === "vi") return short ? `${p.day}/${p.month}` : `${p.day}/${p.month}/${p.year}`;
  const mon = MONTHS_EN[Number(p.month) - 1];
  return short ? `${mon} ${Number(p.day)}` : `${Number(p.day)} ${mon} ${p.year}`;
}

/** A month YYYY-MM: 03/2026 (vi), Mar 2026 (en). */
export function fmtMonth(value) {
  const m = /^(\d{4})-(\d{2})$/.exec(value ?? "");
  if (!m) return value ?? "–";
  return current === "vi" ? `${m[2]}/${m[1]}` : `${MONTHS_EN[Number(m[2]) - 1]} ${m[1]}`;
}
