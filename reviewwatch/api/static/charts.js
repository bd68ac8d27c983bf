// Small SVG chart helpers for the dashboard (no library, nothing loaded from elsewhere).
// A chart is drawn at the pixel width its box has now (viewBox = that width), so its text is
// exactly the size the stylesheet gives it (never scaled below 11 px on a phone); overview.js
// draws again when the width changes. Text goes in through textContent only (svg() in
// dashboard.js), never as markup.
"use strict";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// The SVG emptied and sized to its box: returns its width in pixels.
function chartCanvas(chart, height) {
  chart.replaceChildren();
  const width = Math.max(240, Math.floor(chart.getBoundingClientRect().width || chart.parentElement.clientWidth));
  chart.setAttribute("viewBox", "0 0 " + width + " " + height);
  chart.setAttribute("height", String(height));
  return width;
}

// "2 Nov" for a week, "Nov 2026" for a month (dates are UTC days, "YYYY-MM-DD").
function periodLabel(iso, per) {
  const [y, m, d] = iso.split("-").map(Number);
  return per === "month" ? MONTHS[m - 1] + " " + y : d + " " + MONTHS[m - 1];
}

function dayLabel(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  return d + " " + MONTHS[m - 1] + " " + y;
}

// Every k-th index so that labels about `labelWidth` pixels wide do not touch.
function labelStep(count, slot, labelWidth) {
  return Math.max(1, Math.ceil(labelWidth / Math.max(1, slot)));
}

// Round tick values for 0..max, about `count` of them.
function niceTicks(max, count) {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

// Horizontal grid lines with their labels at the left, and the axis' title above them.
function yAxis(chart, frame, ticks, scale, format, title) {
  for (const v of ticks) {
    chart.append(svg("line", { class: "grid", x1: frame.left, x2: frame.right, y1: scale(v), y2: scale(v) }));
    chart.append(svg("text", { x: frame.left - 6, y: scale(v) + 4, "text-anchor": "end" }, format(v)));
  }
  chart.append(svg("text", { x: 2, y: 12, class: "axis-title" }, title));
  chart.append(svg("line", { class: "axis", x1: frame.left, x2: frame.right, y1: frame.bottom, y2: frame.bottom }));
}

// Period labels under the slots, thinned so that they never overlap.
function xLabels(chart, frame, periods, per, slot) {
  const step = labelStep(periods.length, slot, per === "month" ? 64 : 48);
  periods.forEach((p, i) => {
    if (i % step) return;
    const x = frame.left + slot * (i + 0.5);
    chart.append(svg("text", { x: x, y: frame.bottom + 16, "text-anchor": "middle" }, periodLabel(p.start, per)));
  });
}

function emptyChart(chart, width, height, message) {
  chart.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, message));
}
