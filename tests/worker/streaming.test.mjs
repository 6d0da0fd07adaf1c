// streaming.test.mjs — SSE semantics of a running worker (TESTPLAN E): framing, errors before the
// stream, usage chunk, stop strings across token boundaries, UTF-8 never split, n>1 indices,
// stream == non-stream, and a slow reader that must not hold up anyone else.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startWorker, post, sse, metrics, waitFor, waitIdle, assertAlive, KEYS } from "./harness.mjs";

let w;
before(async () => { w = await startWorker(); });
after(async () => { assert.equal(await w.stop(), 0); });

const C = "/v1/completions";
const CHAT = "/v1/chat/completions";

// Checks the exact SSE framing and returns the parsed chunks (without [DONE]).
function framed(r) {
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get("content-type"), /^text\/event-stream/);
  const re = /data: ([^\n]*)\n\n/y;
  const payloads = [];
  let m;
  let pos = 0;
  while ((m = re.exec(r.text)) !== null) {
    payloads.push(m[1]);
    pos = re.lastIndex;
  }
  assert.equal(pos, r.text.length, "the body is nothing but `data: <payload>\\n\\n` events");
  assert.equal(payloads.at(-1), "[DONE]");
  assert.ok(!payloads.slice(0, -1).includes("[DONE]"), "[DONE] only at the end");
  return payloads.slice(0, -1).map((p) => JSON.parse(p));
}

// Per-choice concatenated text and finish reasons of parsed chunks.
function collect(chunks, chat) {
  const text = {};
  const finish = {};
  for (const ch of chunks) {
    for (const c of ch.choices) {
      text[c.index] = (text[c.index] ?? "") + (chat ? (c.delta.content ?? "") : c.text);
      if (c.finish_reason !== null) {
        assert.equal(finish[c.index], undefined, `choice ${c.index} has one finish_reason`);
        finish[c.index] = c.finish_reason;
      } else {
        assert.equal(finish[c.index], undefined, `choice ${c.index}: no chunk after its finish_reason`);
      }
    }
  }
  return { text, finish };
}

test("E1/E8: framing, role first, one finish_reason per choice last, [DONE]", async () => {
  const body = { messages: [{ role: "user", content: "Say something" }], max_tokens: 10, n: 3, seed: 7, stream: true };
  const r = await sse(w.url, CHAT, body);
  const chunks = framed(r);
  const seen = new Set();
  for (const ch of chunks) {
    assert.equal(ch.object, "chat.completion.chunk");
    assert.match(ch.id, /^chatcmpl-/);
    assert.equal(ch.model, "default");
    assert.equal(ch.id, chunks[0].id, "one id for the whole stream");
    for (const c of ch.choices) {
      assert.ok(Number.isInteger(c.index) && c.index >= 0 && c.index < 3);
      if (!seen.has(c.index)) {
        assert.equal(c.delta.role, "assistant", "the first chunk of each choice carries the role");
        seen.add(c.index);
      }
    }
  }
  assert.equal(seen.size, 3);
  const { text, finish } = collect(chunks, true);
  assert.deepEqual(Object.keys(finish).sort(), ["0", "1", "2"]);
  for (const f of Object.values(finish)) assert.ok(["stop", "length"].includes(f));
  const whole = await post(w.url, CHAT, { ...body, stream: false });
  for (const c of whole.json.choices) {
    assert.equal(text[c.index], c.message.content, `choice ${c.index} stream == non-stream`);
    assert.equal(finish[c.index], c.finish_reason);
  }

  const comp = framed(await sse(w.url, C, { prompt: "One", max_tokens: 5, n: 2, seed: 3, stream: true }));
  for (const ch of comp) assert.equal(ch.object, "text_completion");
  assert.equal(Object.keys(collect(comp, false).finish).length, 2);
  await assertAlive(w, "after E1");
});

test("E2: validation errors with stream:true are plain JSON 4xx, never SSE", async () => {
  const cases = [
    [C, { prompt: "x", temperature: 9, stream: true }, 400],
    [CHAT, { messages: [{ role: "root", content: "x" }], stream: true }, 400],
    [C, { prompt: "hello ".repeat(4200), stream: true }, 400],
    [C, { prompt: "x", stream: true, model: "nope" }, 404],
    ["/chat/completions", { messages: [{ role: "user", content: "x" }], stream: true, frob: 1 }, 422],
    [C, '{"prompt":"x","stream":true,', 400],
  ];
  for (const [path, body, status] of cases) {
    const r = await post(w.url, path, body, { "api-key": KEYS[0] });
    assert.equal(r.status, status, r.text);
    assert.match(r.headers.get("content-type"), /application\/json/);
    assert.ok(!r.text.startsWith("data:"));
    assert.ok(r.json.error.message);
  }
  await assertAlive(w, "after E2");
});

test("E4/E9: stream vs non-stream: identical text and usage (greedy and seeded, chat and completions)", async () => {
  const reqs = [
    [C, { prompt: "The history of", max_tokens: 24, temperature: 0, ignore_eos: true }],
    [C, { prompt: "The history of", max_tokens: 20, temperature: 0.9, top_p: 0.9, seed: 42, n: 2 }],
    [CHAT, { messages: [{ role: "user", content: "Write a haiku" }], max_tokens: 24, temperature: 0 }],
    [CHAT, { messages: [{ role: "user", content: "Write a haiku" }], max_tokens: 20, temperature: 1.2, seed: 9, n: 2 }],
  ];
  for (const [path, req] of reqs) {
    const chat = path === CHAT;
    const whole = await post(w.url, path, req);
    assert.equal(whole.status, 200);
    const r = await sse(w.url, path, { ...req, stream: true, stream_options: { include_usage: true } });
    const chunks = framed(r);
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], "the usage chunk has no choices");
    assert.deepEqual(last.usage, whole.json.usage, "usage chunk totals == non-stream usage");
    for (const ch of chunks.slice(0, -1)) assert.equal(ch.usage, null, "usage is null on every other chunk");
    const { text, finish } = collect(chunks.slice(0, -1), chat);
    for (const c of whole.json.choices) {
      assert.equal(text[c.index], chat ? c.message.content : c.text, `${path} choice ${c.index}`);
      assert.equal(finish[c.index], c.finish_reason);
    }
  }
  await assertAlive(w, "after E4/E9");
});

test("E5: a stop string spanning a token boundary is never emitted", async () => {
  const base = { prompt: "Tell me a story about", max_tokens: 48, temperature: 0, ignore_eos: true, logprobs: 0 };
  const full = (await post(w.url, C, base)).json.choices[0];
  const bytes = Buffer.from(full.text);
  // Choose 2 bytes either side of a token boundary, ASCII letters only, whose first occurrence
  // in the text is at that boundary.
  let stop = null;
  for (const off of full.logprobs.text_offset.slice(2)) {
    const s = bytes.subarray(off - 2, off + 2).toString("latin1");
    if (/^[A-Za-z ]{4}$/.test(s) && s.trim().length === 4 && Buffer.from(full.text.slice(0, full.text.indexOf(s))).length === off - 2) {
      stop = s;
      break;
    }
  }
  assert.ok(stop, "found a cross-token stop string in " + JSON.stringify(full.text));
  const cut = full.text.slice(0, full.text.indexOf(stop));
  for (const [path, req] of [[C, { ...base, logprobs: undefined, stop }], [C, { ...base, logprobs: undefined, stop: ["zzzzqq", stop] }]]) {
    const r = await post(w.url, path, req);
    assert.equal(r.json.choices[0].text, cut);
    assert.equal(r.json.choices[0].finish_reason, "stop");
    const chunks = framed(await sse(w.url, path, { ...req, stream: true }));
    let s = "";
    for (const ch of chunks) {
      for (const c of ch.choices) {
        s += c.text;
        assert.ok(cut.startsWith(s), "no chunk ever carries bytes past the cut: " + JSON.stringify(s));
      }
    }
    assert.equal(s, cut);
    assert.ok(!s.includes(stop));
  }
  // include_stop_str_in_output keeps it.
  const inc = await post(w.url, C, { ...base, logprobs: undefined, stop, include_stop_str_in_output: true });
  assert.equal(inc.json.choices[0].text, cut + stop);
  await assertAlive(w, "after E5");
});

test("E6/E7: CJK / emoji output: stream == non-stream; zero U+FFFD whenever the generated bytes are valid UTF-8", async () => {
  // Chat logprobs carry each token's raw bytes, so the test knows whether the model itself produced
  // valid UTF-8 (then the text must hold no U+FFFD at all) or not (E7: substitution, still equal).
  const fatal = new TextDecoder("utf-8", { fatal: true });
  let validMultibyte = 0;
  for (const content of ["请用中文写一首关于月亮的诗 🌙✨", "日本語で答えてください。絵文字も使って 😀🎉👨‍👩‍👧"]) {
    for (const req of [
      { messages: [{ role: "user", content }], max_tokens: 40, temperature: 0, ignore_eos: true, logprobs: true, skip_special_tokens: false },
      { messages: [{ role: "user", content }], max_tokens: 32, temperature: 1, seed: 11, n: 3, ignore_eos: true, logprobs: true, skip_special_tokens: false },
    ]) {
      const whole = await post(w.url, CHAT, req);
      const { text } = collect(framed(await sse(w.url, CHAT, { ...req, stream: true })), true);
      for (const c of whole.json.choices) {
        assert.equal(text[c.index], c.message.content, "stream == non-stream");
        const raw = Buffer.from(c.logprobs.content.flatMap((t) => t.bytes));
        let decoded = null;
        try { decoded = fatal.decode(raw); } catch { /* the model produced invalid UTF-8 (E7) */ }
        if (decoded === null) {
          assert.ok(text[c.index].length > 0);
          continue;
        }
        assert.equal(text[c.index], decoded, "valid bytes are passed through exactly");
        assert.ok(!text[c.index].includes("\uFFFD"), "no replacement character in " + JSON.stringify(text[c.index]));
        if (raw.length > Buffer.from(decoded, "latin1").length || /[^\x00-\x7f]/.test(decoded)) validMultibyte += 1;
      }
    }
  }
  assert.ok(validMultibyte >= 2, `some outputs are valid UTF-8 with multi-byte characters (${validMultibyte})`);
  await assertAlive(w, "after E6");
});

test("E10: a reader that stops reading does not hold up other requests", async () => {
  const { hostname, port } = new URL(w.url);
  const body = JSON.stringify({ prompt: "Slow", max_tokens: 3000, ignore_eos: true, stream: true });
  const socks = [];
  for (let i = 0; i < 2; ++i) {
    const s = net.connect(Number(port), hostname);
    s.on("error", () => {});
    await new Promise((res) => s.once("connect", res));
    s.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEYS[0]}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    await new Promise((res) => s.once("data", res));
    s.pause();  // read nothing more
    socks.push(s);
  }
  try {
  assert.equal((await metrics(w.url))["vllm:num_requests_running"], 2, "both slow streams are running");
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => post(w.url, C, { prompt: "quick " + i, max_tokens: 8, ignore_eos: true })));
  for (const r of rs) assert.equal(r.status, 200);
  const chunks = framed(await sse(w.url, CHAT, { messages: [{ role: "user", content: "hi" }], max_tokens: 8, stream: true }));
  assert.ok(chunks.length > 0);
  assert.ok(Date.now() - t0 < 10000, "other requests complete promptly");
  } finally {
    for (const s of socks) s.destroy();
  }
  const m = await waitIdle(w.url, 2000);
  assert.equal(m["vllm:num_requests_running"], 0, "closing the slow readers cancels them");
  assert.equal(m["vllm:kv_cache_usage_perc"], 0);
  await assertAlive(w, "after E10");
});
