// Charts in inline SVG, no library: bars, stacked bars and a line, with axes, grid,
// axis titles and tooltips. Sizes are in viewBox units; the SVG scales to its box, so a
// caller draws at about the box's width in CSS pixels (`width`) to keep labels readable.

import { svg } from "./dom.js";

/** The widest a chart is drawn, and the narrowest (a phone's card). */
export const CHART_WIDTH = 560;
const MIN_WIDTH = 280;
const H = 280;
const TOP = 18;
const RIGHT = 18;
const BOTTOM = 58;
const CHAR = 6.4; // average width of an 11px label, for the left margin

/** A "nice" step (1, 2, 2.5, 5 × 10^n) for about `count` ticks up to `span`. */
function niceStep(span, count) {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  const nice = unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 2.5 ? 2.5 : unit <= 5 ? 5 : 10;
  return Math.max(nice * power, 1);
}

function scaleY(values, { integer = true } = {}) {
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  if (lo === hi) hi = lo + (integer ? 4 : 1);
  if (integer && hi - lo < 4) hi = lo + 4;
  let step = niceStep(hi - lo, 5);
  if (integer) step = Math.max(1, Math.round(step));
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks = [];
  for (let v = lo; v <= hi + step / 2; v += step) ticks.push(Math.round(v * 1000) / 1000);
  return { lo, hi, ticks };
}

function frame({ W, labels, ticks, lo, hi, format, xTitle, yTitle }) {
  const tickText = ticks.map((v) => format(v));
  const left = Math.min(150, 26 + Math.max(3, ...tickText.map((s) => s.length)) * CHAR);
  const plotW = W - left - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const y = (v) => TOP + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  const band = plotW / Math.max(1, labels.length);
  const x = (i) => left + band * i + band / 2;
  const group = svg("g", { class: "axis" });
  ticks.forEach((v, i) => {
    group.append(
      svg("line", { x1: left, x2: W - RIGHT, y1: y(v), y2: y(v), class: v === 0 ? "grid zero" : "grid" }),
      svg("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end", class: "tick" }, tickText[i]),
    );
  });
  const every = Math.max(1, Math.ceil(labels.length / Math.max(4, Math.floor(plotW / 40))));
  const rotate = labels.length > 6 || labels.some((l) => String(l).length > 8);
  labels.forEach((label, i) => {
    if (i % every !== 0 && i !== labels.length - 1) return;
    const tx = x(i);
    const ty = TOP + plotH + 16;
    group.append(
      svg("text", {
        x: tx, y: ty, class: "tick",
        "text-anchor": rotate ? "end" : "middle",
        transform: rotate ? `rotate(-35 ${tx} ${ty})` : null,
      }, String(label)),
    );
  });
  group.append(
    svg("line", { x1: left, x2: left, y1: TOP, y2: TOP + plotH, class: "axis-line" }),
    svg("text", { x: left + plotW / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" }, xTitle ?? ""),
    svg("text", { x: 12, y: TOP + plotH / 2, "text-anchor": "middle", class: "axis-title", transform: `rotate(-90 12 ${TOP + plotH / 2})` }, yTitle ?? ""),
  );
  return { group, x, y, band, left, plotW, plotH };
}

/** `width` (the box's width in CSS pixels) within the bounds; the widest if unknown. */
function chartWidth(width) {
  const w = Math.round(Number(width) || CHART_WIDTH);
  return Math.max(MIN_WIDTH, Math.min(CHART_WIDTH, w));
}

function root(title, { W, empty, emptyText }) {
  const el = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart-svg", preserveAspectRatio: "xMidYMid meet" });
  el.append(svg("title", {}, title));
  if (empty) el.append(svg("text", { x: W / 2, y: H / 2 - 10, "text-anchor": "middle", class: "chart-empty" }, emptyText));
  return el;
}

/**
 * Bars: `rows` of `{label, value, tip}`; `format` writes a value (the y axis, the tips,
 * the labels over the bars when there are few).
 */
export function barChart({ title, rows, format, xTitle, yTitle, color = "var(--c-primary)", emptyText, integer = true, width }) {
  const W = chartWidth(width);
  const values = rows.map((r) => Number(r.value) || 0);
  const el = root(title, { W, empty: !rows.length, emptyText });
  const { lo, hi, ticks } = scaleY(values, { integer });
  const f = frame({ W, labels: rows.map((r) => r.label), ticks, lo, hi, format, xTitle, yTitle });
  // a value over each bar, when every one fits over its bar
  const labelled = rows.length <= 10 && values.every((v) => format(v).length * CHAR <= f.band);
  el.append(f.group);
  const bars = svg("g", { class: "bars" });
  const barW = Math.max(2, Math.min(56, f.band * 0.68));
  rows.forEach((r, i) => {
    const v = values[i];
    const y0 = f.y(Math.max(0, v));
    const height = Math.max(v === 0 ? 0 : 1, Math.abs(f.y(v) - f.y(0)));
    const rect = svg("rect", {
      x: f.x(i) - barW / 2, y: y0, width: barW, height, rx: 3,
      fill: v < 0 ? "var(--c-danger)" : color, class: "bar",
    }, svg("title", {}, r.tip ?? `${r.label}: ${format(v)}`));
    bars.append(rect);
    if (labelled && v !== 0) {
      bars.append(svg("text", { x: f.x(i), y: (v >= 0 ? y0 : y0 + height) + (v >= 0 ? -5 : 13), "text-anchor": "middle", class: "bar-value" }, format(v)));
    }
  });
  el.append(bars);
  return el;
}

/** Stacked bars: `rows` of `{label, values: [..]}`, one `series` `{name, color}` per value. */
export function stackedBarChart({ title, rows, series, format, xTitle, yTitle, emptyText, width }) {
  const W = chartWidth(width);
  const totals = rows.map((r) => r.values.reduce((a, b) => a + (Number(b) || 0), 0));
  const el = root(title, { W, empty: !rows.length, emptyText });
  const { lo, hi, ticks } = scaleY(totals);
  const f = frame({ W, labels: rows.map((r) => r.label), ticks, lo, hi, format, xTitle, yTitle });
  el.append(f.group);
  const bars = svg("g", { class: "bars" });
  const barW = Math.max(2, Math.min(40, f.band * 0.68));
  rows.forEach((r, i) => {
    let base = 0;
    const tip = `${r.label}: ${series.map((s, k) => `${s.name} ${format(r.values[k] ?? 0)}`).join(", ")}`;
    series.forEach((s, k) => {
      const v = Number(r.values[k]) || 0;
      if (v <= 0) return;
      const yTop = f.y(base + v);
      bars.append(svg("rect", {
        x: f.x(i) - barW / 2, y: yTop, width: barW, height: Math.max(1, f.y(base) - yTop),
        fill: s.color, class: "bar", "data-series": s.name,
      }, svg("title", {}, tip)));
      base += v;
    });
  });
  el.append(bars);
  return el;
}

/** A line with dots and a light area: `rows` of `{label, value}`. */
export function lineChart({ title, rows, format, xTitle, yTitle, color = "var(--c-primary)", emptyText, width }) {
  const W = chartWidth(width);
  const values = rows.map((r) => Number(r.value) || 0);
  const el = root(title, { W, empty: !rows.length, emptyText });
  const { lo, hi, ticks } = scaleY(values);
  const f = frame({ W, labels: rows.map((r) => r.label), ticks, lo, hi, format, xTitle, yTitle });
  el.append(f.group);
  if (rows.length) {
    const points = rows.map((r, i) => [f.x(i), f.y(values[i])]);
    const d = points.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ");
    const base = f.y(Math.max(lo, 0));
    const area = `${d} L${points.at(-1)[0].toFixed(1)},${base} L${points[0][0].toFixed(1)},${base} Z`;
    el.append(
      svg("path", { d: area, fill: color, opacity: 0.12, class: "area" }),
      svg("path", { d, fill: "none", stroke: color, "stroke-width": 2.5, "stroke-linejoin": "round", class: "line" }),
    );
    const dots = svg("g", { class: "dots" });
    points.forEach(([px, py], i) => {
      dots.append(svg("circle", { cx: px, cy: py, r: rows.length > 40 ? 2 : 3.5, fill: "var(--c-surface)", stroke: color, "stroke-width": 2 },
        svg("title", {}, `${rows[i].label}: ${format(values[i])}`)));
    });
    el.append(dots);
  }
  return el;
}
