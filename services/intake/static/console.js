// 直通 status page: fetch /console/data with an oversight key kept in sessionStorage; render with
// textContent only (never innerHTML), so nothing in the data can become markup.
"use strict";

const KEY = "zhitong.console.key";
const REFRESH_MS = 30000;
// /console/data spans every unit, so only an oversight key may read it (README, "Security").
const REFUSED = {
  401: "密钥无效，请检查后重新输入。Unknown API key: check it and try again.",
  403: "该密钥不能查看运行状态：需要有 read 权限的监督密钥（app 与承办单位密钥不可）。" +
    "This key may not read the status page: it needs an oversight key with the read scope " +
    "(app and unit keys cannot).",
};
let snapshot = null;
let clockOffsetMs = 0;

function $(id) { return document.getElementById(id); }

// The words (states, reasons, tiers) come with the data, from the server's one vocabulary.
function word(table, key) {
  const words = (snapshot && snapshot.words && snapshot.words[table]) || {};
  return words[key] || key || "—";
}

function percent(value) {
  return typeof value === "number" ? (value * 100).toFixed(1) + "%" : "—";
}

// An ISO 8601 time or epoch milliseconds, as Beijing time.
function beijing(iso) {
  if (!iso) return "—";
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function duration(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(total / 86400), h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60), s = total % 60;
  const text = d ? `${d}天${h}小时` : h ? `${h}小时${m}分` : `${m}分${s}秒`;
  return ms < 0 ? `已超时 ${text}` : text;
}

function row(cells, attrs) {
  const tr = document.createElement("tr");
  for (const [field, text, cls] of cells) {
    const td = document.createElement("td");
    td.dataset.field = field;
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  for (const [k, v] of Object.entries(attrs || {})) tr.dataset[k] = v;
  return tr;
}

function renderStats(stats) {
  const all = stats.overall;
  $("rate-response").textContent = percent(all.response_rate);
  $("rate-resolution").textContent = percent(all.resolution_rate);
  $("rate-satisfaction").textContent = percent(all.satisfaction_rate);
  $("count-open").textContent = all.open;
  $("count-overdue").textContent = all.overdue;
  $("count-breaches").textContent = all.breaches;
  const body = $("units");
  body.replaceChildren();
  for (const [unit, b] of Object.entries(stats.by_unit)) {
    body.appendChild(row([
      ["unit", b.name || unit], ["open", b.open, "num"], ["overdue", b.overdue, "num"],
      ["breaches", b.breaches, "num"], ["response_rate", percent(b.response_rate), "num"],
      ["resolution_rate", percent(b.resolution_rate), "num"],
      ["satisfaction_rate", percent(b.satisfaction_rate), "num"],
    ], { unit }));
  }
}

function renderEscalations(items) {
  const body = $("escalations");
  body.replaceChildren();
  for (const e of items) {
    body.appendChild(row([
      ["at", beijing(e.at)], ["tracking_no", e.tracking_no || e.grievance_id],
      ["previous_assignee", e.previous_assignee_name || e.previous_assignee || "—"],
      ["assignee", e.assignee_name || e.assignee || "—"],
      ["tier", word("tier", e.tier)], ["reason", word("reason", e.reason)],
    ], { escalated: e.grievance_id }));
  }
  $("no-escalations").hidden = items.length > 0;
}

// The deadline running now: the response, the resolution, or the worker's rating window.
function deadlineOf(g) {
  if (g.awaiting_rating && g.feedback_closes_ms) {
    const closes = `${word("deadline", "rating")}（${beijing(g.feedback_closes_ms)} 截止）`;
    return [closes, g.feedback_closes_ms];
  }
  if (g.state === "submitted" || g.state === "assigned") {
    return g.ack_due_ms ? [word("deadline", "ack"), g.ack_due_ms] : null;
  }
  if (g.state === "acknowledged" || g.state === "awaiting_worker") {
    return g.resolve_due_ms ? [word("deadline", "resolve"), g.resolve_due_ms] : null;
  }
  return null;
}

// A low rating sent it back one tier up: the state says so (已分派 · 重新交办).
function stateOf(g) {
  const state = word("state", g.state);
  const open = g.state === "assigned" || g.state === "acknowledged" || g.state === "awaiting_worker";
  return g.reopened && open ? `${state} · ${word("event", "grievance.reopened")}` : state;
}

function renderCountdowns() {
  if (!snapshot) return;
  const now = Date.now() + clockOffsetMs;
  const body = $("countdowns");
  body.replaceChildren();
  const open = snapshot.open.map((g) => [g, deadlineOf(g)]);
  open.sort((a, b) => (a[1] ? a[1][1] : Infinity) - (b[1] ? b[1][1] : Infinity));
  for (const [g, deadline] of open) {
    const left = deadline ? deadline[1] - now : null;
    const tr = row([
      ["tracking_no", g.tracking_no || g.id], ["state", stateOf(g)],
      ["assignee", g.assignee_name || g.assignee || "—"], ["deadline", deadline ? deadline[0] : "—"],
      ["remaining", left === null ? "—" : duration(left), "num"],
    ], { grievance: g.id });
    if (left !== null && left < 0) tr.className = "late";
    else if (left !== null && left < 3600 * 1000) tr.className = "soon";
    body.appendChild(tr);
  }
  $("no-open").hidden = open.length > 0;
}

function showLogin(message) {
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("updated").textContent = "需要监督密钥 Oversight key needed";
}

async function load() {
  const key = sessionStorage.getItem(KEY);
  if (!key) { showLogin(); return; }
  let reply;
  try {
    reply = await fetch("/console/data", { headers: { Authorization: `Bearer ${key}` } });
  } catch (err) {
    $("updated").textContent = `无法连接服务：${err}`;
    return;
  }
  if (reply.status === 401 || reply.status === 403) {
    sessionStorage.removeItem(KEY);
    showLogin(REFUSED[reply.status]);
    return;
  }
  if (!reply.ok) { $("updated").textContent = `加载失败（HTTP ${reply.status}）`; return; }
  snapshot = await reply.json();
  clockOffsetMs = snapshot.now_ms - Date.now();
  $("login").hidden = true;
  $("dashboard").hidden = false;
  renderStats(snapshot.stats);
  renderEscalations(snapshot.escalations);
  renderCountdowns();
  $("updated").textContent = `更新于 ${beijing(snapshot.now)}（北京时间），每 30 秒刷新`;
}

function start() {
  // A key may come in the fragment (never sent to the server): /console#key=…
  const match = location.hash.match(/(?:^#|&)key=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("key-input").value.trim());
    $("key-input").value = "";
    load();
  });
  $("logout").addEventListener("click", () => { sessionStorage.removeItem(KEY); showLogin(); });
  load();
  setInterval(load, REFRESH_MS);
  setInterval(renderCountdowns, 1000);
}

document.addEventListener("DOMContentLoaded", start);
