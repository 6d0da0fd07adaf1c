// limits.test.mjs — rate limits per deployment through the gateway (SPEC §1, §3; TESTPLAN G),
// on a platform started with a 2-second window so that "admitted again after the window" is
// observed for real: requests and tokens per minute, the headers on every response, 429 with
// Retry-After and retry-after-ms, "Request too large", refunds of the estimate, rejections
// metered with zero tokens, and isolation between deployments sharing nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startServe, cli, api, infer, records, waitFor, MODEL } from "./harness.mjs";

// The real one-minute window; the test moves the platform's clock (--test-clock) past it instead
// of sleeping, so a test's calls always fall in one window however loaded the machine is.
const WINDOW_MS = 60000;
let s;
before(async () => { s = await startServe({ args: ["--rate-window-ms", String(WINDOW_MS), "--test-clock"] }); });
async function advance(ms) {
  assert.equal((await api(s, "POST", "/api/debug/clock", { advance_ms: ms })).status, 200);
}
after(async () => { if (s) assert.equal(await s.stop(), 0); });

const small = { prompt: [1, 2, 3], max_tokens: 2, temperature: 0, ignore_eos: true };  // estimate 5, actual 5

async function setLimits(rpm, tpm, name = "default") {
  const r = cli(s.dataDir, ["serverless-endpoint", "update", name, "--requests-per-minute", String(rpm),
                            "--tokens-per-minute", String(tpm), "--output", "json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.limits.requests_per_minute, rpm);
  await advance(WINDOW_MS);  // a fresh window
}

test("defaults: 1,000 requests and 200,000 tokens per minute, headers on every response (G4)", async () => {
  const ep = (await api(s, "GET", "/api/workspaces/default/serverless-endpoints/default")).json;
  assert.deepEqual(ep.limits, { requests_per_minute: 1000, tokens_per_minute: 200000 });
  const r = await infer(s, "/v1/completions", small, s.key);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-ratelimit-limit-requests"), "1000");
  assert.equal(r.headers.get("x-ratelimit-limit-tokens"), "200000");
  assert.equal(r.headers.get("x-ratelimit-remaining-requests"), "999");
  assert.match(r.headers.get("x-ratelimit-reset-requests"), /^\d+(\.\d+)?m?s$|^\d+m\d+s$/);
});

test("requests per minute: exactly the limit admitted, then 429 until the window ends (G1, G8)", async () => {
  await setLimits(3, 100000);
  const n = (await records(s)).length;
  const statuses = [];
  let last;
  for (let i = 0; i < 5; ++i) {
    last = await infer(s, "/v1/completions", small, s.key);
    statuses.push(last.status);
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  assert.equal(last.json.error.code, "rate_limit_exceeded");
  assert.equal(last.json.error.type, "requests");
  assert.ok(Number(last.headers.get("retry-after")) >= 1);
  const ms = Number(last.headers.get("retry-after-ms"));
  assert.ok(ms > 0 && ms <= WINDOW_MS, `retry-after-ms ${ms}`);
  assert.equal(last.headers.get("x-ratelimit-remaining-requests"), "0");
  // Rejections are metered (zero tokens), not counted against the limit.
  const recs = await waitFor(async () => { const x = await records(s); return x.length >= n + 5 ? x : null; }, 3000);
  const mine = recs.slice(n);
  assert.deepEqual(mine.map((r) => r.status), [200, 200, 200, 429, 429]);
  assert.ok(mine.slice(3).every((r) => r.outcome === "rejected" && r.prompt_tokens === 0 && r.completion_tokens === 0));
  await advance(ms + 1);
  assert.equal((await infer(s, "/v1/completions", small, s.key)).status, 200, "admitted again after the window");
});

test("concurrent requests at the boundary: admitted count equals the limit (G6)", async () => {
  await setLimits(20, 100000);
  const rs = await Promise.all(Array.from({ length: 60 }, () => infer(s, "/v1/completions", { ...small, max_tokens: 1 }, s.key)));
  assert.equal(rs.filter((r) => r.status === 200).length, 20);
  assert.equal(rs.filter((r) => r.status === 429).length, 40);
});

test("tokens per minute: estimate admitted, real count reconciled, too large refused (G2, G3, G5, G11)", async () => {
  await setLimits(1000, 100);
  // Estimate: 3 prompt ids + max_tokens 10 = 13; actual: 3 + 10 = 13.
  const a = await infer(s, "/v1/completions", { ...small, max_tokens: 10 }, s.key);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get("x-ratelimit-remaining-tokens"), "87");
  // n = 2, best_of = 4: estimate 3 + 10 * 4 = 43 (the larger of n and best_of).
  const b = await infer(s, "/v1/completions", { ...small, max_tokens: 10, n: 2, best_of: 4 }, s.key);
  assert.equal(b.status, 200, b.text);
  assert.equal(b.headers.get("x-ratelimit-remaining-tokens"), String(87 - 43));
  // The real count of b: prompt tokens once per prompt plus every generated sequence (best_of 4).
  const real = b.json.usage.prompt_tokens + b.json.usage.completion_tokens;
  const shown = (await api(s, "GET", "/api/workspaces/default/serverless-endpoints/default")).json.rate_limit_state;
  assert.equal(shown["remaining-tokens"], 87 - real, "reconciled with the real count");
  // Over the remaining budget: 429 type tokens with the numbers.
  const c = await infer(s, "/v1/completions", { ...small, max_tokens: 90 }, s.key);
  assert.equal(c.status, 429);
  assert.equal(c.json.error.type, "tokens");
  assert.match(c.json.error.message, new RegExp(`Limit 100, Used ${100 - (87 - real)}, Requested 93`));
  // More than the whole limit: "Request too large", without Retry-After (waiting cannot help).
  const d = await infer(s, "/v1/completions", { ...small, max_tokens: 500 }, s.key);
  assert.equal(d.status, 429);
  assert.match(d.json.error.message, /^Request too large/);
  assert.equal(d.headers.get("retry-after"), null);
  // A refund: max_tokens 40 that stops early (a stop string met within a few tokens) frees
  // the unused part of the estimate at once.
  await advance(WINDOW_MS);
  const e = await infer(s, "/v1/completions", { prompt: [1, 2, 3], max_tokens: 40, temperature: 0, ignore_eos: true,
                                                stop: [" ", "e", "a", "o"] }, s.key);
  assert.equal(e.status, 200, e.text);
  assert.ok(e.json.usage.completion_tokens < 40, `stopped early: ${e.json.usage.completion_tokens} tokens`);
  assert.equal(e.headers.get("x-ratelimit-remaining-tokens"), String(100 - 43));
  const used = e.json.usage.prompt_tokens + e.json.usage.completion_tokens;
  const after = (await api(s, "GET", "/api/workspaces/default/serverless-endpoints/default")).json.rate_limit_state;
  assert.equal(after["remaining-tokens"], 100 - used);
  await setLimits(1000, 200000);
});

test("deployments are isolated; both keys of one endpoint share its bucket (G7)", async () => {
  const copy = path.join(s.dataDir, "models", "iso.gguf");
  fs.copyFileSync(MODEL, copy);
  assert.equal(cli(s.dataDir, ["model", "register", "iso-model", "--path", copy, "--custom"]).code, 0);
  assert.equal(cli(s.dataDir, ["marketplace-subscription", "create", "--model", "iso-model"]).code, 0);
  assert.equal(cli(s.dataDir, ["serverless-endpoint", "create", "iso", "--model", "iso-model"]).code, 0);
  const keys = cli(s.dataDir, ["serverless-endpoint", "get-credentials", "iso", "--output", "json"]).json;
  await waitFor(async () => (await infer(s, "/v1/completions", small, keys.primaryKey, {}, "iso")).status === 200, 60000, 200);
  await setLimits(2, 100000, "iso");
  assert.equal((await infer(s, "/v1/completions", small, keys.primaryKey, {}, "iso")).status, 200);
  assert.equal((await infer(s, "/v1/completions", small, keys.secondaryKey, {}, "iso")).status, 200);
  assert.equal((await infer(s, "/v1/completions", small, keys.secondaryKey, {}, "iso")).status, 429, "one bucket for both keys");
  assert.equal((await infer(s, "/v1/completions", small, s.key)).status, 200, "the other endpoint is unaffected");
});
