// Design review without a display: drives headless Chromium over the DevTools protocol
// against a static build served with the dev fake, clicks through the pages, checks the
// contract's DOM hooks, and saves screenshots. Not part of `npm test` (it needs Chromium).
//
//   npm run build && python3 -m http.server -d dist 4173 &
//   node --experimental-websocket scripts/review.mjs [http://127.0.0.1:4173] [out-dir]
//
// Needs Node 20 with --experimental-websocket (built in from Node 22) and `chromium` on PATH.

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const base = process.argv[2] ?? "http://127.0.0.1:4173";
const out = process.argv[3] ?? "screenshots";
mkdirSync(out, { recursive: true });

const port = 9333;
const browser = spawn(
  "chromium",
  ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", `--remote-debugging-port=${port}`, "about:blank"],
  { stdio: "ignore" },
);

async function target() {
  for (let i = 0; i < 50; i++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      const page = list.find((t) => t.type === "page");
      if (page) return page.webSocketDebuggerUrl;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error("chromium did not start");
}

const ws = new WebSocket(await target());
await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
let nextId = 1;
const waiting = new Map();
ws.addEventListener("message", (event) => {
  const msg = JSON.parse(event.data);
  if (msg.id && waiting.has(msg.id)) {
    waiting.get(msg.id)(msg);
    waiting.delete(msg.id);
  }
});
function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) =>
    waiting.set(id, (msg) => (msg.error ? reject(new Error(`${method}: ${msg.error.message}`)) : resolve(msg.result))),
  );
}
async function js(expression) {
  const result = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (result.exceptionDetails) throw new Error(`${expression}: ${result.exceptionDetails.text}`);
  return result.result.value;
}
async function size(width, height, dark) {
  await send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
  await send("Emulation.setEmulatedMedia", {
    features: [{ name: "prefers-color-scheme", value: dark ? "dark" : "light" }],
  });
}
async function open(query) {
  await send("Page.navigate", { url: `${base}/index.html?${query}` });
  await sleep(900);
}
async function shot(name, fullPage = false) {
  let clip;
  if (fullPage) {
    const h = await js("document.querySelector('main').scrollHeight");
    const w = await js("window.innerWidth");
    await send("Emulation.setDeviceMetricsOverride", { width: w, height: h, deviceScaleFactor: 1, mobile: false });
    await sleep(300);
  }
  const { data } = await send("Page.captureScreenshot", { format: "png", clip });
  writeFileSync(`${out}/${name}.png`, Buffer.from(data, "base64"));
  console.log(`${out}/${name}.png`);
}
const q = (testid) => `document.querySelector('[data-testid="${testid}"]')`;
async function click(selector) {
  await js(`(${selector}).click()`);
  await sleep(400);
}
async function type(testid, text) {
  await js(`(() => { const el = ${q(testid)}; el.focus(); el.value = ${JSON.stringify(text)};
    el.dispatchEvent(new Event('input', { bubbles: true })); })()`);
  await sleep(150);
}
const failures = [];
function expect(label, ok) {
  console.log(`${ok ? "ok  " : "FAIL"} ${label}`);
  if (!ok) failures.push(label);
}

await send("Page.enable");
await send("Runtime.enable");

for (const dark of [false, true]) {
  const theme = dark ? "dark" : "light";
  await size(1000, 700, dark);
  await open("page=dashboard&frozen=1");
  expect("dashboard page root", await js(`!!document.querySelector('[data-page="dashboard"]')`));
  expect("state word", /Contributing/.test(await js(`${q("state")}.textContent`)));
  expect("network label says Local network", (await js(`${q("network-label")}.textContent`)) === "Local network");
  expect("tokens total has a number", /\d/.test(await js(`${q("tokens-total")}.textContent`)));
  await shot(`dashboard-${theme}`);
  for (const name of ["Earnings", "Settings", "Node"]) {
    await click(`document.querySelector('nav button[aria-label="${name}"]')`);
    await sleep(400);
    expect(`${name} page root`, await js(`!!document.querySelector('[data-page="${name.toLowerCase()}"]')`));
    await shot(`${name.toLowerCase()}-${theme}`);
  }
}

// Dashboard interactions: switch off, snooze.
await size(1000, 700, false);
await open("page=dashboard&frozen=1");
await click(q("contribute-toggle"));
expect("switch off → Paused", /Paused/.test(await js(`${q("state")}.textContent`)));
expect("switch aria-checked false", (await js(`${q("contribute-toggle")}.getAttribute('aria-checked')`)) === "false");
await shot("dashboard-switched-off");
await click(q("contribute-toggle"));
await click(`document.querySelector('button[aria-label="Snooze for 4 hours"]')`);
expect("snoozed → Paused", /Paused/.test(await js(`${q("state")}.textContent`)));
await shot("dashboard-snoozed");

// Other states and a machine without a GPU, at the smallest window size.
await size(800, 600, false);
await open("page=dashboard&frozen=1&state=waiting&gpu=0&remote=1");
expect("remote coordinator label", (await js(`${q("network-label")}.textContent`)) !== "Local network");
await shot("dashboard-800-waiting-nogpu-remote");
await size(800, 600, true);
await open("page=dashboard&frozen=1&state=offline&remote=1");
await shot("dashboard-800-offline-dark");
await open("page=dashboard&frozen=1&new=1");
await shot("dashboard-800-new-dark");

// Earnings: verify and export.
await size(1000, 700, false);
await open("page=earnings&frozen=1");
await click(q("verify"));
await sleep(700);
expect("verify result shown", /Verified/.test(await js(`${q("verify-result")}.textContent`)));
await click(q("export-csv"));
await sleep(500);
expect("export path shown", /\.csv$/.test((await js(`${q("export-path")}.textContent`)).trim()));
await shot("earnings-verified-exported");

// Settings: client-side errors, then a good save, then a server-side error.
await open("page=settings&frozen=1");
await type("setting-policy.owner_cpu_pause_percent", "150");
await type("setting-policy.owner_cpu_resume_percent", "20");
await type("setting-schedule.compute.0.end", "00:00x");
await type("setting-preferences.coordinator", "example.org:7350");
expect("range error at the field", /between 1 and 100/.test(await js(`${q("error-policy.owner_cpu_pause_percent")}.textContent`)));
expect("schedule rule error", !!(await js(`!!${q("error-schedule.compute.0")}`)));
expect("coordinator error", !!(await js(`!!${q("error-preferences.coordinator")}`)));
await click(q("settings-save"));
expect("no saved after invalid save", !(await js(`!!${q("saved")}`)));
await js(`document.querySelector('[data-testid="setting-policy.owner_cpu_pause_percent"]').scrollIntoView({block: 'center'})`);
await shot("settings-client-errors");
await open("page=settings&frozen=1");
await click(`document.querySelector('label[for="field-policy-pause_on_battery"]')`);
expect(
  "clicking a switch's words flips it",
  (await js(`${q("setting-policy.pause_on_battery")}.getAttribute('aria-checked')`)) === "false",
);
await type("setting-policy.input_idle_secs", "60");
await click(q("settings-save"));
await sleep(600);
expect("saved appears", !!(await js(`!!${q("saved")}`)));
await js(`document.querySelector('main').scrollTo(0, 0)`);
await shot("settings-saved");
await open("page=settings&frozen=1&fail=save");
await type("setting-policy.input_idle_secs", "60");
await click(q("settings-save"));
await sleep(600);
expect("server error at its field", /refused/.test(await js(`${q("error-policy.input_idle_secs")}?.textContent ?? ''`)));
await shot("settings-server-error");

// Schedule editor: no rules, then two rules with one invalid, in dark at 800×600.
await size(800, 600, true);
await open("page=settings&frozen=1");
await click(`document.querySelector('button[aria-label="Remove network rule 1"]')`);
expect("an empty schedule says never", /never runs/.test(await js(`${q("setting-schedule.network")}.textContent`)));
await click(`document.querySelector('button[aria-label="Add a compute rule"]')`);
await click(`document.querySelector('[data-testid="setting-schedule.compute.1"] button[aria-label="Saturday"]')`);
await type("setting-schedule.compute.1.start", "18:00");
await type("setting-schedule.compute.1.end", "18:00");
expect("an empty window is flagged", !!(await js(`!!${q("error-schedule.compute.1")}`)));
await js(`${q("setting-schedule.compute")}.scrollIntoView({block: 'start'})`);
await shot("settings-800-schedule-dark");

// Node: the key-file warning.
await size(800, 600, true);
await open("page=node&frozen=1&keyfile=1");
expect("node id shown", (await js(`${q("node-id")}.textContent`)).length === 52);
await shot("node-800-keyfile-dark");

// Keyboard: Tab reaches the switch, Space flips it.
await size(1000, 700, false);
await open("page=dashboard&frozen=1");
await js(`${q("contribute-toggle")}.focus()`);
await send("Input.dispatchKeyEvent", { type: "keyDown", key: " ", code: "Space", windowsVirtualKeyCode: 32 });
await send("Input.dispatchKeyEvent", { type: "keyUp", key: " ", code: "Space", windowsVirtualKeyCode: 32 });
await sleep(400);
expect("Space flips the switch", (await js(`${q("contribute-toggle")}.getAttribute('aria-checked')`)) === "false");
await shot("dashboard-focus-ring");

ws.close();
browser.kill("SIGTERM");
console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
process.exit(failures.length ? 1 : 0);
