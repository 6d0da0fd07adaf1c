// gateway.test.mjs — the inference gateway in front of an endpoint (SPEC §2, TESTPLAN B, E, F):
// keys on every route (B1, B2, B6, B7, B8, B10), x-request-id end to end, worker errors passed
// through, the stream relay giving each client exactly the usage it asked for, stream equal to
// non-stream (E9), host routing, and a client that goes away cancelling the work and being
// billed for what was generated (F1, F8).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startServe, api, infer, records, waitFor, chat, sleep } from "./harness.mjs";

let s;
before(async () => { s = await startServe({ args: ["--domain", "maas.test"] }); });
after(async () => { if (s) assert.equal(await s.stop(), 0); });

async function raw(method, p, headers = {}, body) {
  const r = await fetch(s.url + p, { method, headers, body });
  return { status: r.status, headers: r.headers, json: await r.json().catch(() => null) };
}

function sseEvents(text) {
  return text.split("\n\n").filter((e) => e).map((e) => e.replace(/^data: /, ""));
}

test("every gateway route needs a key (B1, B6); wrong schemes and keys are 401 (B2, B10)", async () => {
  const routes = [["POST", "/v1/chat/completions"], ["POST", "/v1/completions"], ["POST", "/chat/completions"],
                  ["POST", "/completions"], ["GET", "/info"], ["GET", "/v1/models"], ["POST", "/tokenize"],
                  ["POST", "/detokenize"], ["GET", "/openapi.json"], ["GET", "/swagger.json"], ["GET", "/no/such/route"]];
  for (const [m, p] of routes) {
    for (const headers of [{}, { authorization: "Basic " + Buffer.from("u:" + s.key).toString("base64") },
                           { authorization: "Bearer " + s.key.slice(0, -1) + (s.key.endsWith("0") ? "1" : "0") }, { "api-key": "x" }]) {
      const r = await raw(m, "/endpoints/default" + p, { "content-type": "application/json", ...headers }, m === "POST" ? "{}" : undefined);
      assert.equal(r.status, 401, `${m} ${p} ${JSON.stringify(headers)}`);
      assert.equal(r.json.error.type, "authentication_error");
    }
  }
  const q = await raw("GET", `/endpoints/default/v1/models?api-key=${s.key}`);
  assert.equal(q.status, 401, "keys are never read from the query string");
  const lower = await raw("GET", "/endpoints/default/v1/models", { authorization: "bearer " + s.key });
  assert.equal(lower.status, 200, "lower-case bearer is accepted");
  const apiKey = await raw("GET", "/endpoints/default/info", { "api-key": s.key });
  assert.equal(apiKey.status, 200);
  assert.equal(apiKey.json.model_name, "maas-tiny-llama3");
  // Path tricks reach the same decision as the canonical path (B7).
  for (const p of ["//endpoints/default/v1/models", "/endpoints/default/v1/models/", "/endpoints/default/./v1/models",
                   "/endpoints%2Fdefault%2Fv1%2Fmodels"]) {
    assert.equal((await raw("GET", p)).status, 401, p);
    assert.equal((await raw("GET", p, { authorization: "Bearer " + s.key })).status, 200, p);
  }
  assert.equal((await raw("GET", "/Endpoints/default/v1/models", { authorization: "Bearer " + s.key })).status, 404);
});

test("CORS preflight: answered without a key, no handler, no usage record (B8)", async () => {
  const n = (await records(s)).length;
  const r = await fetch(s.endpointUrl() + "/v1/chat/completions", {
    method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  await sleep(100);
  assert.equal((await records(s)).length, n);
});

test("x-request-id is kept end to end and names the usage record", async () => {
  const id = "client-req-" + Date.now();
  const r = await infer(s, "/v1/chat/completions", chat(), s.key, { "x-request-id": id });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("x-request-id"), id);
  const rec = await waitFor(async () => (await records(s)).find((x) => x.request_id === id), 3000);
  assert.ok(rec);
  assert.equal(rec.outcome, "length");
});

test("worker errors pass through with status, body and param; bad bodies are refused and metered", async () => {
  const n = (await records(s)).length;
  const t = await infer(s, "/v1/chat/completions", chat("x", { temperature: 5 }), s.key);
  assert.equal(t.status, 400);
  assert.equal(t.json.error.param, "temperature");
  assert.ok(t.headers.get("x-ratelimit-remaining-requests"), "admitted requests carry the rate-limit headers");
  const j = await infer(s, "/v1/chat/completions", '{"messages":', s.key);
  assert.equal(j.status, 400);
  assert.equal(j.json.error.code, "invalid_json");
  const dup = await infer(s, "/v1/completions", '{"prompt":"a","max_tokens":1,"max_tokens":100000}', s.key);
  assert.equal(dup.status, 400, "duplicate keys are refused before the body is rewritten (A10)");
  const ct = await fetch(s.endpointUrl() + "/v1/completions", {
    method: "POST", headers: { authorization: "Bearer " + s.key, "content-type": "text/plain" }, body: "{}",
  });
  assert.equal(ct.status, 415);
  const wrong = await infer(s, "/v1/completions", { prompt: "x", model: "someone-elses-model", max_tokens: 1 }, s.key);
  assert.equal(wrong.status, 404);
  assert.equal(wrong.json.error.code, "model_not_found");
  const byName = await infer(s, "/v1/completions", { prompt: "x", model: "default", max_tokens: 1 }, s.key);
  assert.equal(byName.status, 200, "the endpoint's name is accepted as the model");
  const recs = await waitFor(async () => { const x = await records(s); return x.length >= n + 6 ? x : null; }, 3000);
  const mine = recs.slice(n);
  assert.deepEqual(mine.map((r) => r.status).sort(), [200, 400, 400, 400, 404, 415]);
  assert.ok(mine.filter((r) => r.status !== 200).every((r) => r.completion_tokens === 0));
});

test("streams: usage only as asked; stream equals non-stream (E4, E9)", async () => {
  const body = { prompt: "The capital of", max_tokens: 8, temperature: 0, ignore_eos: true };
  const plain = await infer(s, "/v1/completions", body, s.key);
  const none = await infer(s, "/v1/completions", { ...body, stream: true }, s.key);
  const ev = sseEvents(none.text);
  assert.equal(ev.at(-1), "[DONE]");
  const chunks = ev.slice(0, -1).map((e) => JSON.parse(e));
  assert.ok(chunks.every((c) => !("usage" in c)), "no usage when not asked");
  assert.equal(chunks.map((c) => c.choices[0].text).join(""), plain.json.choices[0].text);
  const inc = sseEvents((await infer(s, "/v1/completions", { ...body, stream: true, stream_options: { include_usage: true } }, s.key)).text);
  const incChunks = inc.slice(0, -1).map((e) => JSON.parse(e));
  assert.deepEqual(incChunks.at(-1).choices, []);
  assert.deepEqual(incChunks.at(-1).usage, plain.json.usage);
  assert.ok(incChunks.slice(0, -1).every((c) => c.usage === null));
  const cont = sseEvents((await infer(s, "/v1/completions",
    { ...body, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true } }, s.key)).text);
  assert.ok(cont.slice(0, -1).every((e) => JSON.parse(e).usage !== null), "continuous usage on every chunk");
});

test("host routing: <endpoint>.<region>.<domain>", async () => {
  const { port } = new URL(s.url);
  const text = await new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), "127.0.0.1", () => {
      sock.write(`GET /v1/models HTTP/1.1\r\nhost: default.local.maas.test:${port}\r\nauthorization: Bearer ${s.key}\r\nconnection: close\r\n\r\n`);
    });
    let buf = "";
    sock.on("data", (d) => { buf += d; });
    sock.on("end", () => resolve(buf));
    sock.on("error", reject);
  });
  assert.match(text, /^HTTP\/1.1 200/);
  assert.match(text, /maas-tiny-llama3/);
  const shown = await api(s, "GET", "/api/workspaces/default/serverless-endpoints/default");
  assert.equal(shown.json.host, "default.local.maas.test");
});

test("a client that goes away cancels the work and is billed for what was generated (F1, F8)", async () => {
  const id = "cut-short-" + Date.now();
  const ctrl = new AbortController();
  const r = await fetch(s.endpointUrl() + "/v1/completions", {
    method: "POST", signal: ctrl.signal,
    headers: { "content-type": "application/json", authorization: "Bearer " + s.key, "x-request-id": id },
    body: JSON.stringify({ prompt: "Tell me a story", max_tokens: 2000, ignore_eos: true, stream: true }),
  });
  const reader = r.body.getReader();
  let got = "";
  while ((got.match(/data: /g) ?? []).length < 4) got += new TextDecoder().decode((await reader.read()).value);
  ctrl.abort();
  const rec = await waitFor(async () => (await records(s)).find((x) => x.request_id === id && x.outcome !== "in_progress"), 5000);
  assert.ok(rec, "a record for the cancelled stream");
  assert.equal(rec.outcome, "cancelled");
  assert.equal(rec.status, 499);
  assert.ok(rec.completion_tokens >= 3 && rec.completion_tokens < 2000, `billed ${rec.completion_tokens} tokens`);
  // The worker stopped generating: the instance has nothing outstanding and answers at once.
  assert.ok(await waitFor(async () => (await api(s, "GET", "/api/instances")).json.data.every((i) => i.outstanding_requests === 0), 3000));
  const t0 = Date.now();
  assert.equal((await infer(s, "/v1/completions", { prompt: "hi", max_tokens: 2 }, s.key)).status, 200);
  assert.ok(Date.now() - t0 < 3000);
});

test("the platform's own routes: health open, metrics need the token, unknown paths 404", async () => {
  assert.equal((await raw("GET", "/health")).status, 200);
  assert.equal((await raw("GET", "/health/ready")).status, 200);
  assert.equal((await raw("GET", "/metrics")).status, 401);
  const m = await fetch(s.url + "/metrics", { headers: { authorization: "Bearer " + s.token } });
  assert.equal(m.status, 200);
  const text = await m.text();
  assert.match(text, /maas:gateway_requests_total\{code="2xx"\} \d+/);
  assert.match(text, /maas:usage_commit_seconds_count \d+/);
  assert.equal((await raw("GET", "/nothing-here")).status, 404);
});
