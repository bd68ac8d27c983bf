// reviewwatch dashboard: the benchmark panel (the business beside its competitors), self-contained.
// It adds its own section to <main> and its own stylesheet, and reads only what the page shares:
// the tab's token (sessionStorage "reviewwatch.token"), the #business, #since and #until controls
// and the body's "signed-out" class. Figures come from GET /api/v1/benchmark, the gap report's
// own benchmark section. Strings go through textContent (never innerHTML) and lose their bidi
// controls; positions are set through the CSSOM (the page's CSP allows no inline style).
"use strict";

(() => {
  const TOKEN_KEY = "reviewwatch.token";
  const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  const METRICS = {
    positive_share: { title: "share positive", share: true },
    negative_share: { title: "share negative", share: true },
    mean_stars: { title: "mean stars (1–5)", share: false },
  };
  const VERDICT_WORDS = {
    higher: "higher",
    lower: "lower",
    similar: "similar",
    "not comparable": "not comparable (too few mentions)",
  };
  let data = null;
  let pending = null;
  let metric = "positive_share";
  let panel = null;

  const text = (value) => String(value).replace(BIDI_CONTROLS, "");
  const byId = (id) => document.getElementById(id);

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = text(content);
    return node;
  }

  function topicName(key) {
    const words = String(key).replace(/_/g, " ");
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  function figure(value, share) {
    if (value === null || value === undefined) return "n/a";
    return share ? Math.round(value * 100) + "%" : value.toFixed(2);
  }

  function interval(estimate, share) {
    if (!estimate) return "n/a";
    return figure(estimate.value, share) + " (" + figure(estimate.low, share) + "–" + figure(estimate.high, share) + ")";
  }

  // "Cafe −26 pts (−40 to −11): lower": the business minus this row, its interval, the verdict.
  function difference(comparison, share, businessName) {
    if (!comparison || !comparison.difference) return VERDICT_WORDS[comparison ? comparison.verdict : "not comparable"];
    const d = comparison.difference;
    const signed = (x) => (x > 0 ? "+" : x < 0 ? "−" : "±") + (share ? Math.round(Math.abs(x) * 100) : Math.abs(x).toFixed(2));
    const unit = share ? " pts" : "";
    return businessName + " " + signed(d.value) + unit + " (" + signed(d.low) + " to " + signed(d.high) + "): " + VERDICT_WORDS[comparison.verdict];
  }

  function build() {
    const main = document.querySelector("main") || document.body;
    const link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = "/static/benchmark.css";
    document.head.append(link);
    panel = el("section", "panel wide bm-panel");
    panel.id = "benchmark-panel";
    panel.setAttribute("aria-labelledby", "bm-title");
    const head = el("div", "bm-head");
    const title = el("h2", null, "Beside its competitors");
    title.id = "bm-title";
    const label = el("label", "bm-metric", "Figure ");
    const select = el("select");
    select.id = "bm-metric";
    for (const [key, m] of Object.entries(METRICS)) {
      const option = el("option", null, m.title);
      option.value = key;
      select.append(option);
    }
    select.addEventListener("change", () => { metric = select.value; render(); });
    label.append(select);
    head.append(title, label);
    const intro = el("p", "muted", "Each business's figures over the same period, counted as in the gap report, with 95% intervals. " +
      "Higher or lower: beyond the uncertainty (the difference's 95% interval excludes 0); similar: within it. " +
      "The median is over the competitors with enough mentions; fewer than that: not comparable.");
    const line = el("p", "bm-line");
    line.id = "bm-line";
    line.setAttribute("aria-live", "polite");
    const body = el("div", "bm-scopes");
    body.id = "bm-scopes";
    panel.append(head, intro, line, body);
    // Before the list of mentions when the page has one (an overview, not a detail), else last.
    const mentions = byId("mentions-table");
    const anchor = mentions ? mentions.closest("section") : null;
    if (anchor && anchor.parentNode === main) main.insertBefore(panel, anchor); else main.append(panel);
  }

  function clear(message) {
    data = null;
    if (!panel) return;
    byId("bm-line").textContent = text(message || "");
    byId("bm-scopes").replaceChildren();
    delete panel.dataset.loaded;
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const business = byId("business") ? byId("business").value : "";
    if (!token || !business || document.body.classList.contains("signed-out")) { clear(""); return; }
    const url = new URL("/api/v1/benchmark", window.location.origin);
    url.searchParams.set("business", business);
    for (const id of ["since", "until"]) if (byId(id) && byId(id).value) url.searchParams.set(id, byId(id).value);
    const response = await fetch(url, { headers: { Authorization: "Bearer " + token } });
    if (!response.ok) { clear("The benchmark could not be loaded (" + response.status + ")."); return; }
    data = await response.json();
    render();
    panel.dataset.loaded = String(Date.now());
  }

  function schedule() {
    // Several controls change at once (sign-in fills the businesses, a period sets two days).
    clearTimeout(pending);
    pending = setTimeout(() => load().catch(() => clear("The benchmark could not be loaded.")), 50);
  }

  function render() {
    if (!data || !panel) return;
    const scopes = byId("bm-scopes");
    const benchmark = data.benchmark;
    if (!benchmark) {
      byId("bm-line").textContent = text(data.business.name + " names no competitors: add competitors = [\"…\"] to it in the configuration.");
      scopes.replaceChildren();
      return;
    }
    byId("bm-line").textContent = text(data.line ? data.line + "." :
      "Fewer than " + benchmark.min_mentions + " mentions on every side: nothing to compare yet.");
    const m = METRICS[metric];
    // Overall, and the topics where someone has enough mentions to be compared (as the report).
    const comparable = (scope) => scope.key === "overall" || [scope.business, ...scope.competitors].some((side) => side.comparable);
    const shown = benchmark.scopes.filter(comparable);
    const hidden = benchmark.scopes.filter((scope) => !comparable(scope)).map((scope) => topicName(scope.key));
    const cards = shown.map((scope) => scopeCard(scope, data.business.name, m));
    if (hidden.length) cards.push(el("p", "muted bm-hidden", "Not shown (fewer than " + benchmark.min_mentions + " mentions on every side): " + hidden.join(", ") + "."));
    scopes.replaceChildren(...cards);
  }

  function scopeCard(scope, businessName, m) {
    const card = el("section", "bm-scope");
    card.dataset.scope = scope.key;
    card.append(el("h3", null, topicName(scope.key)));
    const [lo, hi] = m.share ? [0, 1] : [1, 5];
    const rows = [{ who: businessName, own: true, side: scope.business, comparison: null }];
    for (const c of scope.competitors) rows.push({ who: c.name, own: false, side: c, comparison: c.comparisons[metric] });
    rows.push({ who: "Competitors' median (" + scope.median.competitors_counted + ")", own: false, median: true,
      side: Object.assign({ mentions: null }, scope.median), comparison: scope.median.comparisons[metric] });
    const list = el("div", "bm-rows");
    list.setAttribute("role", "table");
    list.setAttribute("aria-label", topicName(scope.key) + ": " + m.title);
    const header = el("div", "bm-row bm-header");
    header.setAttribute("role", "row");
    for (const [name, cls] of [["business", "bm-who"], ["mentions", "bm-n"], ["95% interval", "bm-track-head"], [m.title, "bm-fig"], ["difference (" + businessName + " minus it)", "bm-diff"]]) {
      const cell = el("span", cls, name);
      cell.setAttribute("role", "columnheader");
      header.append(cell);
    }
    list.append(header);
    for (const row of rows) list.append(rowNode(row, m, lo, hi, businessName));
    card.append(list);
    return card;
  }

  function rowNode(row, m, lo, hi, businessName) {
    const estimate = row.side[metric];
    const node = el("div", "bm-row" + (row.own ? " bm-own" : "") + (row.median ? " bm-median" : "") + (row.side.comparable ? "" : " bm-thin"));
    node.setAttribute("role", "row");
    const who = el("span", "bm-who", row.who);
    const n = el("span", "bm-n", row.side.mentions === null ? "" : "n=" + row.side.mentions);
    const track = el("span", "bm-track");
    track.setAttribute("aria-hidden", "true");
    if (estimate) {
      const x = (v) => Math.max(0, Math.min(100, ((v - lo) / (hi - lo)) * 100));
      const band = el("span", "bm-band");
      band.style.left = x(estimate.low) + "%";
      band.style.width = Math.max(0.5, x(estimate.high) - x(estimate.low)) + "%";
      const dot = el("span", "bm-dot");
      dot.style.left = x(estimate.value) + "%";
      track.append(band, dot);
    }
    const fig = el("span", "bm-fig", interval(estimate, m.share));
    const diff = el("span", "bm-diff" + (row.comparison ? " bm-" + row.comparison.verdict.replace(" ", "-") : ""),
      row.comparison ? difference(row.comparison, m.share, businessName) : "");
    for (const cell of [who, n, track, fig, diff]) cell.setAttribute("role", "cell");
    node.append(who, n, track, fig, diff);
    return node;
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    for (const id of ["business", "since", "until"]) if (byId(id)) byId(id).addEventListener("change", schedule);
    // Sign-in fills the business list; sign-out empties it and marks the body.
    if (byId("business")) new MutationObserver(schedule).observe(byId("business"), { childList: true });
    new MutationObserver(() => { if (document.body.classList.contains("signed-out")) clear(""); })
      .observe(document.body, { attributes: true, attributeFilter: ["class"] });
    schedule();
  });
})();
