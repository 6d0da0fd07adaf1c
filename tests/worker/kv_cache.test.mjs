// kv_cache.test.mjs — `maas worker --kv-cache-dtype auto|f32|f16|q8_0`: each type serves
// (the log names the type the cache holds; auto is f16 on the CPU), and a bad value is refused at
// once with exit code 2 and a message that names the flag and the accepted values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startWorker, post } from "./harness.mjs";

const C = "/v1/completions";
// Long enough for whole 16-token blocks: the second request reads them from the prefix cache.
const PROMPT = "The key and value vectors of every layer are kept for each position of the prompt, " +
  "so that a new token only computes its own; this cache is what bounds the context length.";

test("--kv-cache-dtype: a bad value exits 2 with a clear message, before loading anything", () => {
  const r = spawnSync(process.env.MAAS_BIN, ["worker", "--model", process.env.MAAS_MODEL, "--port", "0",
                                             "--kv-cache-dtype", "q4"], { encoding: "utf8", timeout: 30000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--kv-cache-dtype: unknown KV cache type 'q4' \(expected auto, f32, f16 or q8_0\)/);
  assert.doesNotMatch(r.stdout, /listening on/);
});

for (const [flag, type] of [["auto", "f16"], ["f32", "f32"], ["f16", "f16"], ["q8_0", "q8_0"]]) {
  test(`--kv-cache-dtype ${flag}: the cache is ${type}, and the worker serves`, async () => {
    const w = await startWorker(["--kv-cache-dtype", flag]);
    try {
      const body = { prompt: PROMPT, max_tokens: 24, temperature: 0, ignore_eos: true };
      const r = await post(w.url, C, body);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.usage.completion_tokens, 24);
      assert.match(w.stderr(), new RegExp(`KV cache: ${type}, [0-9]+ positions`), w.stderr());
      // The same prompt again: its full blocks come from the prefix cache, same greedy text.
      const again = await post(w.url, C, body);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.choices[0].text, r.json.choices[0].text);
    } finally {
      assert.equal(await w.stop(), 0);
    }
  });
}
