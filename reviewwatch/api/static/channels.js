// reviewwatch dashboard panel: each claim in public beside when asked (feedback requests).
// Self-contained: it adds its own panel to <main>, reads the tab's token and the period controls
// (#business, #since, #until) and reloads whenever the dashboard has (body[data-loaded]). It
// reads /api/v1/claims/perceived, whose `channels` hold counts, shares and NPS only: the
// customers' answers themselves never reach this page. Text goes in through textContent only.
"use strict";

(() => {
  const TOKEN_KEY = "reviewwatch.token";
  const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  const SVG = "http://www.w3.org/2000/svg";
  const COLUMNS = ["Claim", "Share positive, side by side", "In public: positive (95%)",
    "When asked: positive (95%)", "NPS (95%)", "Asked", "Answered (rate, 95%)"];
  const BAR = { width: 150, left: 5, track: 140 };
  let panel = null;
  let generation = 0;

  const node = (tag, attrs, text) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v).replace(BIDI, ""));
    if (text !== undefined && text !== null) n.textContent = String(text).replace(BIDI, "");
    return n;
  };
  const value = (id) => (document.getElementById(id) || {}).value || "";
  const pct = (x) => Math.round(x * 100) + "%";
  const share = (e, n) => (e ? `${pct(e.value)} (${pct(e.low)}–${pct(e.high)})` + (n === undefined ? "" : `, n=${n}`) : "–");
  const signed = (x) => (x > 0 ? "+" : x < 0 ? "−" : "") + Math.abs(Math.round(x));
  const nps = (e, n) => (e ? `${signed(e.value)} (${signed(e.low)} to ${signed(e.high)}), n=${n}` : "–");
  const topicOf = (c) => (c.topic && c.topic !== "overall" ? ` on ${c.topic}` : "");
  const claimText = (c) => (c.metric === "average_rating"
    ? `average ${c.claimed}/${c.scale}` : `${pct(c.claimed)} positive`) + topicOf(c);

  const svgNode = (tag, attrs) => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  };
  const x = (v) => BAR.left + BAR.track * Math.min(1, Math.max(0, v));

  // Two interval bars on one 0-100% axis: public above (blue), asked below (orange).
  function sideBySide(pub, asked) {
    const label = `in public ${share(pub)}; when asked ${share(asked)}`;
    const chart = svgNode("svg", { viewBox: `0 0 ${BAR.width} 30`, width: BAR.width, height: 30, role: "img", "aria-label": label, class: "channels-bars" });
    chart.append(svgNode("line", { x1: x(0), x2: x(1), y1: 15, y2: 15, stroke: "#ccd" }));
    for (const [e, y, colour] of [[pub, 8, "#1565c0"], [asked, 22, "#b45309"]]) {
      if (!e) continue;
      chart.append(
        svgNode("rect", { x: x(e.low), y: y - 3, width: Math.max(1, x(e.high) - x(e.low)), height: 6, fill: colour, "fill-opacity": "0.35" }),
        svgNode("circle", { cx: x(e.value), cy: y, r: 3.5, fill: colour }),
      );
    }
    return chart;
  }

  function build() {
    // Its own small stylesheet (same origin: the dashboard's CSP allows it): a phone shows each
    // claim as a card rather than a table wider than the screen.
    document.head.append(node("link", { rel: "stylesheet", href: "/static/channels.css" }));
    panel = node("section", { id: "channels-panel", class: "panel wide", "aria-labelledby": "channels-title" });
    panel.append(
      node("h2", { id: "channels-title" }, "In public versus when asked"),
      node("p", { class: "muted" }, "For each claim: the share of positive public mentions beside the share of positive answers to feedback requests (Wilson 95%), the Net Promoter Score of the 0–10 answers (adjusted-Wald 95%), how many customers were asked and answered. Side by side: in public above (blue), when asked below (orange), each a dot with its interval on a 0–100% axis. The answers stay private: only their counts are shown."),
      node("p", { id: "channels-empty", class: "muted", hidden: "" }, "No feedback requests in this period (reviewwatch ask)."),
    );
    const table = node("table", { id: "channels-table" });
    const row = node("tr");
    for (const title of COLUMNS) row.append(node("th", { scope: "col" }, title));
    table.append(node("thead"), node("tbody"));
    table.tHead.append(row);
    // Focusable and named: a phone scrolls the table sideways with the keyboard too.
    const scroll = node("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "channels-title" });
    scroll.append(table);
    panel.append(scroll);
    (document.querySelector("main") || document.body).append(panel);
  }

  function clear() {
    generation += 1;
    if (!panel) return;
    panel.querySelector("tbody").replaceChildren();
    panel.querySelector("#channels-empty").hidden = true;
  }

  function draw(claims) {
    const body = panel.querySelector("tbody");
    body.replaceChildren();
    const rows = claims.filter((c) => c.channels && c.kind !== "prediction");
    for (const c of rows) {
      const pub = c.channels.public;
      const asked = c.channels.asked;
      const tr = node("tr", { "data-claim": c.claim_key });
      const bars = node("td", { class: "bars", "data-label": COLUMNS[1] });
      bars.append(sideBySide(pub.share_positive, asked.share_positive));
      const cells = [
        share(pub.share_positive, pub.mentions),
        share(asked.share_positive, asked.answers_counted),
        nps(asked.nps, asked.nps_answers),
        asked.asked,
        `${asked.answered}` + (asked.response_rate ? `: ${share(asked.response_rate)}` : ""),
      ];
      tr.append(node("th", { scope: "row" }, claimText(c)), bars);
      for (const [i, text] of cells.entries()) {
        tr.append(node("td", { class: ["num public", "num asked", "num nps", "num", "num"][i], "data-label": COLUMNS[i + 2] }, text));
      }
      body.append(tr);
    }
    panel.querySelector("#channels-empty").hidden = rows.some((c) => c.channels.asked.asked > 0);
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const business = value("business");
    if (!token || !business) { clear(); return; }
    const mine = ++generation;
    const url = new URL("/api/v1/claims/perceived", window.location.origin);
    for (const [k, v] of [["business", business], ["since", value("since")], ["until", value("until")]]) if (v) url.searchParams.set(k, v);
    const response = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!response.ok || mine !== generation) return; // the dashboard reports errors itself
    draw(await response.json());
    panel.dataset.loaded = String(Date.now());
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    // The dashboard marks each completed load on <body>; signing out removes the mark.
    new MutationObserver(() => {
      if (document.body.dataset.loaded) load().catch(() => {}); else clear();
    }).observe(document.body, { attributes: true, attributeFilter: ["data-loaded"] });
  });
})();
