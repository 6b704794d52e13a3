// The kmsemu dashboard: keys, a live request stream, faults, the fake
// clock and journal search, all through the admin API. Dialects, their
// actions and error codes, key states and lifecycle operations come from
// GET /_kmsemu/catalog; nothing here names a cloud. The browser sends the
// admin token itself (Basic, asked for on the page's first 401).
"use strict";

const API = "/_kmsemu/";
const POLL_MS = 1000;
const STREAM_ROWS = 200;
const REFRESH_EVERY = 5; // polls between key and fault refreshes when idle
const KEY_ROWS = 500; // a scenario may declare 100 000 keys: the page shows the first

const state = { catalog: null, keys: [], dialect: null, cursor: 0, seen: 0, polls: 0, clock: null };

const $ = (sel) => document.querySelector(sel);

// One admin call: the parsed answer, or an Error carrying the refusal.
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  const text = await res.text();
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch (_) {
    doc = { error: text };
  }
  if (!res.ok) {
    throw new Error(`${method} ${path}: ${res.status} ${(doc && doc.error) || ""}`);
  }
  return doc;
}

const NOTICE_MS = 8000;
let noticeTimer;

// The answer to what was just clicked, for a while.
function notice(text, bad) {
  const p = $("#notice");
  p.textContent = text;
  p.className = bad ? "bad" : "good";
  p.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { p.hidden = true; }, NOTICE_MS);
}

// Calls an admin operation and renders its answer unless a later call of
// the same kind was made meanwhile: a poll still in flight must not undo
// what a click just showed.
const asked = {};
async function fresh(kind, call, render) {
  const n = (asked[kind] = (asked[kind] || 0) + 1);
  const doc = await call();
  if (asked[kind] === n) render(doc);
}

// An element with attributes and children (strings become text).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function option(value, label, selected) {
  return el("option", { value, selected }, label === undefined ? value : label);
}

function isoOf(seconds) {
  return typeof seconds === "number" ? new Date(seconds * 1000).toISOString().replace(".000Z", "Z") : "";
}

function words(name) {
  return String(name).replace(/_/g, " ");
}

// ------------------------------------------------------------------ keys

function renderTabs() {
  const nav = $("#dialect-tabs");
  nav.replaceChildren();
  for (const d of state.catalog.dialects) {
    const n = state.keys.filter((k) => k.dialect === d.name).length;
    nav.append(el("button", {
      type: "button", class: d.name === state.dialect ? "tab active" : "tab", "data-dialect": d.name,
      onclick: () => { state.dialect = d.name; renderKeys(); },
    }, `${d.name} (${n})`));
  }
}

function extraText(extra) {
  if (!extra) return "";
  return Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(" ");
}

async function keyAction(k, action) {
  try {
    const res = await api("POST", "keys/action", { dialect: k.dialect, owner: k.owner, id: k.id, action });
    notice(`${words(action)}: ${k.id} is now ${words(res.state)}`);
  } catch (err) {
    notice(err.message, true);
  }
  await loadKeys();
}

function renderKeys() {
  renderTabs();
  const body = $("#keys tbody");
  body.replaceChildren();
  const shown = state.keys.filter((key) => key.dialect === state.dialect);
  if (shown.length > KEY_ROWS) {
    body.append(el("tr", null, el("td", { colspan: 8, class: "muted" },
      `the first ${KEY_ROWS} of ${shown.length} keys`)));
  }
  for (const k of shown.slice(0, KEY_ROWS)) {
    const buttons = k.actions.map((a) => el("button", {
      type: "button", "data-action": a, onclick: () => keyAction(k, a),
    }, words(a)));
    body.append(el("tr", { "data-dialect": k.dialect, "data-key-id": k.id, "data-state": k.state },
      el("td", { class: "mono" }, k.id), el("td", null, k.owner), el("td", null, k.spec),
      el("td", null, el("span", { class: `badge state-${k.state}` }, words(k.state))),
      el("td", null, k.aliases.join(", ")), el("td", null, isoOf(k.deletion_date)),
      el("td", { class: "muted" }, extraText(k.extra)), el("td", { class: "actions" }, ...buttons)));
  }
  const keys = $("#fault-keys");
  keys.replaceChildren(...state.keys.slice(0, KEY_ROWS).map((k) => option(k.id, `${k.dialect} ${k.spec} ${k.state}`)));
}

function loadKeys() {
  return fresh("keys", () => api("GET", "keys"), (doc) => {
    state.keys = doc.keys;
    renderKeys();
  });
}

// --------------------------------------------------------------- requests

// A long id as its first characters; the whole one shows on hover.
function short(id) {
  return id && id.length > 13 ? `${id.slice(0, 8)}\u2026` : id || "";
}

function requestRow(e) {
  const faults = Array.isArray(e.faults) ? e.faults.join(", ") : "";
  const bad = e.error ? "bad" : e.status >= 400 ? "bad" : "";
  return el("tr", { "data-seq": e.seq, "data-error": e.error || "", class: bad },
    el("td", null, e.seq), el("td", null, isoOf(e.time).slice(11, 19)), el("td", null, e.dialect),
    el("td", { title: e.neutral || "" }, e.action || e.path || ""),
    el("td", { class: "mono", title: e.key_id, "data-key": e.key_id }, short(e.key_id)), el("td", null, e.status),
    el("td", { title: e.message || e.reason || "" }, e.error || e.connection || ""),
    el("td", null, faults), el("td", null, e.latency_ms));
}

async function poll() {
  const j = await api("GET", `journal?since=${state.cursor}&limit=${STREAM_ROWS}`);
  const body = $("#stream tbody");
  if (j.seq < state.cursor) { // a reset started the journal again
    body.replaceChildren();
    state.cursor = 0;
    state.seen = 0;
    return true;
  }
  for (const e of j.entries) body.prepend(requestRow(e));
  while (body.rows.length > STREAM_ROWS) body.lastElementChild.remove();
  state.seen += j.entries.length;
  state.cursor = j.seq;
  $("#stream-count").textContent = `${state.seen} seen`;
  return j.entries.length > 0;
}

// ----------------------------------------------------------------- faults

function triggerText(f) {
  for (const t of [...state.catalog.fault.triggers, "rate"]) {
    if (f[t] !== undefined) return `${t} ${f[t]}`;
  }
  return "every call";
}

function effectText(f) {
  const out = [];
  if (f.error) out.push(f.error);
  if (f.connection) out.push(`connection ${f.connection.effect || f.connection}`);
  if (f.delay_ms !== undefined) out.push(`delay ${JSON.stringify(f.delay_ms)} ms`);
  if (f.state) out.push(`state ${f.state}`);
  return out.join(", ");
}

async function faultCall(method, path, done) {
  try {
    await api(method, path);
    notice(done);
  } catch (err) {
    notice(err.message, true);
  }
  await loadFaults();
}

function loadFaults() {
  return fresh("faults", () => api("GET", "faults"), renderFaults);
}

function renderFaults({ faults }) {
  const body = $("#faults tbody");
  body.replaceChildren();
  for (const f of faults) {
    const id = encodeURIComponent(f.id);
    body.append(el("tr", { "data-fault": f.id, class: f.on ? "" : "off" },
      el("td", null, f.id),
      el("td", null, el("button", {
        type: "button", class: f.on ? "switch on" : "switch", "data-switch": f.on ? "off" : "on",
        onclick: () => faultCall("POST", `faults/${id}/${f.on ? "off" : "on"}`,
          `fault ${f.id} switched ${f.on ? "off" : "on"}`),
      }, f.on ? "on" : "off")),
      el("td", null, f.dialect || "any"), el("td", null, f.action || "any"),
      el("td", { class: "mono", title: f.key_id }, short(f.key_id) || "any"), el("td", null, effectText(f)),
      el("td", null, triggerText(f)), el("td", null, `${f.fired} / ${f.calls}`),
      el("td", null, el("button", {
        type: "button", "data-remove": f.id,
        onclick: () => faultCall("DELETE", `faults/${id}`, `fault ${f.id} removed`),
      }, "remove"))));
  }
}

// The form's choices for the dialect picked: its actions and its codes.
function fillFaultChoices() {
  const form = $("#fault-form");
  const pick = form.elements.dialect.value;
  const dialects = state.catalog.dialects.filter((d) => !pick || d.name === pick);
  const actions = new Set();
  const codes = new Set();
  for (const d of dialects) {
    for (const a of d.actions) actions.add(a.native).add(a.neutral);
    for (const c of d.errors) codes.add(c);
  }
  $("#fault-actions").replaceChildren(...[...actions].sort().map((a) => option(a)));
  form.elements.error.replaceChildren(option("", "none"),
    el("optgroup", { label: "neutral" }, ...state.catalog.fault.errors.map((e) => option(e))),
    el("optgroup", { label: pick || "any dialect" }, ...[...codes].sort().map((c) => option(c))));
}

function setupFaultForm() {
  const form = $("#fault-form");
  const f = state.catalog.fault;
  form.elements.dialect.replaceChildren(option("", "any"),
    ...state.catalog.dialects.map((d) => option(d.name)));
  form.elements.connection.replaceChildren(option("", "none"), ...f.connections.map((c) => option(c)));
  form.elements.trigger.replaceChildren(option("", "every call"), ...f.triggers.map((t) => option(t)));
  form.elements.dialect.addEventListener("change", fillFaultChoices);
  fillFaultChoices();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = Object.fromEntries(new FormData(form));
    const fault = {};
    for (const k of ["dialect", "action", "key_id", "error", "connection"]) {
      if (v[k]) fault[k] = v[k];
    }
    if (v.delay_ms !== "") fault.delay_ms = Number(v.delay_ms);
    if (v.trigger) fault[v.trigger] = Number(v.n);
    try {
      const { id } = await api("POST", "faults", fault);
      notice(`fault ${id} added`);
    } catch (err) {
      notice(err.message, true);
    }
    await loadFaults();
  });
}

// ------------------------------------------------------------------ clock

function renderClock(c) {
  state.clock = c;
  const t = $("#clock-now");
  t.textContent = c.iso;
  t.dataset.now = c.now;
  t.setAttribute("datetime", c.iso);
  $("#clock-mode").textContent = c.frozen ? "frozen" : "running";
  $("#clock-mode").className = c.frozen ? "badge frozen" : "badge";
  const d = Math.trunc(c.offset / 86400);
  const h = Math.trunc((c.offset % 86400) / 3600);
  $("#clock-offset").textContent = c.offset ? `${c.offset > 0 ? "+" : ""}${d} d ${h} h from wall time` : "";
  $("#clock-freeze").textContent = c.frozen ? "run" : "freeze";
}

function loadClock(body) {
  return fresh("clock", () => api(body ? "POST" : "GET", "clock", body), renderClock);
}

async function clockCall(body) {
  try {
    await loadClock(body);
  } catch (err) {
    notice(err.message, true);
  }
  await loadKeys(); // deletion dates may have passed
}

function setupClock() {
  for (const b of document.querySelectorAll("[data-advance]")) {
    b.addEventListener("click", () => clockCall({ advance: Number(b.dataset.advance) }));
  }
  $("#clock-freeze").addEventListener("click", () => clockCall({ frozen: !state.clock.frozen }));
}

// ----------------------------------------------------------------- search

function setupSearch() {
  const form = $("#search-form");
  $("#filters").replaceChildren(...state.catalog.journal_filters.map((name) => el("button", {
    type: "button", class: "chip",
    onclick: () => { form.elements.q.value = `${form.elements.q.value} ${name}=`.trim(); form.elements.q.focus(); },
  }, name)));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const pair of form.elements.q.value.trim().split(/\s+/).filter(Boolean)) {
      const at = pair.indexOf("=");
      q.append(at < 0 ? pair : pair.slice(0, at), at < 0 ? "" : pair.slice(at + 1));
    }
    q.append("limit", form.elements.limit.value || "50");
    const body = $("#results tbody");
    try {
      const j = await api("GET", `journal?${q}`);
      body.replaceChildren(...j.entries.reverse().map(requestRow));
      $("#search-count").textContent = `${j.count} found`;
    } catch (err) {
      body.replaceChildren();
      $("#search-count").textContent = "";
      notice(err.message, true);
    }
  });
}

// ------------------------------------------------------------------- main

async function tick() {
  const live = $("#live");
  try {
    const [moved] = await Promise.all([poll(), loadClock()]);
    state.polls += 1;
    if (moved || state.polls % REFRESH_EVERY === 0) await Promise.all([loadKeys(), loadFaults()]);
    live.className = "live";
  } catch (err) {
    live.className = "live down";
    live.title = err.message;
  }
  setTimeout(tick, POLL_MS);
}

async function main() {
  try {
    const [catalog, health] = await Promise.all([api("GET", "catalog"), api("GET", "health")]);
    state.catalog = catalog;
    state.dialect = catalog.dialects[0].name;
    $("#scenario").textContent = health.scenario || "(no scenario)";
    setupFaultForm();
    setupClock();
    setupSearch();
    await Promise.all([loadKeys(), loadFaults(), loadClock()]);
    document.body.dataset.ready = "true";
  } catch (err) {
    notice(err.message, true);
    return;
  }
  tick();
}

main();
