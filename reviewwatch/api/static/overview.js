// The overview of a business and period (GET /api/v1/overview): summary cards, volume bars,
// shares with their intervals (thin periods merged by the API), the reviewers' ratings,
// breakdowns and the claims with their verdicts. Every figure comes from the API's JSON; every
// string goes in as text (el/svg in dashboard.js).
"use strict";

const overviewState = { data: null, width: 0 };

function fixed(x, digits) { return x === null || x === undefined ? "n/a" : x.toFixed(digits); }

function signed(x, format) { return (x > 0 ? "+" : x < 0 ? "−" : "±") + format(Math.abs(x)); }

function points(x) { return Math.round(x * 100) + " pts"; }

function topicName(key) { return String(key).replace(/_/g, " "); }

// "23–61%" for a share, "2.50–3.40" for a rating
function span(interval, format) {
  if (!interval) return "n/a";
  const low = format(interval.low), high = format(interval.high);
  return (low.endsWith("%") && high.endsWith("%") ? low.slice(0, -1) : low) + "–" + high;
}

function changeText(change, format, previousLabel) {
  if (!change) return previousLabel + ": too few to compare";
  const range = signed(change.low, format) + " to " + signed(change.high, format);
  return signed(change.difference, format) + " " + previousLabel + " (95%: " + range + "; " +
    (change.clear ? "beyond the noise" : "within the noise") + ")";
}

function card(id, title, value, lines) {
  const box = el("div", { class: "card", id: id });
  box.append(el("p", { class: "card-title" }, title));
  box.append(el("p", { class: "card-value" }, value));
  for (const line of lines) if (line) box.append(el("p", { class: "card-sub" }, line));
  return box;
}

function drawSummary(data) {
  const t = data.totals, c = data.change, prev = data.previous_window;
  const per = data.period;
  const since = dayLabel(data.window.since), until = dayLabel(data.window.until);
  $("window-note").textContent = data.window.days + " days: " + since + " to " + until +
    (prev ? "; compared with the " + prev.days + " days before (" + dayLabel(prev.since) + " to " + dayLabel(prev.until) + ")" : "");
  $("summary-note").textContent = data.business.name + ", " + since + " to " + until + ". Labels: the reviewer's rating where given, else an analyst's correction or the model. Intervals: 95%.";
  const vsPrevious = "vs the " + data.window.days + " days before";
  const few = t.uncertain ? "fewer than " + data.min_mentions + " mentions: uncertain" : null;
  const volumeChange = c ? signed(c.mentions, String) + " " + vsPrevious + " (" + data.previous.mentions + ")" : null;
  const rating = t.average_rating;
  $("summary").replaceChildren(
    card("card-mentions", "Mentions", String(t.mentions), [volumeChange, "counted in " + data.window.days + " days"]),
    card("card-rating", "Average rating (reviewers' own)", rating ? fixed(rating.value, 2) + " / 5" : "n/a",
      [rating ? "95%: " + fixed(rating.low, 2) + "–" + fixed(rating.high, 2) + " · " + t.rated_mentions + " rated" : "no rated mention",
        c ? changeText(c.average_rating, (x) => x.toFixed(2), vsPrevious) : null]),
    card("card-positive", "Positive", t.positive_share ? pct(t.positive_share.value) : "n/a",
      [t.positive_share ? "95%: " + span(t.positive_share, pct) + " · " + t.positive + " of " + t.mentions : null,
        c ? changeText(c.positive_share, points, vsPrevious) : null, few]),
    card("card-negative", "Negative", t.negative_share ? pct(t.negative_share.value) : "n/a",
      [t.negative_share ? "95%: " + span(t.negative_share, pct) + " · " + t.negative + " of " + t.mentions : null,
        c ? changeText(c.negative_share, points, vsPrevious) : null, few]),
  );
}

function drawVolume(data) {
  const chart = $("volume-chart"), periods = data.periods, H = 230;
  const W = chartCanvas(chart, H);
  const frame = { left: 44, right: W - 8, top: 24, bottom: H - 30 };
  const max = Math.max(1, ...periods.map((p) => p.mentions));
  const ticks = niceTicks(max, 4);
  const top = ticks[ticks.length - 1];
  const y = (v) => frame.bottom - (v / top) * (frame.bottom - frame.top);
  yAxis(chart, frame, ticks, y, String, "mentions");
  const slot = (frame.right - frame.left) / Math.max(1, periods.length);
  periods.forEach((p, i) => {
    const bar = svg("rect", {
      class: "bar volume" + (p.partial ? " partial" : ""), "data-start": p.start,
      x: frame.left + slot * i + slot * 0.15, width: Math.max(1, slot * 0.7),
      y: y(p.mentions), height: Math.max(0, frame.bottom - y(p.mentions)),
    });
    bar.append(svg("title", {}, dayLabel(p.start) + " to " + dayLabel(p.end) + ": " + p.mentions + " mentions" + (p.partial ? " (partly outside the window)" : "")));
    chart.append(bar);
    if (p.mentions && slot >= 24) {
      chart.append(svg("text", { x: frame.left + slot * (i + 0.5), y: y(p.mentions) - 4, "text-anchor": "middle", class: "value" }, String(p.mentions)));
    }
  });
  xLabels(chart, frame, periods, data.period, slot);
}

function drawShares(data) {
  const chart = $("sentiment-chart"), periods = data.periods, groups = data.share_groups, H = 250;
  const W = chartCanvas(chart, H);
  $("sentiment-note").textContent = "Share of positive and negative mentions (%), with 95% Wilson intervals. " +
    data.period.charAt(0).toUpperCase() + data.period.slice(1) + "s with fewer than " + data.min_mentions +
    " mentions are merged with their neighbours: a flat stretch is one share over several " + data.period + "s.";
  const frame = { left: 44, right: W - 8, top: 24, bottom: H - 30 };
  const y = (v) => frame.bottom - v * (frame.bottom - frame.top);
  yAxis(chart, frame, [0, 0.25, 0.5, 0.75, 1], y, pct, "share of mentions, %");
  const slot = (frame.right - frame.left) / Math.max(1, periods.length);
  xLabels(chart, frame, periods, data.period, slot);
  if (!groups.some((g) => g.mentions)) {
    emptyChart(chart, W, H / 2, "no scored mentions in this window");
    return;
  }
  const spans = groups.map((g, index) => {
    const members = periods.map((p, i) => (p.group === index ? i : -1)).filter((i) => i >= 0);
    return { g: g, x0: frame.left + slot * members[0], x1: frame.left + slot * (members[members.length - 1] + 1) };
  });
  for (const label of ["positive", "negative"]) {
    const key = label + "_share";
    const shown = spans.filter((s) => s.g[key]);
    const upper = shown.flatMap((s) => [s.x0 + "," + y(s.g[key].high), s.x1 + "," + y(s.g[key].high)]);
    const lower = shown.flatMap((s) => [s.x0 + "," + y(s.g[key].low), s.x1 + "," + y(s.g[key].low)]).reverse();
    const uncertain = shown.some((s) => s.g.uncertain);
    chart.append(svg("polygon", { class: "band " + label + (uncertain ? " uncertain" : ""), points: upper.concat(lower).join(" ") }));
    const sure = shown.filter((s) => !s.g.uncertain);
    if (sure.length) {
      const d = sure.map((s, i) => (i ? "L" : "M") + s.x0.toFixed(1) + " " + y(s.g[key].value).toFixed(1) + " L" + s.x1.toFixed(1) + " " + y(s.g[key].value).toFixed(1)).join(" ");
      chart.append(svg("path", { class: "line " + label, d: d }));
    }
    for (const s of shown) {
      const e = s.g[key];
      const dot = svg("circle", { class: "dot " + label + (s.g.uncertain ? " uncertain" : ""), cx: (s.x0 + s.x1) / 2, cy: y(s.g.uncertain ? (e.low + e.high) / 2 : e.value), r: 4 });
      const when = s.g.periods > 1 ? dayLabel(s.g.first) + " to " + dayLabel(s.g.last) + " (" + s.g.periods + " " + data.period + "s merged)" : dayLabel(s.g.first);
      dot.append(svg("title", {}, when + ": " + label + " " + (s.g.uncertain ? "between " : pct(e.value) + ", 95% ") + span(e, pct) + " of " + s.g.mentions + " mentions" + (s.g.uncertain ? " (too few for a share)" : "")));
      chart.append(dot);
    }
  }
}

function drawRatings(data) {
  const chart = $("rating-chart"), rows = data.rating_distribution.slice().reverse();
  const row = 28, H = 34 + rows.length * row;
  const W = chartCanvas(chart, H);
  const rating = data.totals.average_rating;
  chart.append(svg("text", { x: 0, y: 14, id: "rating-average" }, rating
    ? "average " + fixed(rating.value, 2) + " of 5 (95%: " + fixed(rating.low, 2) + "–" + fixed(rating.high, 2) + "), " + data.totals.rated_mentions + " rated"
    : "no rated mention in this window"));
  const left = 56, right = W - 92;
  const max = Math.max(1, ...rows.map((r) => r.mentions));
  rows.forEach((r, i) => {
    const top = 26 + i * row;
    chart.append(svg("text", { x: left - 8, y: top + row / 2 + 4, "text-anchor": "end" }, r.stars + (r.stars === 1 ? " star" : " stars")));
    const bar = svg("rect", { class: "bar stars s" + r.stars, "data-stars": r.stars, x: left, y: top + 5, height: row - 10, width: Math.max(r.mentions ? 2 : 0, (r.mentions / max) * (right - left)) });
    bar.append(svg("title", {}, r.stars + " stars: " + r.mentions + " rated mentions"));
    chart.append(bar);
    chart.append(svg("text", { x: right + 8, y: top + row / 2 + 4 }, r.mentions + (r.share === null ? "" : " (" + pct(r.share) + ")")));
  });
}

function shareCell(share, uncertain, minimum) {
  const td = el("td", { class: "share" });
  if (!share) { td.textContent = "n/a"; return td; }
  if (uncertain) {
    td.classList.add("uncertain");
    td.append(el("span", { class: "interval", title: "fewer than " + minimum + " mentions: the 95% interval only" }, span(share, pct)));
    return td;
  }
  td.append(el("span", { class: "value" }, pct(share.value)));
  td.append(el("span", { class: "interval" }, span(share, pct)));
  return td;
}

function drawBreakdown(container, rows, caption, keyName, data) {
  const withRating = keyName !== "Topic";
  const table = el("table", { class: "breakdown-table" });
  table.append(el("caption", { class: "visually-hidden" }, caption));
  const head = el("tr");
  for (const name of [keyName, "Mentions", "Positive", "Negative"].concat(withRating ? ["Rating"] : [])) head.append(el("th", { scope: "col" }, name));
  const thead = el("thead");
  thead.append(head);
  table.append(thead);
  const body = el("tbody");
  const max = Math.max(1, ...rows.map((r) => r.mentions));
  for (const r of rows) {
    const tr = el("tr", { "data-key": r.key });
    tr.append(el("th", { scope: "row", dir: "auto" }, keyName === "Topic" ? topicName(r.key) : r.key));
    const count = el("td", { class: "count" });
    const bar = el("span", { class: "inline-bar", "aria-hidden": "true" });
    bar.style.width = Math.round((r.mentions / max) * 100) + "%";
    count.append(el("span", { class: "number" }, String(r.mentions)), bar);
    tr.append(count, shareCell(r.positive_share, r.uncertain, data.min_mentions), shareCell(r.negative_share, r.uncertain, data.min_mentions));
    if (withRating) tr.append(el("td", { class: "rating" }, r.average_rating ? fixed(r.average_rating.value, 1) : "–"));
    body.append(tr);
  }
  table.append(body);
  container.replaceChildren(rows.length ? table : el("p", { class: "muted" }, "no mentions in this window"));
  if (rows.some((r) => r.uncertain)) {
    container.append(el("p", { class: "muted" }, "Grey: fewer than " + data.min_mentions + " mentions, the 95% interval only."));
  }
}

function claimValue(r, v) {
  // a rating on its own scale, e.g. "4.2/5"; a share as a percentage
  if (v === null || v === undefined) return "n/a";
  return r.metric === "average_rating" ? v.toFixed(1) + "/" + r.scale : pct(v);
}

function claimName(r) {
  return topicName(r.topic) + " · " + (r.metric === "average_rating" ? "average rating" : "positive share");
}

function drawClaimsTable(claims) {
  const body = $("claims-table").tBodies[0];
  body.replaceChildren();
  for (const r of claims) {
    const tr = el("tr", { "data-claim-key": r.claim_key });
    const cells = [
      ["Claim", claimName(r)], ["Origin", r.origin.replace(/_/g, " ")], ["Claimed", claimValue(r, r.claimed)],
      ["Perceived", claimValue(r, r.perceived)],
      ["95% interval", r.low === null || r.low === undefined ? "n/a" : claimValue(r, r.low) + "–" + claimValue(r, r.high)],
      ["Mentions", String(r.mentions)],
    ];
    for (const [name, text] of cells) tr.append(el("td", { "data-label": name, class: name === "Claim" ? "claim-name" : "" }, text));
    const verdict = el("td", { "data-label": "Verdict", class: "verdict" });
    verdict.append(el("span", { class: "verdict-tag " + r.verdict.replace(/[^a-z]+/g, "-") }, r.verdict));
    tr.append(verdict);
    body.append(tr);
  }
  if (!claims.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: "7", class: "muted" }, "no claims for this business"));
    body.append(tr);
  }
}

function drawClaims(rows) {
  const chart = $("claims-chart");
  const share = rows.find((r) => r.metric === "positive_share" && r.method);
  $("claims-method").textContent = share ? "Shares: " + share.method + "." : "";
  const probe = chart.getBoundingClientRect().width || 760;
  const narrow = probe < 520;  // on a phone each claim's name sits above its bar
  const row = narrow ? 46 : 30, T = 8;
  const H = Math.max(60, T + rows.length * row + 30);
  const W = chartCanvas(chart, H);
  const L = narrow ? 8 : Math.min(220, Math.round(W * 0.28)), R = 116;
  // Both kinds on one axis: a share from 0 to 1, a rating from 1 to its scale.
  const frac = (r, v) => r.metric === "average_rating" ? (v - 1) / (r.scale - 1) : v;
  const x = (v) => L + Math.min(1, Math.max(0, v)) * (W - L - R);
  if (!rows.length) {
    emptyChart(chart, W, 30, "no claims for this business");
    return;
  }
  const ratings = rows.some((r) => r.metric === "average_rating");
  for (const [v, label] of [[0, ratings ? "0% · lowest" : "0%"], [0.5, "50%"], [1, ratings ? "100% · top" : "100%"]]) {
    chart.append(svg("line", { class: "grid", x1: x(v), x2: x(v), y1: T, y2: H - 24 }));
    chart.append(svg("text", { x: x(v), y: H - 8, "text-anchor": v === 0 ? "start" : v === 1 ? "end" : "middle" }, label));
  }
  rows.forEach((r, i) => {
    const top = T + i * row + (narrow ? 16 : 0), band = narrow ? 30 : row;
    const rating = r.metric === "average_rating";
    chart.append(svg("text", narrow ? { x: L, y: top - 3 } : { x: L - 8, y: top + band / 2 + 4, "text-anchor": "end" }, claimName(r)));
    const bar = svg("rect", { class: rating ? "bar rating" : "bar", x: x(0), y: top + 6, width: Math.max(1, x(frac(r, r.perceived ?? (rating ? 1 : 0))) - x(0)), height: band - 12 });
    const what = rating ? "average rating " : "positive share ";
    bar.append(svg("title", {}, r.topic + ": perceived " + what + claimValue(r, r.perceived) + " from " + r.mentions + " mentions, claimed " + claimValue(r, r.claimed) + (r.method_note ? " (" + r.method_note + ")" : "")));
    chart.append(bar);
    if (r.low !== null && r.high !== null) {
      chart.append(svg("line", { class: "whisker", x1: x(frac(r, r.low)), x2: x(frac(r, r.high)), y1: top + band / 2, y2: top + band / 2 }));
    }
    chart.append(svg("line", { class: "claim", x1: x(frac(r, r.claimed)), x2: x(frac(r, r.claimed)), y1: top + 2, y2: top + band - 2 }));
    chart.append(svg("text", { x: W - R + 6, y: top + band / 2 + 4 }, claimValue(r, r.perceived) + " / " + claimValue(r, r.claimed)));
  });
}

function drawCharts(data) {
  drawVolume(data);
  drawShares(data);
  drawRatings(data);
  drawClaims(data.claims);
  overviewState.width = document.documentElement.clientWidth;
}

function drawOverview(data) {
  overviewState.data = data;
  for (const node of document.querySelectorAll(".per")) node.textContent = data.period;
  drawSummary(data);
  drawBreakdown($("by-source"), data.breakdowns.source, "Mentions by source", "Source", data);
  drawBreakdown($("by-language"), data.breakdowns.language, "Mentions by language", "Language", data);
  drawBreakdown($("by-topic"), data.breakdowns.topic, "Opinions by topic", "Topic", data);
  drawClaimsTable(data.claims);
  drawCharts(data);
}

function clearOverview() {
  overviewState.data = null;
  for (const id of ["summary", "volume-chart", "sentiment-chart", "rating-chart", "by-source", "by-language", "by-topic", "claims-chart"]) $(id).replaceChildren();
  $("claims-table").tBodies[0].replaceChildren();
  for (const id of ["window-note", "summary-note", "claims-method"]) $(id).textContent = "";
}

// Charts are drawn at their box's width: draw them again when it changes.
let resizeFrame = 0;
window.addEventListener("resize", () => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    if (overviewState.data && document.documentElement.clientWidth !== overviewState.width) drawCharts(overviewState.data);
  });
});
