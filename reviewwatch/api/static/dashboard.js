// reviewwatch dashboard: sign-in, the period, the mentions table; the overview's charts are
// drawn by overview.js with charts.js (SVG built here, nothing loaded from elsewhere).
// Every string from the store goes through textContent or setAttribute, never innerHTML, and
// loses its bidi controls (displayText). The page itself holds no data: everything is loaded
// through the API with the token, which is kept for this tab only (sessionStorage).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const TOKEN_KEY = "reviewwatch.token";
const PAGE = 20;
// Unicode's Bidi_Control characters: the same set as BIDI_CONTROLS in reviewwatch/display.py.
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
const state = { token: sessionStorage.getItem(TOKEN_KEY) || "", canWrite: false, cursor: null };

const $ = (id) => document.getElementById(id);

function displayText(value) {
  return String(value).replace(BIDI_CONTROLS, "");
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, displayText(v));
  if (text !== undefined) node.textContent = displayText(text);
  return node;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, displayText(v));
  if (text !== undefined && text !== null) node.textContent = displayText(text);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

async function api(path, params, options) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) if (v !== "" && v !== null && v !== undefined) url.searchParams.set(k, v);
  const init = Object.assign({ headers: {} }, options || {});
  init.headers.Authorization = "Bearer " + state.token;
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    signOut();
    throw new Error("the token was refused: sign in again");
  }
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || response.statusText);
    throw new Error(response.status + ": " + detail);
  }
  return body;
}

function period() {
  return { business: $("business").value, since: $("since").value, until: $("until").value };
}

// Other features' panels (included at the end of the page) share these and listen for
// "reviewwatch:refresh" (detail: business, period, since, until) and "reviewwatch:signout".
window.reviewwatch = { api, el, svg, displayText, period };

function pct(x) { return x === null || x === undefined ? "n/a" : Math.round(x * 100) + "%"; }

function safeHref(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

function correctionCell(item) {
  const td = el("td", { class: "write-only" });
  const form = el("form", { class: "correct-form" });
  const select = el("select", { class: "correct-label", "aria-label": "sentiment" });
  for (const label of ["negative", "neutral", "positive"]) {
    const option = el("option", { value: label }, label);
    if (label === item.label) option.selected = true;
    select.append(option);
  }
  const topics = el("input", { class: "correct-topics", list: "topic-list", "aria-label": "topics", placeholder: "topics, comma-separated" });
  topics.value = item.topics.join(", ");
  const button = el("button", { type: "submit", class: "correct-save" }, "Save");
  form.append(select, topics, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { label: select.value, topics: topics.value.split(",").map((t) => t.trim()).filter(Boolean) };
    try {
      await api("/api/v1/mentions/" + item.mention_id + "/corrections", {}, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      showError("");
      await refresh();
    } catch (err) { showError(err.message); }
  });
  td.append(form);
  return td;
}

function mentionRow(item) {
  const tr = el("tr", { "data-mention-id": item.mention_id });
  tr.append(el("td", {}, item.published_at ? item.published_at.slice(0, 10) : ""));
  tr.append(el("td", {}, item.source_type));
  tr.append(el("td", {}, item.language || ""));
  tr.append(el("td", {}, item.rating === null ? "" : item.rating + (item.rating_scale ? "/" + item.rating_scale : "")));
  const label = el("td", { class: "sentiment" });
  label.append(el("span", { class: "label " + (item.label || "") }, item.label || "unscored"));
  if (item.corrected) label.append(el("span", { class: "corrected", title: "corrected by an analyst" }, "✎"));
  tr.append(label);
  tr.append(el("td", { class: "topics" }, item.topics.join(", ")));
  const text = el("td", { class: "text" });
  // dir=auto: a right-to-left review reads right to left, inside its own cell only
  if (item.title) text.append(el("span", { class: "title", dir: "auto" }, item.title));
  text.append(el("span", { class: "body", dir: "auto" }, item.text.length > 600 ? item.text.slice(0, 600) + "…" : item.text));
  const href = safeHref(item.url);
  if (href) {
    text.append(" ");
    text.append(el("a", { href: href, rel: "noopener noreferrer nofollow", target: "_blank" }, "source"));
  }
  tr.append(text);
  tr.append(correctionCell(item));
  return tr;
}

function mentionFilters() {
  return Object.assign(period(), {
    sentiment: $("f-sentiment").value, source: $("f-source").value.trim(),
    language: $("f-language").value.trim(), topic: $("f-topic").value, search: $("f-search").value.trim(),
  });
}

async function loadMentions(append) {
  const params = Object.assign(mentionFilters(), { limit: PAGE });
  if (append && state.cursor) params.cursor = state.cursor;
  const page = await api("/api/v1/mentions", params);
  const body = $("mentions-table").tBodies[0];
  if (!append) body.replaceChildren();
  for (const item of page.items) body.append(mentionRow(item));
  state.cursor = page.next_cursor;
  $("more").hidden = !page.next_cursor;
}

function fillSelect(select, options, keepFirst) {
  const first = keepFirst ? [select.options[0]] : [];
  select.replaceChildren(...first);
  for (const [value, label] of options) select.append(el("option", { value: value }, label));
}

async function signIn() {
  // Who the token is, then the businesses and topics it may see: only now does the page
  // learn anything about the store.
  const me = await api("/api/v1/me");
  const [businesses, topics] = await Promise.all([api("/api/v1/businesses"), api("/api/v1/topics")]);
  state.canWrite = me.can_write;
  document.body.classList.toggle("can-write", me.can_write);
  $("whoami").textContent = displayText(me.analyst + (me.can_write ? " (may correct)" : " (read only)"));
  fillSelect($("business"), businesses.map((b) => [b.id, b.name]), false);
  fillSelect($("f-topic"), topics.map((t) => [t, t]), true);
  $("topic-list").replaceChildren(...topics.map((t) => el("option", { value: t })));
  document.body.classList.remove("signed-out");
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = "";
  state.canWrite = false;
  state.cursor = null;
  document.body.classList.add("signed-out");
  document.body.classList.remove("can-write");
  delete document.body.dataset.loaded;
  // Forget what the token showed, not only the token.
  for (const id of ["business", "topic-list"]) $(id).replaceChildren();
  clearOverview();
  document.dispatchEvent(new CustomEvent("reviewwatch:signout"));
  fillSelect($("f-topic"), [], true);
  $("mentions-table").tBodies[0].replaceChildren();
  $("whoami").textContent = "";
  $("more").hidden = true;
  $("token").value = "";
}

async function refresh() {
  if (!state.token) { showError("enter an API token"); return; }
  try {
    const chosen = Object.assign(period(), { period: $("bucket").value });
    const overview = await api("/api/v1/overview", chosen);
    drawOverview(overview);
    await loadMentions(false);
    showError("");
    document.body.dataset.loaded = String(Date.now());
    document.dispatchEvent(new CustomEvent("reviewwatch:refresh", { detail: chosen }));
  } catch (err) { showError(err.message); }
}

async function start() {
  try {
    await signIn();
  } catch (err) { showError(err.message); return; }
  await refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  // Earlier versions kept the token in localStorage, for every tab and after closing: forget it.
  localStorage.removeItem(TOKEN_KEY);
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.token = $("token").value.trim();
    $("token").value = "";
    if (!state.token) { showError("enter an API token"); return; }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  $("sign-out").addEventListener("click", () => { signOut(); showError(""); });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); loadMentions(false).catch((e) => showError(e.message)); });
  for (const id of ["business", "bucket", "since", "until"]) $(id).addEventListener("change", refresh);
  $("more").addEventListener("click", () => loadMentions(true).catch((e) => showError(e.message)));
  if (state.token) start();
});
