// Drives tandem edge's web UI in Debian's chromium (headless, through playwright-core) the way a
// person would, and checks each step against the gateway's own API:
//   node check.mjs http://127.0.0.1:PORT
// Exits 0 when every check holds; otherwise prints what failed and exits 1. Run by
// tests/edge_webui_test.cpp against a real `tandem edge` process.
import { chromium } from "playwright-core";

const base = process.argv[2];
if (!base) {
  console.error("usage: node check.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/lib/chromium/chromium";

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
  console.log("ok  " + what);
}

async function api(path, body) {
  const r = await fetch(base + path, {
    method: body ? "POST" : "GET",
    headers: { "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}

// The answer the gateway gives to the same conversation without the UI (non-streamed, greedy).
async function directAnswer(messages, maxTokens) {
  const r = await api("/v1/chat/completions", {
    messages, max_tokens: maxTokens, temperature: 0, tandem: { route: "local" },
  });
  if (r.status !== 200) throw new Error("direct call: HTTP " + r.status + " " + JSON.stringify(r.json));
  return r.json.choices[0].message.content;
}

const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
let failed = false;
try {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  // The refused request below logs its 400 as a failed resource; anything else is a problem.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("status of 400")) problems.push("console error: " + m.text());
  });

  await page.goto(base + "/");
  await page.waitForFunction(() => document.getElementById("health").textContent === "ok", null, { timeout: 30000 });
  check((await page.textContent("#device-model")).length > 0, "the page shows the device model from /health");
  check((await page.textContent("#endpoints")).includes("none configured"), "the endpoints table says none are configured");

  // One turn, greedy, on the device.
  await page.fill("#temperature", "0");
  await page.fill("#max-tokens", "12");
  await page.selectOption("#route", "local");
  const ask = async (text, n) => {
    await page.fill("#prompt", text);
    await page.press("#prompt", "Enter");
    const sel = `#messages li.assistant:nth-of-type(${2 * n})`;
    await page.waitForSelector(`${sel}[data-state="done"], ${sel}[data-state="error"]`, { timeout: 120000 });
    return {
      state: await page.getAttribute(sel, "data-state"),
      text: await page.textContent(`${sel} .text`),
      route: await page.getAttribute(sel, "data-route"),
      meta: await page.textContent(`${sel} .meta`),
    };
  };
  const first = await ask("Hi", 1);
  check(first.state === "done", "the first answer finished streaming");
  check(first.route === "LOCAL", "the first answer is marked LOCAL (got " + first.route + ")");
  check(first.meta.includes("nothing left the device"), "its meta line says nothing left the device");
  check(first.meta.includes("why: "), "its meta line gives the reasons");
  const conv = [{ role: "user", content: "Hi" }];
  const want1 = await directAnswer(conv, 12);
  check(first.text === want1, "the streamed UI answer equals the API's greedy answer");

  // A second turn carries the conversation.
  const second = await ask("More", 2);
  conv.push({ role: "assistant", content: want1 }, { role: "user", content: "More" });
  const want2 = await directAnswer(conv, 12);
  check(second.state === "done" && second.text === want2, "the second turn sends the whole conversation");

  // A new chat starts empty; a request the gateway refuses shows its error and leaves the UI usable.
  await page.click("#new-chat");
  check(await page.locator("#messages li").count() === 0, "New chat clears the conversation");
  await page.fill("#max-tokens", "1000000");
  const bad = await ask("Hi", 1);
  check(bad.state === "error", "an absurd max_tokens ends in an error");
  const errText = await page.textContent("#messages li.assistant:nth-of-type(2) .error");
  check(errText.includes("1000000"), "the error gives the gateway's reason (" + errText.trim() + ")");
  await page.fill("#max-tokens", "8");
  const after = await ask("Hi", 2);
  check(after.state === "done", "the next request after the error is answered");

  // Device state pushed from the panel reaches the gateway.
  await page.fill("#dev-battery", "15");
  await page.uncheck("#dev-charging");
  await page.selectOption("#dev-thermal", "serious");
  await page.click("#dev-push");
  await page.waitForFunction(() => document.getElementById("device-state").textContent.includes("15 %"), null, { timeout: 10000 });
  const dev = await api("/v1/device");
  check(dev.json.battery === 15 && dev.json.thermal === "serious" && dev.json.charging === false,
        "the pushed device state is what GET /v1/device returns");

  // The ledger panel shows the ledger's count: 3 answered from the UI and 2 direct calls (the
  // refused request never ran, so it is not a ledger row).
  const rep = await api("/v1/report?since=24h");
  check(rep.json.total.requests === 5, "/v1/report counts the 5 requests that ran (" + rep.json.total.requests + ")");
  await page.click("#report-refresh");
  await page.waitForFunction(() => document.getElementById("report").dataset.requests === "5", null, { timeout: 10000 });
  check((await page.textContent("#report")).includes("100.0 %"), "the ledger panel shows every answer on the device");

  // Stop is offered only while an answer streams (the tiny shared model answers in milliseconds,
  // so stopping one mid-stream cannot be timed from here; tests/edge_gateway_test.cpp covers an
  // app that goes away mid-stream).
  check(await page.isDisabled("#stop") && await page.isEnabled("#send"), "Stop is disabled and Send enabled when idle");
  const health = await api("/health");
  check(health.status === 200, "the gateway still answers /health");

  check(problems.length === 0, "no script errors or CSP violations in the page" + (problems.length ? ": " + problems.join("; ") : ""));
} catch (e) {
  failed = true;
  console.error(e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
