// studio.test.mjs — the studio in a real browser (Debian's Chromium, headless, driven by
// playwright-core) against a running `maas serve` with real workers (ISSUE 15 "Tests"):
// sign in (a wrong token first) → catalog → deploy the embedded model as a serverless endpoint
// in a second workspace, subscribing on the way (an invalid and a taken name first) → it
// reaches Succeeded → the playground streams a reply → the Consume tab's samples, run as shown
// with the key, answer → regenerate the key in the page → the old key gets 401 → the usage page
// shows the calls with the totals of `maas usage show` → managed compute: a quota error, then a
// deployment with its instances, log and traffic → sign out → an expired session returns to
// sign-in. Screenshots of every page go to $MAAS_STUDIO_ARTIFACTS (the build directory).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { api, cli, startServe } from "../platform/harness.mjs";
import { launch, shot } from "./browser.mjs";

const ARTIFACTS = process.env.MAAS_STUDIO_ARTIFACTS ?? path.resolve("studio-artifacts");
const NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../node_modules");
const WS = "team";
let s, b, page;

const snap = (name) => shot(page, ARTIFACTS, name);
const field = (name) => page.locator(`[data-field="${name}"] .field-error`);
// Waits until the locator shows text matching re; returns the text.
async function sees(locator, re, timeout = 15000) {
  await locator.filter({ hasText: re }).first().waitFor({ state: "visible", timeout });
  return (await locator.filter({ hasText: re }).first().textContent()).trim();
}
async function gatewayStatus(name, key) {
  const r = await fetch(s.endpointUrl(name) + "/v1/chat/completions", {
    method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
  });
  await r.text();
  return r.status;
}

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  s = await startServe({ args: ["--test-clock"] });
  assert.equal((await api(s, "POST", "/api/workspaces", { name: WS })).status, 201);
  assert.equal((await api(s, "PATCH", `/api/workspaces/${WS}/quota`, { cores: 1 })).status, 200);
  b = await launch();
  page = b.page;
});

after(async () => {
  await b?.close();
  await s?.stop();
});

test("sign in: a wrong token is refused in the API's words; the session lives in an HttpOnly cookie", async () => {
  await page.goto(s.url + "/");
  await page.locator('input[name="token"]').waitFor();
  await snap("01-sign-in");
  await page.fill('input[name="token"]', "maas_" + "f".repeat(48));
  await page.click('button[type="submit"]');
  assert.equal(await sees(field("token"), /invalid/), "The token is invalid, expired or revoked.");
  await snap("02-sign-in-wrong-token");
  await page.fill('input[name="token"]', s.token);
  await page.click('button[type="submit"]');
  await page.locator(".model-card").first().waitFor();
  const cookie = (await b.context.cookies()).find((c) => c.name === "maas_session");
  assert.ok(cookie, "a session cookie");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  const stored = await page.evaluate(() => JSON.stringify({ l: { ...localStorage }, s: { ...sessionStorage }, c: document.cookie }));
  assert.ok(!stored.includes(s.token) && !stored.includes(cookie.value), stored);
});

test("the catalog: cards with parameters, context, license, task, prices and weights; search and filters", async () => {
  const card = page.locator('[data-model="maas-tiny-llama3"]');
  await card.waitFor();
  const text = await card.textContent();
  for (const re of [/Weights present/, /Parameters36M/, /Context8,192 tokens/, /Licensemaas-demo/, /Taskchat-completions/,
                    /Input\$0\.0001 \/ 1K/, /Output\$0\.0002 \/ 1K/]) assert.match(text, re);
  assert.match(await page.locator('[data-model="Meta-Llama-3.1-8B-Instruct"]').textContent(), /No local weights.*131,072 tokens/);
  await snap("03-catalog");
  await page.fill('input[name="search"]', "405B");
  assert.equal(await page.locator(".model-card").count(), 1);
  await page.fill('input[name="search"]', "");
  await page.check('input[name="weights"]');
  assert.equal(await page.locator(".model-card").count(), 1);
  await page.uncheck('input[name="weights"]');
  await page.selectOption('select[name="task"]', "text-generation");
  assert.ok((await page.locator(".model-card").count()) >= 2);
  await page.selectOption('select[name="task"]', "");
});

test("deploy serverless in a second workspace: subscribe, a live name check, the API's refusal, then Succeeded", async () => {
  await page.selectOption('select[name="workspace"]', WS);
  await page.click('[data-model="maas-tiny-llama3"]');
  await page.click('button[name="deploy"]');
  await page.click('button[name="serverless"]');
  await sees(page.locator(".subscribe"), /has no subscription to the offering/);
  assert.equal(await page.locator('button[name="create"]').isDisabled(), true);
  await snap("04-model-deploy-subscribe");
  // The name rules, as typed.
  await page.fill('input[name="endpoint-name"]', "9lives");
  assert.equal(await sees(field("name"), /letter/), "serverless endpoint name must start with a letter");
  await page.fill('input[name="endpoint-name"]', "ab");
  await sees(field("name"), /must be 3 to 32 characters long \(got 2\)/);
  await page.fill('input[name="endpoint-name"]', "bad_name");
  await sees(field("name"), /may contain only letters, digits and '-'/);
  await snap("05-deploy-invalid-name");
  // Subscribe (accepting the terms).
  await page.check('input[name="accept-terms"]');
  await page.click('button[name="subscribe"]');
  await sees(page.locator(".ok-line"), /Subscribed/);
  const subs = await api(s, "GET", `/api/workspaces/${WS}/marketplace-subscriptions`);
  assert.equal(subs.json.data.length, 1);
  // A name taken in the region: the API's words, beside the field.
  await page.fill('input[name="endpoint-name"]', "default");
  await page.click('button[name="create"]');
  assert.equal(await sees(field("name"), /already exists/), "a serverless endpoint named 'default' already exists in region 'local'");
  await snap("06-deploy-name-taken");
  await page.fill('input[name="endpoint-name"]', "studio-chat");
  await page.click('button[name="create"]');
  await page.waitForURL(/#\/endpoints\/serverless\/studio-chat$/);
  await page.locator('.page-head [data-state="Succeeded"]').waitFor({ timeout: 60000 });
  await snap("07-endpoint-details");
});

let key = "";

test("the playground streams a reply through the gateway; the raw exchange is one click away", async () => {
  await page.click('a[role="tab"]:has-text("Test")');
  await page.locator('textarea[name="message"]').waitFor();
  await page.fill('input[name="temperature"]', "0");
  await page.fill('input[name="max_tokens"]', "40");
  await page.evaluate(() => {
    window.__lengths = [];
    new MutationObserver(() => {
      const el = document.querySelector(".msg.streaming .content");
      if (el) window.__lengths.push(el.textContent.length);
    }).observe(document.querySelector(".transcript"), { subtree: true, childList: true, characterData: true });
  });
  await page.fill('textarea[name="message"]', "Hello, studio!");
  await page.locator('button[name="send"]:not([disabled])').click();
  const meta = await sees(page.locator(".msg.assistant .meta"), /finish_reason/, 60000);
  assert.match(meta, /finish_reason: (length|stop) · \d+ prompt \+ \d+ completion tokens/);
  const lengths = await page.evaluate(() => [...new Set(window.__lengths)]);
  assert.ok(lengths.length >= 2, `the reply arrived in pieces as they came (saw ${JSON.stringify(lengths)})`);
  assert.ok((await page.locator(".msg.assistant .content").last().textContent()).length > 0);
  await page.click('button[name="raw"]');
  const sent = await page.locator(".raw-request").textContent();
  assert.match(sent, /"max_tokens": 40/);
  assert.match(sent, /"stream": true/);
  const raw = await page.locator(".raw-response").textContent();
  assert.match(raw, /^HTTP 200/);
  assert.ok((raw.match(/^data: /gm) ?? []).length >= 3, "server-sent events in the raw response");
  await snap("08-playground");
});

test("the Consume tab's samples, run as shown with the key, answer", async () => {
  await page.click('a[role="tab"]:has-text("Details")');
  await page.click('button[name="show-primary"]');
  await page.locator('[data-key="primary"] .key-value').filter({ hasText: /^[0-9a-f]{48}$/ }).waitFor();
  key = (await page.locator('[data-key="primary"] .key-value').textContent()).trim();
  await page.click('a[role="tab"]:has-text("Consume")');
  const curl = await page.locator('pre[data-sample="curl"]').textContent();
  assert.match(curl, new RegExp(`^curl "${s.url}/endpoints/studio-chat/v1/chat/completions"`));
  assert.ok(!curl.includes(key), "the page writes no key into a sample");
  await snap("09-consume");
  const run = spawnSync("bash", ["-c", curl], { encoding: "utf8", env: { ...process.env, MAAS_KEY: key }, timeout: 60000 });
  assert.equal(run.status, 0, run.stderr);
  const answer = JSON.parse(run.stdout);
  assert.equal(answer.object, "chat.completion", run.stdout);  // a 200 (an error answers {"error": ...})
  // The JavaScript samples (openai and Azure AI Inference) with node, beside the npm packages.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "maas-studio-samples-"));
  fs.symlinkSync(NODE_MODULES, path.join(dir, "node_modules"));
  for (const id of ["javascript", "azure-javascript"]) {
    await page.click(`button[name="sample-${id}"]`);
    const code = await page.locator(`pre[data-sample="${id}"]`).textContent();
    const file = path.join(dir, `sample-${id}.mjs`);
    fs.writeFileSync(file, code);
    const r = spawnSync(process.execPath, [file], { encoding: "utf8", env: { ...process.env, MAAS_KEY: key }, timeout: 60000 });
    assert.equal(r.status, 0, `${id}: ${r.stderr}`);
    assert.ok(r.stdout.length > 0, id);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  await page.click('button[name="sample-python"]');
  assert.match(await page.locator('pre[data-sample="python"]').textContent(), /base_url="[^"]+\/endpoints\/studio-chat\/v1"/);
});

test("regenerating the key in the page: the old key gets 401, the new one works", async () => {
  await page.click('a[role="tab"]:has-text("Details")');
  await page.click('button[name="regenerate-primary"]');
  await page.click('button[name="confirm-regenerate-primary"]');
  await sees(page.locator(".keys .notice"), /regenerated/);
  const fresh = (await page.locator('[data-key="primary"] .key-value').textContent()).trim();
  assert.match(fresh, /^[0-9a-f]{48}$/);
  assert.notEqual(fresh, key);
  await snap("10-key-regenerated");
  assert.equal(await gatewayStatus("studio-chat", key), 401);
  assert.equal(await gatewayStatus("studio-chat", fresh), 200);
  key = fresh;
});

test("the endpoints list: state, URL with copy, keys hidden until shown", async () => {
  await page.click('a.nav:has-text("Endpoints")');
  const row = page.locator('tr[data-endpoint="studio-chat"]');
  await row.waitFor();
  assert.match(await row.textContent(), /Serverless API.*maas-tiny-llama3.*Succeeded/);
  await row.locator('button[name="keys"]').click();
  const masked = (await page.locator('.keys-row [data-key="secondary"] .key-value').textContent()).trim();
  assert.match(masked, /^[0-9a-f]{6}•+$/);
  await snap("11-endpoints");
});

test("usage and cost: the calls, with the totals of `maas usage show`", async () => {
  await page.click('a.nav:has-text("Usage and cost")');
  await page.locator("[data-totals]").waitFor();
  await page.locator(".chart .u-over").first().waitFor();
  const shown = {};
  for (const k of ["requests", "prompt_tokens", "completion_tokens", "cost_usd"]) {
    shown[k] = (await page.locator(`[data-total="${k}"]`).textContent()).trim();
  }
  const viaApi = (await api(s, "GET", `/api/workspaces/${WS}/usage?by=day`)).json.totals;
  const viaCli = cli(s.dataDir, ["usage", "show", "--workspace", WS, "--output", "json"]).json.totals;
  assert.deepEqual(viaCli, viaApi);
  // The playground, curl, two samples, the new key's check (the old key's 401 comes before metering).
  assert.equal(viaApi.requests, 5, JSON.stringify(viaApi));
  assert.equal(shown.requests, viaApi.requests.toLocaleString("en-US"));
  assert.equal(shown.prompt_tokens, viaApi.prompt_tokens.toLocaleString("en-US"));
  assert.equal(shown.completion_tokens, viaApi.completion_tokens.toLocaleString("en-US"));
  assert.equal(shown.cost_usd, `$${viaApi.cost_usd.toFixed(6)}`);
  assert.match(await page.locator('[data-table="endpoint"] tr[data-row="studio-chat"]').textContent(), /studio-chat/);
  assert.match(await page.locator('[data-table="meter"]').textContent(), /input_tokens.*output_tokens.*fine_tuning/s);
  assert.match(await page.locator('tr[data-quota="cores"]').textContent(), /cores101/);
  await snap("12-usage");
});

test("managed compute: a quota error in the API's words, then a deployment with instances, log and traffic", async () => {
  await page.click('a.nav:has-text("Model catalog")');
  await page.click('[data-model="maas-tiny-llama3"]');
  await page.click('button[name="deploy"]');
  await page.click('button[name="managed"]');
  await page.locator('select[name="instance-type"] option[value="cpu-1c-2g"]').waitFor({ state: "attached" });
  await page.fill('input[name="endpoint-name"]', "studio-online");
  await page.fill('input[name="instance-count"]', "2");
  await sees(page.locator("[data-quota]"), /Needs 2 cores.*1 cores free/s);
  await page.click('button[name="create"]');
  const msg = await sees(field("count"), /quota exceeded/);
  assert.match(msg, /needs 2 more cores, 1 available \(limit 1, used 0\)/);
  await snap("13-managed-quota-error");
  assert.equal((await api(s, "GET", `/api/workspaces/${WS}/online-endpoints/studio-online`)).status, 404);  // nothing left behind
  await page.fill('input[name="instance-count"]', "1");
  await page.click('button[name="create"]');
  await page.waitForURL(/#\/endpoints\/online\/studio-online\/deployments$/);
  const instance = page.locator('[data-deployment="blue"] tr[data-instance="0"]');
  await instance.locator('[data-state="Ready"]').waitFor({ timeout: 60000 });
  await instance.locator('button[name="logs-0"]').click();
  await page.locator('pre.log-text').filter({ hasText: /\S/ }).waitFor();
  assert.notEqual((await page.locator("pre.log-text").textContent()).trim(), "(empty)");
  assert.equal(await page.inputValue('input[name="traffic-blue"]'), "100");
  await page.fill('input[name="traffic-blue"]', "60");
  await sees(page.locator(".traffic .field-error"), /Traffic must sum to 100 \(it sums to 60\)/);
  assert.equal(await page.locator('button[name="save-traffic"]').isDisabled(), true);
  await snap("14-managed-deployments");
  await page.fill('input[name="traffic-blue"]', "100");
  await page.click('a.nav:has-text("Endpoints")');
  await page.locator('tr[data-endpoint="studio-online"] [data-state="Succeeded"]').waitFor({ timeout: 60000 });
  await snap("15-endpoints-both");
});

test("sign out, and an expired session returns to sign-in", async () => {
  await page.click('button:has-text("Sign out")');
  await sees(page.locator(".signin .notice"), /signed out/);
  assert.equal(await page.evaluate(async () => (await fetch("/api/whoami")).status), 401);
  await page.fill('input[name="token"]', s.token);
  await page.click('button[type="submit"]');
  await page.locator('tr[data-endpoint="studio-online"]').waitFor();  // back where it was, every call answered
  assert.equal((await api(s, "POST", "/api/debug/clock", { advance_ms: 13 * 3600 * 1000 })).status, 200);
  await page.click('a.nav:has-text("Usage and cost")');
  assert.equal(await sees(page.locator(".signin .notice"), /ended/), "The studio session has ended: sign in again.");
  await snap("16-session-expired");
  const csp = b.problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
  assert.deepEqual(csp, []);
  assert.deepEqual(b.problems.filter((p) => p.startsWith("page error")), []);
});
