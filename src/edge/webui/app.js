// tandem edge's web UI: a chat against the gateway's own OpenAI API (streamed), with each
// answer's `tandem` object shown as "where it ran and why", the device state (read and pushed
// through /v1/device), the endpoints from /health, and the ledger's figures from /v1/report.
// Plain DOM, no dependencies; every server string goes in through textContent.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { messages: [], controller: null, deviceFormFilled: false };

function apiKey() { return localStorage.getItem("tandem.apiKey") || ""; }

function headers(extra = {}) {
  const h = { ...extra };
  if (apiKey()) h.Authorization = "Bearer " + apiKey();
  return h;
}

async function getJson(path) {
  const r = await fetch(path, { headers: headers() });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new Error((body && body.error && body.error.message) || `HTTP ${r.status}`);
  return body;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fillList(dl, pairs) {
  dl.replaceChildren();
  for (const [k, v] of pairs) {
    dl.append(el("dt", "", k), el("dd", "", v));
  }
}

const fmtMs = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} ms`);
const fmtUsd = (v) => `$${Number(v || 0).toFixed(6)}`;
const fmtPct = (v) => (v === null || v === undefined ? "–" : `${Number(v).toFixed(1)} %`);

// ---- chat ---------------------------------------------------------------------------------

function addMessage(role, text) {
  $("empty-hint").hidden = true;
  const li = el("li", "msg " + role);
  li.append(el("div", "role", role === "user" ? "you" : "assistant"), el("div", "text", text));
  if (role === "assistant") li.append(el("div", "meta"));
  $("messages").append(li);
  li.scrollIntoView({ block: "end" });
  return li;
}

// The `tandem` object of an answer, as one line of facts and the reasons.
function describe(t) {
  const parts = [];
  if (t.served_by) parts.push(`served by ${t.served_by}`);
  if (t.status && t.status !== "ok") parts.push(t.status);
  const dev = t.tokens.device, cloud = t.tokens.cloud;
  parts.push(`tokens: device ${dev.prompt}+${dev.completion}, cloud ${cloud.prompt}+${cloud.completion}`);
  parts.push(`cost ${fmtUsd(t.cost_usd)} (all-cloud ${fmtUsd(t.all_cloud_cost_usd)})`);
  parts.push(`latency ${fmtMs(t.latency_ms)}, first token ${fmtMs(t.ttft_ms)}`);
  parts.push(t.data_left_device ? "data left the device" : "nothing left the device");
  if (t.speculative) parts.push(`speculative: ${t.speculative.accepted}/${t.speculative.drafted} drafts accepted in ${t.speculative.rounds} rounds`);
  const redacted = Object.entries((t.privacy && t.privacy.redacted) || {});
  if (redacted.length) parts.push("redacted " + redacted.map(([k, n]) => `${k}×${n}`).join(", "));
  const consent = t.privacy && t.privacy.with_consent;
  if (consent) {
    const would = Object.entries(consent.would_redact || {}).map(([k, n]) => `${k}×${n}`).join(", ");
    parts.push(`kept on the device without consent (with it: ${consent.route}` + (would ? `, redacting ${would})` : ")"));
  }
  if (t.failure) parts.push(`failure: ${t.failure}`);
  return parts;
}

function showMeta(li, t) {
  const meta = li.querySelector(".meta");
  meta.replaceChildren();
  const route = el("span", "pill route route-" + String(t.route).toLowerCase(), t.route);
  route.dataset.route = t.route;
  meta.append(route);
  const facts = el("span", "facts", describe(t).join(" · "));
  meta.append(facts);
  const reasons = el("div", "reasons", "why: " + (t.reasons || []).join(", "));
  meta.append(reasons);
  if (t.notice) meta.append(el("div", "notice", t.notice));
  li.dataset.route = t.route;
  li.dataset.dataLeftDevice = String(t.data_left_device);
}

// Reads an SSE body: calls onEvent(json) for each `data:` event until [DONE].
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, end);
      buf = buf.slice(end + 2);
      for (const line of ev.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        let j;
        try { j = JSON.parse(data); } catch (e) { continue; }  // not JSON: skip
        onEvent(j);
      }
    }
  }
}

async function send(text) {
  state.messages.push({ role: "user", content: text });
  addMessage("user", text);
  const li = addMessage("assistant", "");
  li.dataset.state = "streaming";
  const out = li.querySelector(".text");
  const body = {
    messages: state.messages,
    stream: true,
    temperature: Number($("temperature").value),
    max_tokens: Number($("max-tokens").value),
  };
  const tandem = {};
  if ($("route").value) tandem.route = $("route").value;
  if ($("privacy").value) tandem.privacy = $("privacy").value;
  if ($("consent").checked) tandem.consent = true;
  if (Object.keys(tandem).length) body.tandem = tandem;

  state.controller = new AbortController();
  $("send").disabled = true;
  $("stop").disabled = false;
  let answer = "";
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
      signal: state.controller.signal,
    });
    if (!r.ok) {
      const err = await r.json().catch(() => null);
      throw new Error((err && err.error && err.error.message) || `HTTP ${r.status}`);
    }
    const meta = li.querySelector(".meta");
    meta.textContent = `route ${r.headers.get("x-tandem-route")} · ${r.headers.get("x-tandem-reasons") || ""}`;
    await readEvents(r.body, (j) => {
      if (j.error) throw new Error(j.error.message);
      const c = j.choices && j.choices[0];
      if (c && c.delta && typeof c.delta.content === "string") {
        answer += c.delta.content;
        out.textContent = answer;
      }
      if (j.tandem) showMeta(li, j.tandem);
    });
    li.dataset.state = "done";
  } catch (e) {
    li.dataset.state = e.name === "AbortError" ? "stopped" : "error";
    li.append(el("div", "error", e.name === "AbortError" ? "stopped" : e.message));
  } finally {
    if (answer) state.messages.push({ role: "assistant", content: answer });
    else state.messages.pop();  // nothing answered: the question can be asked again
    state.controller = null;
    $("send").disabled = false;
    $("stop").disabled = true;
    refreshHealth();
    refreshReport();
  }
}

// ---- side panels --------------------------------------------------------------------------

function showDevice(d, source) {
  fillList($("device-state"), [
    ["battery", d.battery === null ? "unknown" : `${d.battery} %`],
    ["charging", d.charging === null ? "unknown" : d.charging ? "yes" : "no"],
    ["thermal", d.thermal || "unknown"],
    ["free memory", d.free_mem_mb === null ? "unknown" : `${d.free_mem_mb} MB`],
    ["online", d.online === null ? "unknown" : d.online ? "yes" : "no"],
  ]);
  $("device-source").textContent = source ? `(${source})` : "";
  // The form starts from the current state; later refreshes leave what the user typed alone.
  if (!state.deviceFormFilled) {
    state.deviceFormFilled = true;
    if (d.battery !== null) $("dev-battery").value = d.battery;
    $("dev-charging").checked = d.charging === true;
    $("dev-thermal").value = d.thermal || "";
    $("dev-online").checked = d.online !== false;
  }
}

async function refreshHealth() {
  try {
    const h = await getJson("/health");
    $("health").textContent = h.status;
    $("health").className = "pill ok";
    $("device-model").textContent = h.device_model;
    showDevice(h.device, h.device_source);
    const rows = h.endpoints.map((e) => {
      const tr = el("tr");
      tr.dataset.endpoint = e.name;
      const kind = e.discovered ? `${e.kind} (mesh, ${e.discovered.idle}/${e.discovered.slots} idle)` : e.kind;
      for (const v of [e.name, kind, e.breaker, e.rtt_ms === null ? "–" : `${e.rtt_ms.toFixed(1)} ms`, e.sync])
        tr.append(el("td", "", v));
      if (e.sync === "de-synced") tr.className = "desynced";
      return tr;
    });
    if (!rows.length) {
      const tr = el("tr");
      const td = el("td", "", "none configured: every request runs on the device");
      td.colSpan = 5;
      tr.append(td);
      rows.push(tr);
    }
    $("endpoints").replaceChildren(...rows);
    const b = h.budget;
    $("budget").textContent = `spent today ${fmtUsd(b.spent_today_usd)}` +
      (b.remaining_usd === null ? " (no daily budget)" : `, ${fmtUsd(b.remaining_usd)} left`);
  } catch (e) {
    $("health").textContent = "unreachable";
    $("health").className = "pill bad";
  }
}

async function refreshReport() {
  try {
    const r = await getJson("/v1/report?since=24h&format=json");
    const t = r.total;
    fillList($("report"), [
      ["requests", `${t.requests} (${t.fallbacks} fallbacks, ${t.errors} errors)`],
      ["answered on the device", fmtPct(t.device_request_share_pct)],
      ["tokens on the device", fmtPct(t.device_token_share_pct)],
      ["cost", `${fmtUsd(t.cost_usd)} against ${fmtUsd(t.all_cloud_cost_usd)} all-cloud`],
      ["saved", fmtPct(t.savings_pct)],
      ["latency P50 / P99", `${fmtMs(t.latency_ms.p50)} / ${fmtMs(t.latency_ms.p99)}`],
      ["data left the device", `${t.data_left_device} requests`],
    ]);
    $("report").dataset.requests = String(t.requests);
    $("report-error").textContent = "";
  } catch (e) {
    $("report-error").textContent = e.message;
  }
}

async function pushDevice(ev) {
  ev.preventDefault();
  const st = { charging: $("dev-charging").checked, online: $("dev-online").checked };
  if ($("dev-battery").value !== "") st.battery = Number($("dev-battery").value);
  if ($("dev-thermal").value) st.thermal = $("dev-thermal").value;
  try {
    const r = await fetch("/v1/device", {
      method: "PUT",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(st),
    });
    const j = await r.json();
    if (!r.ok) throw new Error((j.error && j.error.message) || `HTTP ${r.status}`);
    showDevice(j, j.source);
    $("device-error").textContent = "";
  } catch (e) {
    $("device-error").textContent = e.message;
  }
}

// The HTML report needs the app key too, so it is fetched here and opened as a blob.
async function openReport(ev) {
  if (!apiKey()) return;  // the plain link works
  ev.preventDefault();
  const r = await fetch(ev.currentTarget.href, { headers: headers() });
  const html = await r.text();
  window.open(URL.createObjectURL(new Blob([html], { type: "text/html" })), "_blank", "noopener");
}

document.addEventListener("DOMContentLoaded", () => {
  $("api-key").value = apiKey();
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("tandem.apiKey", $("api-key").value.trim());
    refreshHealth();
    refreshReport();
  });
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("prompt").value.trim();
    if (!text || state.controller) return;
    $("prompt").value = "";
    send(text);
  });
  $("prompt").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => state.controller && state.controller.abort());
  $("new-chat").addEventListener("click", () => {
    if (state.controller) state.controller.abort();
    state.messages = [];
    $("messages").replaceChildren();
    $("empty-hint").hidden = false;
  });
  $("device-form").addEventListener("submit", pushDevice);
  $("report-refresh").addEventListener("click", refreshReport);
  $("report-link").addEventListener("click", openReport);
  refreshHealth();
  refreshReport();
  setInterval(refreshHealth, 5000);
});
