// Smoke test in WebKitGTK, the engine of the Tauri window on Linux, without building the
// app: starts Xvfb and WebKitWebDriver, opens the static build (dev fake backend) in
// MiniBrowser with LANG unset (a POSIX locale, as in CI), checks that every page renders
// and the contract's hooks work, saves screenshots, and stops what it started.
//
//   npm run build && python3 -m http.server -d dist 4173 &
//   node scripts/webkit.mjs [http://127.0.0.1:4173] [out-dir]
//
// Needs Xvfb, WebKitWebDriver (webkit2gtk-driver) and MiniBrowser (libwebkit2gtk-4.1).

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const site = process.argv[2] ?? "http://127.0.0.1:4173";
const out = process.argv[3] ?? "screenshots/webkit";
mkdirSync(out, { recursive: true });
const display = `:${90 + Math.floor(Math.random() * 9)}`;
const port = 4460 + Math.floor(Math.random() * 30);
const env = { ...process.env, DISPLAY: display };
delete env.LANG;
delete env.LC_ALL;
delete env.LANGUAGE;

const xvfb = spawn("Xvfb", [display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"], { stdio: "ignore" });
await sleep(800);
const driver = spawn("WebKitWebDriver", [`--port=${port}`], { stdio: "ignore", env });
await sleep(800);

const failures = [];
function expect(label, ok) {
  console.log(`${ok ? "ok  " : "FAIL"} ${label}`);
  if (!ok) failures.push(label);
}
async function call(method, path, body) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const { value } = await response.json();
  if (value && value.error) throw new Error(`${method} ${path}: ${value.error} ${value.message}`);
  return value;
}

let session;
try {
  session = (
    await call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "MiniBrowser",
          "webkitgtk:browserOptions": {
            binary: "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
            args: ["--automation", "--geometry=1000x700"],
          },
        },
      },
    })
  ).sessionId;
  const at = (path) => `/session/${session}${path}`;
  const find = async (css) => Object.values(await call("POST", at("/element"), { using: "css selector", value: css }))[0];
  const text = async (css) => call("GET", at(`/element/${await find(css)}/text`));
  const click = async (css) => call("POST", at(`/element/${await find(css)}/click`), {});
  const open = async (query) => {
    await call("POST", at("/url"), { url: `${site}/index.html?${query}` });
    await sleep(1200);
  };
  const shot = async (name) => {
    writeFileSync(`${out}/${name}.png`, Buffer.from(await call("GET", at("/screenshot")), "base64"));
    console.log(`${out}/${name}.png`);
  };

  await open("page=dashboard&frozen=1");
  const language = await call("POST", at("/execute/sync"), { script: "return navigator.language", args: [] });
  expect(`the app renders (navigator.language now ${JSON.stringify(language)})`, /Contributing/.test(await text('[data-testid="state"]')));
  await shot("dashboard");
  for (const page of ["Earnings", "Settings", "Node"]) {
    await click(`nav button[aria-label="${page}"]`);
    await sleep(500);
    expect(`${page} page`, !!(await find(`[data-page="${page.toLowerCase()}"]`)));
    await shot(page.toLowerCase());
  }
  await open("page=dashboard&frozen=1");
  await click('[data-testid="contribute-toggle"]');
  await sleep(500);
  expect("the switch pauses", /Paused/.test(await text('[data-testid="state"]')));
  await open("page=settings&frozen=1");
  const field = await find('[data-testid="setting-policy.owner_cpu_resume_percent"]');
  await call("POST", at(`/element/${field}/clear`), {});
  await call("POST", at(`/element/${field}/value`), { text: "20" });
  await click('[data-testid="settings-save"]');
  await sleep(800);
  expect("a valid setting saves", /Saved/.test(await text('[data-testid="saved"]')));
  await call("POST", at(`/element/${field}/clear`), {});
  await call("POST", at(`/element/${field}/value`), { text: "99" });
  await sleep(300);
  expect("resume above pause is flagged", /pause threshold/.test(await text('[data-testid="error-policy.owner_cpu_resume_percent"]')));
  await shot("settings-error");
} catch (error) {
  failures.push(String(error));
  console.log(`FAIL ${error}`);
} finally {
  if (session) await call("DELETE", `/session/${session}`).catch(() => {});
  driver.kill("SIGTERM");
  xvfb.kill("SIGTERM");
}
console.log(failures.length ? `${failures.length} check(s) failed` : "all checks passed");
process.exit(failures.length ? 1 : 0);
