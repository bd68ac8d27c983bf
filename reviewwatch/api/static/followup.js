// reviewwatch dashboard: the follow-up panel. Self-contained: dashboard.html only loads this
// file; it adds its own section (and stylesheet) to <main>, reads the token the dashboard keeps
// for the tab, and redraws when the dashboard loads, or its business or period changes.
// Response figures: /api/v1/businesses/{b}/responses; items: /api/v1/followup (a write token may
// mark them replied, resolved or dismissed: PATCH). Every store string goes through textContent.
"use strict";

(() => {
  const TOKEN_KEY = "reviewwatch.token";
  const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
  const ACTIONS = [["replied", "Replied"], ["resolved", "Resolved"], ["dismissed", "Dismiss"]];
  const PAGE = 20;
  const ui = {};

  const text = (v) => String(v ?? "").replace(BIDI, "");
  function el(tag, attrs, content) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, text(v));
    if (content !== undefined && content !== null) node.textContent = text(content);
    return node;
  }
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x === null || x === undefined ? "n/a" : Math.round(x * 100) + "%");
  const hours = (h) => (h === null || h === undefined ? "–" : h < 48 ? h.toFixed(1) + " h" : (h / 24).toFixed(1) + " d");
  const rate = (e) => (e ? pct(e.value) + " (" + pct(e.low) + "–" + pct(e.high) + ")" : "–");

  async function api(path, params, options) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v) url.searchParams.set(k, v);
    const init = Object.assign({ headers: {} }, options || {});
    init.headers.Authorization = "Bearer " + (sessionStorage.getItem(TOKEN_KEY) || "");
    const response = await fetch(url, init);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(response.status + ": " + (typeof body.detail === "string" ? body.detail : response.statusText));
    return body;
  }

  function build() {
    const link = el("link", { rel: "stylesheet", href: "/static/followup.css" });
    document.head.append(link);
    const section = el("section", { class: "panel wide", id: "followup-panel", "aria-labelledby": "followup-title" });
    section.append(el("h2", { id: "followup-title" }, "Follow-up of negative mentions"));
    section.append(el("p", { class: "muted" }, "Every negative mention, public or from a feedback request, is an item: open, replied (a public reply found by the crawler, or marked), resolved or dismissed. Response rate with its 95% interval; hours from the mention to its first reply."));
    ui.figures = el("div", { class: "fu-figures", role: "status" });
    ui.promises = el("ul", { class: "fu-promises", "aria-label": "response-time promises" });
    const scroll = el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "response figures per source and period" });
    ui.sources = el("table", { class: "fu-sources" });
    scroll.append(ui.sources);
    const filters = el("form", { class: "controls fu-filters" });
    const label = el("label", {}, "State ");
    ui.state = el("select", { id: "fu-state" });
    for (const [v, t] of [["open", "open"], ["replied", "replied"], ["resolved", "resolved"], ["dismissed", "dismissed"], ["", "all"]]) ui.state.append(el("option", { value: v }, t));
    label.append(ui.state);
    filters.append(label);
    ui.items = el("ul", { class: "fu-items", "aria-label": "follow-up items" });
    ui.more = el("button", { type: "button", hidden: "" }, "More");
    ui.error = el("p", { class: "error", role: "alert", hidden: "" });
    section.append(ui.figures, ui.promises, scroll, filters, ui.error, ui.items, ui.more);
    const main = document.querySelector("main");
    main.append(section);
    ui.state.addEventListener("change", () => loadItems(false));
    ui.more.addEventListener("click", () => loadItems(true));
  }

  function period() {
    return { since: $("since") ? $("since").value : "", until: $("until") ? $("until").value : "" };
  }

  function showError(message) {
    ui.error.textContent = message || "";
    ui.error.hidden = !message;
  }

  function drawFigures(r) {
    ui.figures.replaceChildren();
    const facts = [
      ["negative mentions", String(r.negative_mentions)],
      ["answered", String(r.replied)],
      ["response rate (95%)", rate(r.response_rate)],
      ["median time to first response", hours(r.median_hours)],
      ["90th percentile", hours(r.p90_hours)],
      ["open now", String(r.states.open)],
    ];
    const list = el("dl", { class: "fu-facts" });
    for (const [k, v] of facts) {
      const box = el("div");
      box.append(el("dt", {}, k), el("dd", {}, v));
      list.append(box);
    }
    ui.figures.append(list);
    ui.sources.replaceChildren();
    const rows = r.by_source.concat(r.by_period);
    if (!rows.length) return;
    const head = el("tr");
    for (const h of ["source / period", "negative", "answered", "rate (95%)", "median", "90th pct"]) head.append(el("th", { scope: "col" }, h));
    ui.sources.append(el("caption", { class: "muted" }, "per source, then per " + r.granularity), head);
    for (const g of rows) {
      const tr = el("tr");
      tr.append(el("th", { scope: "row" }, g.key), el("td", {}, g.negative_mentions), el("td", {}, g.replied),
        el("td", {}, rate(g.response_rate)), el("td", {}, hours(g.median_hours)), el("td", {}, hours(g.p90_hours)));
      ui.sources.append(tr);
    }
  }

  function drawPromises(report) {
    // The business's response-time claims, judged like every other claim (the gap report).
    ui.promises.replaceChildren();
    for (const c of report.claims.filter((x) => x.metric === "response_within_hours")) {
      const li = el("li");
      li.append(el("span", {}, c.label + ": " + (c.perceived ? rate(c.perceived) + " answered within " + c.scale + " h" : "nothing to measure") + " · "));
      li.append(el("strong", { class: "fu-verdict v-" + c.verdict.replace(/ /g, "-") }, c.verdict));
      ui.promises.append(li);
    }
  }

  function actions(item) {
    const box = el("div", { class: "fu-actions write-only", role: "group", "aria-label": "mark this mention" });
    for (const [state, label] of ACTIONS) {
      if (state === item.state) continue;
      const button = el("button", { type: "button", "data-state": state }, label);
      button.addEventListener("click", async () => {
        try {
          await api("/api/v1/followup/" + item.id, {}, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ state: state }) });
          showError("");
          await refresh();
        } catch (err) { showError(err.message); }
      });
      box.append(button);
    }
    return box;
  }

  function itemRow(item) {
    const li = el("li", { class: "fu-item state-" + item.state, "data-item-id": item.id });
    const when = (item.published_at || item.created_at || "").slice(0, 10);
    const meta = [when, item.source_type + (item.is_private ? " (feedback)" : ""),
      item.rating === null ? "" : item.rating + "/" + (item.rating_scale || 5), item.author || ""].filter(Boolean).join(" · ");
    li.append(el("p", { class: "muted" }, meta));
    if (item.title) li.append(el("p", { class: "fu-title", dir: "auto" }, item.title));
    li.append(el("p", { class: "fu-text", dir: "auto" }, item.excerpt));
    const status = el("p", { class: "fu-status" });
    status.append(el("span", { class: "fu-state" }, item.state));
    status.append(" " + text(item.first_response_at ? "first reply after " + hours(item.response_hours) : "no reply yet")
      + text(" · last changed by " + item.changed_by + " " + (item.changed_at || "").slice(0, 16).replace("T", " ")));
    li.append(status);
    li.append(actions(item));
    return li;
  }

  async function loadItems(append) {
    const business = $("business") ? $("business").value : "";
    if (!business) return;
    const params = { business: business, state: ui.state.value, limit: PAGE };
    if (append && ui.before) params.before = ui.before;
    try {
      const page = await api("/api/v1/followup", params);
      if (!append) ui.items.replaceChildren();
      for (const item of page.items) ui.items.append(itemRow(item));
      if (!page.items.length && !append) ui.items.append(el("li", { class: "muted" }, "no item in this state"));
      ui.before = page.next_before;
      ui.more.hidden = !page.next_before;
    } catch (err) { showError(err.message); }
  }

  async function refresh() {
    const business = $("business") ? $("business").value : "";
    if (!business || !sessionStorage.getItem(TOKEN_KEY)) return;
    try {
      const p = period();
      const [figures, report] = await Promise.all([
        api("/api/v1/businesses/" + encodeURIComponent(business) + "/responses", p),
        api("/api/v1/gap/" + encodeURIComponent(business), p),
      ]);
      drawFigures(figures);
      drawPromises(report);
      await loadItems(false);
      showError("");
      ui.section().dataset.loaded = String(Date.now());
    } catch (err) { showError(err.message); }
  }

  function clear() {
    // Signed out: forget what the token showed.
    ui.figures.replaceChildren();
    ui.promises.replaceChildren();
    ui.sources.replaceChildren();
    ui.items.replaceChildren();
    ui.more.hidden = true;
    showError("");
    delete ui.section().dataset.loaded;
  }

  document.addEventListener("DOMContentLoaded", () => {
    build();
    ui.section = () => $("followup-panel");
    // The dashboard marks each load on <body data-loaded>; signing out adds body.signed-out.
    new MutationObserver(() => {
      if (document.body.classList.contains("signed-out")) clear();
      else if (document.body.dataset.loaded && document.body.dataset.loaded !== ui.seen) {
        ui.seen = document.body.dataset.loaded;
        refresh();
      }
    }).observe(document.body, { attributes: true, attributeFilter: ["data-loaded", "class"] });
  });
})();
