// pull.test.mjs — `maas model pull` against a local Hugging Face-style server (the hub's
// /<repo>/resolve/<revision>/<file> scheme, a redirect to a CDN path carrying X-Linked-Etag,
// Range requests), then registration with the platform: resumable after a cut connection,
// SHA-256 verified, written atomically, and the pulled model deployable.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { startServe, cliAsync as cli, api, infer, waitFor, MODEL } from "./harness.mjs";

let s, hub, hubUrl;
const blob = fs.readFileSync(MODEL);
const sha = crypto.createHash("sha256").update(blob).digest("hex");
const ranges = [];
let cutAfter = 0;  // > 0: the next full-file response is cut after this many bytes

before(async () => {
  s = await startServe();
  hub = http.createServer((req, res) => {
    if (req.url === "/org/tiny/resolve/main/tiny.gguf") {
      res.writeHead(302, { location: "/cdn/tiny.gguf", "x-linked-etag": `"${sha}"` });
      return res.end();
    }
    if (req.url !== "/cdn/tiny.gguf") {
      res.writeHead(404);
      return res.end("not found");
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (m) {
      ranges.push(Number(m[1]));
      const start = Number(m[1]);
      res.writeHead(206, { "content-range": `bytes ${start}-${blob.length - 1}/${blob.length}`, "content-length": blob.length - start });
      return res.end(blob.subarray(start));
    }
    res.writeHead(200, { "content-length": blob.length, etag: `"${sha}"` });
    if (cutAfter > 0) {
      const n = cutAfter;
      cutAfter = 0;
      res.write(blob.subarray(0, n), () => setTimeout(() => res.destroy(), 50));
      return;
    }
    res.end(blob);
  });
  await new Promise((r) => hub.listen(0, "127.0.0.1", r));
  hubUrl = `http://127.0.0.1:${hub.address().port}`;
});
after(async () => {
  hub?.close();
  if (s) assert.equal(await s.stop(), 0);
});

test("pull: cut mid-way, resumed with Range, verified, registered and deployable", async () => {
  const out = path.join(s.dataDir, "pulled");
  cutAfter = Math.floor(blob.length / 3);
  const first = await cli(s.dataDir, ["model", "pull", "org/tiny", "tiny.gguf", "--base-url", hubUrl, "--out", out]);
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /run again to resume/);
  assert.ok(fs.existsSync(path.join(out, "tiny.gguf.part")));
  assert.ok(!fs.existsSync(path.join(out, "tiny.gguf")), "never a half-written model under the final name");
  const second = await cli(s.dataDir, ["model", "pull", "org/tiny", "tiny.gguf", "--base-url", hubUrl, "--out", out,
                                 "--name", "pulled-tiny", "--custom", "--output", "json"]);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(ranges.length >= 1 && ranges[0] > 0, "resumed with a Range request");
  assert.equal(second.json.weights.sha256, sha);
  assert.deepEqual(fs.readFileSync(path.join(out, "tiny.gguf")), blob);
  assert.equal((await api(s, "POST", "/api/workspaces/default/marketplace-subscriptions", { model: "pulled-tiny" })).status, 201);
  assert.equal((await api(s, "POST", "/api/workspaces/default/serverless-endpoints", { name: "pulled", model: "pulled-tiny" })).status, 201);
  const keys = (await api(s, "POST", "/api/workspaces/default/serverless-endpoints/pulled/list-keys", {})).json;
  assert.ok(await waitFor(async () => (await infer(s, "/v1/completions", { prompt: "x", max_tokens: 2 }, keys.primaryKey, {}, "pulled")).status === 200, 60000, 200));
});

test("pull: a wrong digest is refused and leaves nothing; a missing file is a clear error", async () => {
  const out = path.join(s.dataDir, "pulled-bad");
  const bad = await cli(s.dataDir, ["model", "pull", "org/tiny", "tiny.gguf", "--base-url", hubUrl, "--out", out, "--sha256", "0".repeat(64)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /sha256|SHA-256|digest/i);
  assert.ok(!fs.existsSync(path.join(out, "tiny.gguf")));
  assert.ok(!fs.existsSync(path.join(out, "tiny.gguf.part")));
  const missing = await cli(s.dataDir, ["model", "pull", "org/nope", "x.gguf", "--base-url", hubUrl, "--out", out]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: .*not found/);
});
