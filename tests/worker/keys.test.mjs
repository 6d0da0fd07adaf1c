// keys.test.mjs — API keys from a file and from the environment (a key on the command line is
// visible to every local user), and vLLM's stream_options.continuous_usage_stats: usage on
// every chunk, which the platform's gateway uses to meter streams cut short.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startWorker, KEYS } from "./harness.mjs";

async function status(url, key) {
  const r = await fetch(url + "/v1/models", { headers: key ? { authorization: `Bearer ${key}` } : {} });
  await r.text();
  return r.status;
}

test("keys from --api-key-file (comments and blank lines skipped) and MAAS_API_KEY", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "maas-keys-"));
  const file = path.join(dir, "keys");
  fs.writeFileSync(file, "# worker keys\n\nfile-key-1\n  file-key-2  \n", { mode: 0o600 });
  const w = await startWorker([], { keyArgs: ["--api-key-file", file], env: { MAAS_API_KEY: "env-key-1,env-key-2" } });
  try {
    assert.equal(w.proc.spawnargs.join(" ").includes("file-key"), false, "no key on the command line");
    for (const k of ["file-key-1", "file-key-2", "env-key-1", "env-key-2"]) assert.equal(await status(w.url, k), 200, k);
    assert.equal(await status(w.url, "# worker keys"), 401);
    assert.equal(await status(w.url, "file-key-3"), 401);
    assert.equal(await status(w.url, null), 401);
  } finally {
    assert.equal(await w.stop(), 0);
    fs.rmSync(dir, { recursive: true });
  }
});

test("an empty key file is refused at start", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "maas-keys-"));
  const file = path.join(dir, "keys");
  fs.writeFileSync(file, "# nothing\n\n", { mode: 0o600 });
  await assert.rejects(startWorker([], { keyArgs: ["--api-key-file", file] }), /holds no key/);
  await assert.rejects(startWorker([], { keyArgs: ["--api-key-file", path.join(dir, "missing")] }), /exited 2/);
  fs.rmSync(dir, { recursive: true });
});

test("continuous_usage_stats: usage on every chunk, final usage chunk equals the last", async () => {
  const w = await startWorker();
  try {
    const r = await fetch(w.url + "/v1/completions", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEYS[0]}` },
      body: JSON.stringify({ prompt: "Hello", max_tokens: 6, temperature: 0, ignore_eos: true, stream: true,
                             stream_options: { include_usage: true, continuous_usage_stats: true } }),
    });
    assert.equal(r.status, 200);
    const events = (await r.text()).split("\n\n").filter((e) => e).map((e) => e.replace(/^data: /, ""));
    assert.equal(events.pop(), "[DONE]");
    let last = 0;
    for (const e of events) {
      const c = JSON.parse(e);
      assert.equal(typeof c.usage, "object");
      assert.ok(c.usage !== null, e);
      assert.ok(c.usage.completion_tokens >= last);
      last = c.usage.completion_tokens;
    }
    const final = JSON.parse(events.at(-1));
    assert.deepEqual(final.choices, []);
    assert.equal(final.usage.completion_tokens, 6);
  } finally {
    assert.equal(await w.stop(), 0);
  }
});
