// api.test.mjs — the inference API of a running `maas worker`, driven by the real `openai` and
// `@azure-rest/ai-inference` clients and by plain fetch for the raw protocol (SPEC §2; TESTPLAN
// A, C, D, E, F). The worker runs the embedded default model (random weights, real tokenizer).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import ModelClient from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";
import { startWorker, post, get, sse, metric, metrics, KEYS } from "./harness.mjs";

let w;
let openai;
before(async () => {
  w = await startWorker();
  openai = new OpenAI({ apiKey: KEYS[0], baseURL: w.url + "/v1", maxRetries: 0 });
});
after(async () => {
  const code = await w.stop();
  assert.equal(code, 0, "SIGTERM drains and exits 0");
});

test("completions: text, usage, finish_reason", async () => {
  const r = await openai.completions.create({ model: "default", prompt: "Hello, my name is", max_tokens: 12, temperature: 0 });
  assert.equal(r.object, "text_completion");
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.choices.length, 1);
  assert.equal(typeof r.choices[0].text, "string");
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test("chat: assistant message", async () => {
  const r = await openai.chat.completions.create({
    model: "default", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi!" }],
    max_tokens: 8, temperature: 0,
  });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(typeof r.choices[0].message.content, "string");
});

test("stream == non-stream (completions and chat), usage chunk equals usage", async () => {
  const req = { model: "default", prompt: "The quick brown fox", max_tokens: 24, temperature: 0, ignore_eos: true };
  const whole = await openai.completions.create(req);
  let text = "";
  let usage = null;
  let finishes = 0;
  const stream = await openai.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finishes += 1;
    }
  }
  assert.equal(text, whole.choices[0].text);
  assert.equal(finishes, 1);
  assert.deepEqual(usage, whole.usage);

  const chatReq = { model: "default", messages: [{ role: "user", content: "Count to ten" }], max_tokens: 20, temperature: 0 };
  const chatWhole = await openai.chat.completions.create(chatReq);
  let chatText = "";
  let sawRole = false;
  for await (const chunk of await openai.chat.completions.create({ ...chatReq, stream: true })) {
    for (const c of chunk.choices) {
      if (c.delta.role) sawRole = true;
      chatText += c.delta.content ?? "";
    }
  }
  assert.ok(sawRole, "first chunk carries the role");
  assert.equal(chatText, chatWhole.choices[0].message.content);
});

test("seed: same seed same text, streaming or not", async () => {
  const req = { model: "default", prompt: "Once upon a time", max_tokens: 16, temperature: 1, seed: 1234 };
  const a = await openai.completions.create(req);
  const b = await openai.completions.create(req);
  assert.equal(a.choices[0].text, b.choices[0].text);
  let s = "";
  for await (const chunk of await openai.completions.create({ ...req, stream: true })) s += chunk.choices[0]?.text ?? "";
  assert.equal(s, a.choices[0].text);
});

test("n=3 streaming: every chunk has an index; one finish_reason per choice", async () => {
  const r = await sse(w.url, "/v1/completions", { prompt: "A", max_tokens: 6, n: 3, seed: 5, stream: true });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /text\/event-stream/);
  assert.equal(r.events.at(-1), "[DONE]");
  const finishes = [0, 0, 0];
  for (const e of r.events.slice(0, -1)) {
    const chunk = JSON.parse(e);
    for (const c of chunk.choices) {
      assert.ok(c.index >= 0 && c.index < 3);
      if (c.finish_reason) finishes[c.index] += 1;
    }
  }
  assert.deepEqual(finishes, [1, 1, 1]);
});

test("logprobs: completions format and chat format", async () => {
  const r = await openai.completions.create({ model: "default", prompt: "Hi", max_tokens: 4, temperature: 0, logprobs: 3 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.length, r.usage.completion_tokens);
  assert.equal(lp.token_logprobs.length, lp.tokens.length);
  assert.equal(lp.text_offset.length, lp.tokens.length);
  for (const top of lp.top_logprobs) assert.ok(Object.keys(top).length >= 1 && Object.keys(top).length <= 4);
  for (const x of lp.token_logprobs) assert.ok(x <= 0);

  const c = await openai.chat.completions.create({
    model: "default", messages: [{ role: "user", content: "Hi" }], max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 2,
  });
  const content = c.choices[0].logprobs.content;
  assert.equal(content.length, c.usage.completion_tokens);
  for (const t of content) {
    assert.equal(typeof t.token, "string");
    assert.ok(t.logprob <= 0);
    assert.ok(Array.isArray(t.bytes));
    assert.equal(t.top_logprobs.length, 2);
  }
});

test("stop strings never appear, streaming or not", async () => {
  const base = { model: "default", prompt: "Tell me a story", max_tokens: 40, temperature: 0, ignore_eos: true };
  const full = (await openai.completions.create(base)).choices[0].text;
  const mid = Math.floor(full.length / 2);
  const stop = full.slice(mid, mid + 3);
  if (stop.trim().length === 0) return;  // nothing sensible to stop on
  const cut = full.slice(0, full.indexOf(stop));
  const r = await openai.completions.create({ ...base, stop: [stop] });
  assert.equal(r.choices[0].text, cut);
  assert.equal(r.choices[0].finish_reason, "stop");
  let s = "";
  for await (const chunk of await openai.completions.create({ ...base, stop: [stop], stream: true })) s += chunk.choices[0]?.text ?? "";
  assert.equal(s, cut);
  assert.ok(!s.includes(stop));
});

test("auth: missing, wrong, api-key header, second key, lower-case bearer", async () => {
  const body = { prompt: "x", max_tokens: 1 };
  assert.equal((await post(w.url, "/v1/completions", body, { authorization: "" })).status, 401);
  const wrong = await post(w.url, "/v1/completions", body, { authorization: "Bearer nope" });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json.error.type, "authentication_error");
  assert.equal((await post(w.url, "/v1/completions", body, { authorization: `Basic ${KEYS[0]}` })).status, 401);
  assert.equal((await post(w.url, "/v1/completions", body, { authorization: "", "api-key": KEYS[1] })).status, 200);
  assert.equal((await post(w.url, "/v1/completions", body, { authorization: `bearer ${KEYS[1]}` })).status, 200);
  assert.equal((await get(w.url, "/health", {})).status, 200, "health needs no key");
  assert.equal((await get(w.url, "/v1/models", {})).status, 401, "models needs a key");
  assert.equal((await get(w.url, "/metrics", {})).status, 401, "metrics needs a key");
});

test("validation errors: OpenAI shape, param named, x-request-id", async () => {
  const cases = [
    [{ prompt: "x", temperature: -1 }, "temperature"],
    [{ prompt: "x", temperature: 2.5 }, "temperature"],
    [{ prompt: "x", top_p: 0 }, "top_p"],
    [{ prompt: "x", max_tokens: -1 }, "max_tokens"],
    [{ prompt: "x", max_tokens: "10" }, "max_tokens"],
    [{ prompt: "x", n: 0 }, "n"],
    [{ prompt: "x", n: 129 }, "n"],
    [{ prompt: "x", best_of: 2, n: 3 }, "best_of"],
    [{ prompt: "x", stream: "true" }, "stream"],
    [{ prompt: "x", stop: ["a", "b", "c", "d", "e"] }, "stop"],
    [{ prompt: "" }, "prompt"],
    [{ prompt: [] }, "prompt"],
    [{ prompt: [128256] }, "prompt"],
    [{ prompt: [-1] }, "prompt"],
  ];
  for (const [body, param] of cases) {
    const r = await post(w.url, "/v1/completions", body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error.type, "invalid_request_error", JSON.stringify(body));
    assert.equal(r.json.error.param, param, JSON.stringify(body));
    assert.ok(r.headers.get("x-request-id"));
  }
  const bad = await post(w.url, "/v1/completions", '{"model":');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, "invalid_json");
  for (const body of ["[]", "null", "42", '"s"', "true"]) assert.equal((await post(w.url, "/v1/completions", body)).status, 400);
  const chat = await post(w.url, "/v1/chat/completions", { messages: [{ role: "root", content: "x" }] });
  assert.equal(chat.status, 400);
  assert.equal(chat.json.error.param, "messages[0].role");
  const long = await post(w.url, "/v1/completions", { prompt: "hello", max_tokens: 100000000 });
  assert.equal(long.status, 400);
  assert.equal(long.json.error.code, "context_length_exceeded");
  const streamErr = await post(w.url, "/v1/completions", { prompt: "x", temperature: 9, stream: true });
  assert.equal(streamErr.status, 400, "validation errors come before any SSE byte");
});

test("routes: 404, 405, /info, /v1/models, tokenize round trip", async () => {
  const nf = await get(w.url, "/v1/nothing");
  assert.equal(nf.status, 404);
  assert.ok(nf.json.error);
  assert.equal((await get(w.url, "/v1/chat/completions")).status, 405);
  const info = await get(w.url, "/info");
  assert.equal(info.json.model_provider_name, "Meta");
  assert.ok(["chat-completions", "text-generation"].includes(info.json.model_type));
  const models = await get(w.url, "/v1/models");
  assert.equal(models.json.object, "list");
  assert.ok(models.json.data[0].max_model_len > 0);
  const tok = await post(w.url, "/tokenize", { prompt: "Hello world", add_special_tokens: true });
  assert.deepEqual(tok.json.tokens, [128000, 9906, 1917]);
  assert.equal(tok.json.count, 3);
  const detok = await post(w.url, "/detokenize", { tokens: [9906, 1917] });
  assert.equal(detok.json.prompt, "Hello world");
  const m = await get(w.url, "/metrics");
  assert.match(m.text, /vllm:num_requests_running/);
  assert.match(m.text, /vllm:kv_cache_usage_perc/);
});

test("issue 14: priority is accepted; /metrics has the step histograms and inter-token latency", async () => {
  const body = { prompt: "Count with me", max_tokens: 6, ignore_eos: true, stream: true, temperature: 0 };
  const [hi, lo] = await Promise.all([post(w.url, "/v1/completions", { ...body, priority: -1 }),
                                      post(w.url, "/v1/completions", { ...body, priority: 5 })]);
  assert.equal(hi.status, 200);
  assert.equal(lo.status, 200);
  assert.equal((await post(w.url, "/v1/completions", { ...body, priority: 1.5 })).status, 400);
  const m = await metrics(w.url);
  assert.ok(m["maas:step_duration_seconds_count"] > 0, "step time histogram");
  assert.ok(m["vllm:iteration_tokens_total_count"] > 0, "tokens per step");
  assert.ok(m["maas:step_prefill_tokens_sum"] > 0, "prompt tokens per step");
  assert.ok(m["maas:step_decode_tokens_sum"] > 0, "decode tokens per step");
  assert.ok(m["vllm:inter_token_latency_seconds_count"] > 0, "inter-token latency");
  assert.equal(m["maas:step_time_target_seconds"], 0.2);
});

test("Azure routes: client, extra-parameters, 422 with x-ms-error-code", async () => {
  const client = ModelClient(w.url, new AzureKeyCredential(KEYS[0]), { allowInsecureConnection: true });
  const r = await client.path("/chat/completions").post({
    body: { messages: [{ role: "user", content: "Hello" }], max_tokens: 5, temperature: 0 },
  });
  assert.equal(r.status, "200");
  assert.equal(r.body.choices[0].message.role, "assistant");
  const unknown = await post(w.url, "/chat/completions?api-version=2024-05-01-preview",
    { messages: [{ role: "user", content: "x" }], max_tokens: 1, frobnicate: 1 }, { "api-key": KEYS[0] });
  assert.equal(unknown.status, 422);
  assert.ok(unknown.headers.get("x-ms-error-code"));
  const dropped = await post(w.url, "/chat/completions", { messages: [{ role: "user", content: "x" }], max_tokens: 1, frobnicate: 1 },
    { "api-key": KEYS[0], "extra-parameters": "drop" });
  assert.equal(dropped.status, 200);
});

test("client disconnect mid-stream frees the request", async () => {
  const ctrl = new AbortController();
  const r = await fetch(w.url + "/v1/completions", {
    method: "POST", signal: ctrl.signal,
    headers: { "content-type": "application/json", authorization: `Bearer ${KEYS[0]}` },
    body: JSON.stringify({ prompt: "Go on forever", max_tokens: 4000, ignore_eos: true, stream: true }),
  });
  const reader = r.body.getReader();
  await reader.read();
  ctrl.abort();
  let running = NaN;
  for (let i = 0; i < 50; ++i) {
    running = await metric(w.url, "vllm:num_requests_running");
    if (running === 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.equal(running, 0);
  const after = await openai.completions.create({ model: "default", prompt: "ok", max_tokens: 2 });
  assert.equal(after.choices.length, 1);
});
