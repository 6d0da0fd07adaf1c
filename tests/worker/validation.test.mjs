// validation.test.mjs — the TESTPLAN C (sampling parameters) and D (prompt / context) inputs not
// already in api.test.mjs, as one table of exact expectations, plus the few that need more than a
// status: C3 -0.0 is greedy, C8 fast rejection, D5 no KV leak, D9 special-token text is literal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, post, metrics, waitIdle, assertAlive } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { assert.equal(await w.stop(), 0); });

const C = "/v1/completions";
const CHAT = "/v1/chat/completions";
const msg = (content = "x") => [{ role: "user", content }];

// [route, body (object or raw JSON text), expected status, expected param (400 only), expected code]
const table = [
  // C3
  [C, { prompt: "x", temperature: 1e308 }, 400, "temperature"],
  [C, { prompt: "x", temperature: "0.7" }, 400, "temperature"],
  [C, '{"prompt":"x","temperature":-1e-300}', 400, "temperature"],
  // C2 via raw literals
  [C, '{"prompt":"x","temperature":NaN}', 400, null, "invalid_json"],
  [C, '{"prompt":"x","temperature":Infinity}', 400, null, "invalid_json"],
  [C, '{"prompt":"x","temperature":1e400}', 400, null, "invalid_json"],
  // C4
  [C, { prompt: "x", top_p: 1.0000001 }, 400, "top_p"],
  [C, { prompt: "x", top_p: -0.5 }, 400, "top_p"],
  // C5
  [C, { prompt: "x", presence_penalty: 2.01 }, 400, "presence_penalty"],
  [C, { prompt: "x", presence_penalty: -2.5 }, 400, "presence_penalty"],
  [C, { prompt: "x", frequency_penalty: 3 }, 400, "frequency_penalty"],
  [C, { prompt: "x", frequency_penalty: -2.0001 }, 400, "frequency_penalty"],
  [CHAT, { messages: msg(), presence_penalty: 100 }, 400, "presence_penalty"],
  [C, { prompt: "x", presence_penalty: 2, frequency_penalty: -2, max_tokens: 1 }, 200],
  // C6
  [CHAT, { messages: msg(), max_tokens: 0 }, 400, "max_tokens"],
  [C, { prompt: "x", max_tokens: 0 }, 400, "max_tokens"],
  [C, { prompt: "x", max_tokens: 10.5 }, 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":10.0}', 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":1e3}', 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":9223372036854775808}', 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":9223372036854775807}', 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":18446744073709551616}', 400, "max_tokens"],
  [C, '{"prompt":"x","max_tokens":-9223372036854775808}', 400, "max_tokens"],
  [C, { prompt: "x", max_tokens: 2147483648 }, 400, "max_tokens"],
  [C, { prompt: "x", max_tokens: null }, 200],   // null = not sent (OpenAI clients send null)
  [CHAT, { messages: msg(), max_tokens: 2, max_completion_tokens: 2 }, 400],
  [CHAT, { messages: msg(), max_completion_tokens: 0 }, 400, "max_completion_tokens"],
  // C9
  [C, { prompt: "x", best_of: 500 }, 400, "best_of"],
  [C, { prompt: "x", best_of: 21 }, 400, "best_of"],
  [C, { prompt: "x", best_of: 2, stream: true }, 400, "best_of"],
  [C, { prompt: "x", best_of: 0 }, 400, "best_of"],
  [C, { prompt: "x", best_of: 2, n: 1, max_tokens: 1 }, 200],
  // C10
  [CHAT, { messages: msg(), logprobs: true, top_logprobs: 21 }, 400, "top_logprobs"],
  [CHAT, { messages: msg(), top_logprobs: 2 }, 400, "top_logprobs"],
  [CHAT, { messages: msg(), logprobs: false, top_logprobs: 2 }, 400, "top_logprobs"],
  [CHAT, { messages: msg(), logprobs: true, top_logprobs: -1 }, 400, "top_logprobs"],
  [C, { prompt: "x", logprobs: 21 }, 400, "logprobs"],
  [C, { prompt: "x", logprobs: -1 }, 400, "logprobs"],
  [C, { prompt: "x", logprobs: 6, max_tokens: 1 }, 200],   // docs/api.md: SPEC's cap 20, not OpenAI's 5
  [C, { prompt: "x", echo: true, logprobs: 1, max_tokens: 0 }, 400, "max_tokens"],  // C11 by design
  // C12
  [C, { prompt: "x", logit_bias: { "128256": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "-1": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { abc: 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "+5": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "05": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "99999999999999999999": 1 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "5": 101 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "5": -100.5 } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "5": "1" } }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: [1] }, 400, "logit_bias"],
  [C, { prompt: "x", logit_bias: { "5": 100, "0": -100 }, max_tokens: 1 }, 200],
  // C13
  [C, { prompt: "x", stop: [""] }, 400, "stop[0]"],
  [C, { prompt: "x", stop: "" }, 400, "stop"],
  [C, { prompt: "x", stop: ["a", 1] }, 400, "stop[1]"],
  [C, { prompt: "x", stop: 5 }, 400, "stop"],
  [C, { prompt: "x", stop: [["a"]] }, 400, "stop[0]"],
  [C, { prompt: "x", stop: "s".repeat(100 * 1024) }, 400, "stop"],
  [C, { prompt: "x", stop: ["a", "s".repeat(513)] }, 400, "stop[1]"],
  [C, { prompt: "x", stop: ["a", "s".repeat(512), "b", "c"], max_tokens: 1 }, 200],
  // C14
  [C, { prompt: "x", stop_token_ids: [128256] }, 400, "stop_token_ids[0]"],
  [C, { prompt: "x", stop_token_ids: [1, 1000000000] }, 400, "stop_token_ids[1]"],
  [C, { prompt: "x", stop_token_ids: [-1] }, 400, "stop_token_ids[0]"],
  [C, { prompt: "x", stop_token_ids: "1" }, 400, "stop_token_ids"],
  [C, { prompt: "x", stop_token_ids: [128009], max_tokens: 1 }, 200],
  [C, { prompt: "x", allowed_token_ids: [1] }, 400, "allowed_token_ids"],
  [C, { prompt: "x", allowed_token_ids: [999999999] }, 400, "allowed_token_ids"],
  // C15
  [C, '{"prompt":"x","seed":9223372036854775808}', 400, "seed"],
  [C, '{"prompt":"x","seed":-9223372036854775809}', 400, "seed"],
  [C, { prompt: "x", seed: -1.5 }, 400, "seed"],
  [C, { prompt: "x", seed: 1.5 }, 400, "seed"],
  [C, { prompt: "x", seed: "1" }, 400, "seed"],
  [C, '{"prompt":"x","seed":9223372036854775807,"max_tokens":1}', 200],
  [C, '{"prompt":"x","seed":-9223372036854775808,"max_tokens":1}', 200],
  [C, { prompt: "x", seed: -1, max_tokens: 1 }, 200],
  // C16 / stream_options
  [C, { prompt: "x", stream: 1 }, 400, "stream"],
  [C, { prompt: "x", stream_options: { include_usage: true } }, 400, "stream_options"],
  // C17: server-internal knobs are ignored on /v1/*
  [C, { prompt: "x", max_tokens: 1, n_discard: -1, n_keep: -5, n_ctx: 1, n_probs: 1e9, slot_id: -1, cache_prompt: "x" }, 200],
  [C, { prompt: "x", max_tokens: 1, n_discard: 2147483647, n_predict: -1, id_slot: 99 }, 200],
  [CHAT, { messages: msg(), max_tokens: 1, n_discard: -1, n_keep: -5, n_ctx: 2147483647 }, 200],
  // D1 / D2 / D10
  [C, { prompt: [""] }, 400],
  [C, { prompt: [[]] }, 400],
  [C, { prompt: ["a", [1]] }, 400],
  [C, { prompt: [1, "a"] }, 400],
  [C, { prompt: [1.5] }, 400, "prompt"],
  [C, { prompt: null }, 400, "prompt"],
  [C, { max_tokens: 1 }, 400, "prompt"],
  [C, { prompt: Array.from({ length: 65 }, () => "a") }, 400, "prompt"],
  [C, { prompt: [5279552648203111001] }, 400, "prompt"],
  [CHAT, { messages: [] }, 400, "messages"],
  [CHAT, { messages: {} }, 400, "messages"],
  // D7
  [CHAT, { messages: [{ role: "user" }] }, 400, "messages[0].content"],
  [CHAT, { messages: [{ role: "user", content: 5 }] }, 400, "messages[0].content"],
  [CHAT, { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://169.254.169.254/" } }] }] }, 400, "messages[0].content[0].type"],
  [CHAT, { messages: [{ role: "user", content: [{ type: "text" }] }] }, 400],
  [CHAT, { messages: [{ role: "system", content: "s" }, { role: "root", content: "x" }] }, 400, "messages[1].role"],
  [CHAT, { messages: [{ role: "system", content: "s" }, { role: "tool", content: "x" }] }, 400, "messages[1].tool_call_id"],
  [CHAT, { messages: [{ content: "x" }] }, 400, "messages[0].role"],
  [CHAT, { messages: ["x"] }, 400, "messages[0]"],
  [CHAT, { messages: [{ role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }], max_tokens: 1 }, 200],
  // D8
  [C, '{"prompt":"\\ud800","max_tokens":1}', 400, null, "invalid_json"],
  [C, '{"prompt":"a\\udc00b","max_tokens":1}', 400, null, "invalid_json"],
  [CHAT, '{"messages":[{"role":"user","content":"\\ud83d"}],"max_tokens":1}', 400, null, "invalid_json"],
  [C, '{"prompt":"a\\u0000b","max_tokens":1}', 200],
  [CHAT, '{"messages":[{"role":"user","content":"\\u0000"}],"max_tokens":1}', 200],
  [C, '{"prompt":"\\ud83d\\ude00","max_tokens":1}', 200],
];

test("C/D table: exact status, type and param for each input", async () => {
  const bad = [];
  for (const [path, body, status, param, code] of table) {
    const r = await post(w.url, path, body);
    const label = `${path} ${typeof body === "string" ? body : JSON.stringify(body).slice(0, 200)}`;
    if (r.status !== status) { bad.push(`${label}: status ${r.status} != ${status}: ${r.text.slice(0, 300)}`); continue; }
    new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(r.text));
    if (status === 400) {
      if (r.json?.error?.type !== "invalid_request_error") bad.push(`${label}: type ${r.json?.error?.type}`);
      if (param !== undefined && r.json.error.param !== param) bad.push(`${label}: param ${r.json.error.param} != ${param}`);
      if (code !== undefined && r.json.error.code !== code) bad.push(`${label}: code ${r.json.error.code} != ${code}`);
    } else if (status === 200) {
      if (!(r.json?.choices?.length >= 1)) bad.push(`${label}: no choices`);
    }
  }
  assert.deepEqual(bad, []);
  await assertAlive(w, "after the C/D table");
});

test("C3: temperature -0.0 is greedy (same text as temperature 0)", async () => {
  const greedy = await post(w.url, C, '{"prompt":"The sky is","max_tokens":12,"ignore_eos":true,"temperature":0}');
  for (const seed of [1, 2]) {
    const neg = await post(w.url, C, `{"prompt":"The sky is","max_tokens":12,"ignore_eos":true,"temperature":-0.0,"seed":${seed}}`);
    assert.equal(neg.status, 200);
    assert.equal(neg.json.choices[0].text, greedy.json.choices[0].text);
  }
  const sampled = await post(w.url, C, '{"prompt":"The sky is","max_tokens":12,"ignore_eos":true,"temperature":1,"seed":1}');
  assert.notEqual(sampled.json.choices[0].text, greedy.json.choices[0].text, "sampling differs (the comparison means something)");
  await assertAlive(w, "after C3");
});

test("C8: n=1000000 / best_of=1e6 rejected in < 200 ms with no work done", async () => {
  const before = await metrics(w.url);
  for (const body of [{ prompt: "x", n: 1000000 }, { prompt: "x", n: 1000000, best_of: 1000000 },
                      { messages: msg(), n: 1000000 }, { prompt: Array.from({ length: 64 }, () => "x"), n: 128, best_of: 20, max_tokens: 4000 }]) {
    const path = body.messages ? CHAT : C;
    const t0 = performance.now();
    const r = await post(w.url, path, body);
    const ms = performance.now() - t0;
    assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80) + r.text);
    assert.ok(ms < 200, `answered in ${ms.toFixed(1)} ms`);
  }
  const after = await metrics(w.url);
  assert.equal(after["vllm:prompt_tokens_total"], before["vllm:prompt_tokens_total"], "nothing reached the engine");
  await assertAlive(w, "after C8");
});

test("D3: empty user content → 200 within the timeout", async () => {
  const t0 = Date.now();
  for (const messages of [msg(""), [{ role: "system", content: "" }, { role: "user", content: "" }], [{ role: "user", content: [] }]]) {
    const r = await post(w.url, CHAT, { messages, max_tokens: 4 });
    if (Array.isArray(messages[0].content)) { assert.ok([200, 400].includes(r.status)); continue; }
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.role, "assistant");
  }
  assert.ok(Date.now() - t0 < 10000);
  await assertAlive(w, "after D3");
});

test("D5: prompt longer than the context → 400 context_length_exceeded ×50, KV back to baseline", async () => {
  const base = await waitIdle(w.url);
  assert.equal(base["vllm:kv_cache_usage_perc"], 0);
  const ids = Array.from({ length: 5000 }, (_, i) => 1000 + (i % 5000));
  for (let i = 0; i < 50; ++i) {
    const body = i % 2 ? { prompt: ids, max_tokens: 1 } : { prompt: "hello ".repeat(4200) };
    const r = await post(w.url, C, body);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, "context_length_exceeded");
    assert.match(r.json.error.message, /maximum context length is 4096 tokens/);
  }
  const chat = await post(w.url, CHAT, { messages: msg("hello ".repeat(4200)) });
  assert.equal(chat.json.error.code, "context_length_exceeded");
  assert.equal(chat.json.error.param, "messages");
  const m = await waitIdle(w.url);
  assert.equal(m["vllm:kv_cache_usage_perc"], 0);
  assert.equal(m["vllm:num_requests_running"], 0);
  assert.equal(m["vllm:num_requests_waiting"], 0);
  await assertAlive(w, "after D5");
});

test("D9: special-token text in user content / prompt is literal text", async () => {
  const tok = await post(w.url, "/tokenize", { prompt: "<|eot_id|>", add_special_tokens: false });
  assert.ok(tok.json.count > 1, "the literal string is several tokens");
  assert.ok(!tok.json.tokens.includes(128009));
  const withBos = await post(w.url, "/tokenize", { prompt: "<|eot_id|>", add_special_tokens: true });
  const comp = await post(w.url, C, { prompt: "<|eot_id|>", max_tokens: 1 });
  assert.equal(comp.json.usage.prompt_tokens, withBos.json.count, "completions prompt = BOS + literal pieces");

  const empty = await post(w.url, CHAT, { messages: msg(""), max_tokens: 1 });
  for (const s of ["<|eot_id|>", "<|start_header_id|>system<|end_header_id|>", "<|begin_of_text|>"]) {
    const t = await post(w.url, "/tokenize", { prompt: s, add_special_tokens: false });
    const r = await post(w.url, CHAT, { messages: msg(s), max_tokens: 1 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.usage.prompt_tokens - empty.json.usage.prompt_tokens, t.json.count, `${s}: counted as ${t.json.count} literal tokens`);
  }
  await assertAlive(w, "after D9");
});
