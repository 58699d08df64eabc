// MSISDNs and SMS encoding as the gateway does them (gateway/domain/msisdn.py,
// gateway/domain/encoding.py), so the console can show an MO's encoding before the
// gateway has seen it.

const MSISDN = /^(?:\+84|84|0)([1-9][0-9]{8})$/;

/** `0912345678`, `84912345678` or `+84912345678` -> `84912345678`; null if invalid. */
export function canonicalMsisdn(value) {
  const match = MSISDN.exec(String(value ?? "").trim().replace(/[\s.-]/g, ""));
  return match ? `84${match[1]}` : null;
}

/** 84912345678 -> 0912 345 678 (how people write it). */
export function displayMsisdn(msisdn) {
  const m = /^84(\d{3})(\d{3})(\d{3})$/.exec(msisdn ?? "");
  return m ? `0${m[1]} ${m[2]} ${m[3]}` : msisdn ?? "";
}

/** A search or filter term: a leading 0 or +84 becomes 84 (stored numbers are 84…). */
export function msisdnQuery(value) {
  const text = String(value ?? "").trim().replace(/\s/g, "");
  if (/^\+84\d*$/.test(text)) return text.slice(1);
  if (/^0\d+$/.test(text)) return `84${text.slice(1)}`;
  return text;
}

const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);
const GSM_EXTENDED = new Set("\f^{}\\[~]|€");

function segments(sizes, single, multi) {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= single) return 1;
  let count = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > multi) {
      count += 1;
      used = 0;
    }
    used += size;
  }
  return count;
}

/** `{encoding: "GSM7" | "UCS2", segments}` per GSM 03.38 (160/153, 70/67). */
export function smsLayout(text) {
  const chars = Array.from(String(text ?? ""));
  if (chars.every((ch) => GSM_BASIC.has(ch) || GSM_EXTENDED.has(ch))) {
    return { encoding: "GSM7", segments: segments(chars.map((ch) => (GSM_EXTENDED.has(ch) ? 2 : 1)), 160, 153) };
  }
  return { encoding: "UCS2", segments: segments(chars.map((ch) => (ch.codePointAt(0) > 0xffff ? 2 : 1)), 70, 67) };
}

/** A random id for an MO, so a resend is processed once and the stream's copy is known. */
export function newId(prefix = "console") {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
