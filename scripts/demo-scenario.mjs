// The README's main job, part 2: drives a running `tandem edge` through a scripted day of device
// and network states and prints where each request ran and why (the gateway's `tandem` object).
//   node scripts/demo-scenario.mjs EDGE_URL NETSIM_CONTROL_URL
// Device state is pushed as a host app would (PUT /v1/device); the network outage is real: the
// netsim proxy between the gateway and the cloud goes dark.
const [edge, netsim] = process.argv.slice(2);
if (!edge || !netsim) {
  console.error("usage: node scripts/demo-scenario.mjs EDGE_URL NETSIM_CONTROL_URL");
  process.exit(2);
}

async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}
const device = (state) => call("PUT", `${edge}/v1/device`, state);
const net = (what) => call("POST", `${netsim}/${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const simple = "Once upon a time";
const code = "Write a python function that sorts a list.";
const steps = [
  { say: "plugged in, simple prompt", state: { battery: 90, charging: true, thermal: "nominal", online: true }, prompt: simple },
  { say: "complex prompt (code)", prompt: code },
  { say: "speculative asked for", prompt: simple, route: "speculative" },
  { say: "battery 15%, discharging", state: { battery: 15, charging: false }, prompt: simple },
  { say: "thermal spike (serious)", state: { battery: 90, charging: true, thermal: "serious" }, prompt: simple },
  { say: "network dark (netsim), code", state: { thermal: "nominal" }, net: "dark", prompt: code },
  { say: "host app: offline", state: { online: false }, prompt: code },
  { say: "back online, code", state: { online: true }, net: "light", prompt: code, settle: 1500 },
];

const rows = [];
for (const [i, s] of steps.entries()) {
  if (s.state) await device(s.state);
  if (s.net) await net(s.net);
  if (s.settle) await sleep(s.settle);
  const body = { prompt: s.prompt, max_tokens: 48, temperature: 0 };
  if (s.route) body.tandem = { route: s.route };
  const t0 = Date.now();
  const r = await call("POST", `${edge}/v1/completions`, body);
  const t = r.tandem ?? {};
  const tok = t.tokens ?? {};
  rows.push([
    String(i + 1),
    s.say,
    t.route ?? "?",
    t.served_by ?? "?",
    (t.reasons ?? []).join(", ") + (t.notice ? ` [${t.notice}]` : ""),
    `${tok.device?.completion ?? 0}/${tok.cloud?.completion ?? 0}`,
    `$${(t.cost_usd ?? 0).toFixed(6)}`,
    `${Date.now() - t0} ms`,
    t.data_left_device ? "yes" : "no",
  ]);
}

const head = ["#", "situation", "route", "served by", "why", "tokens dev/cloud", "cost", "latency", "data left"];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
const line = (r) => "| " + r.map((x, c) => x.padEnd(widths[c])).join(" | ") + " |";
console.log(line(head));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
