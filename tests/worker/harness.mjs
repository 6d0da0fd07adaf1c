// harness.mjs — starts a real `maas worker` on an ephemeral port for the node tests and stops it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import fs from "node:fs";
import assert from "node:assert/strict";

export const KEYS = ["test-key-primary", "test-key-secondary"];

// opts: { model: path (default MAAS_MODEL), env: extra environment, waitReady: false to return as
// soon as "listening on" is printed (readiness still 503 while the model loads), keyArgs: the
// key flags to pass instead of `--api-key KEYS[0] --api-key KEYS[1]` }.
export async function startWorker(extraArgs = [], opts = {}) {
  const maas = process.env.MAAS_BIN;
  const model = opts.model ?? process.env.MAAS_MODEL;
  if (!maas || !model) throw new Error("MAAS_BIN and MAAS_MODEL must be set");
  const keyArgs = opts.keyArgs ?? ["--api-key", KEYS[0], "--api-key", KEYS[1]];
  const args = ["worker", "--model", model, "--host", "127.0.0.1", "--port", "0",
                ...keyArgs, "--served-model-name", "default", ...extraArgs];
  const proc = spawn(maas, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(opts.env ?? {}) } });
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d.toString(); });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("worker did not start:\n" + stderr)), 60000);
    proc.stdout.on("data", (d) => {
      out += d.toString();
      const m = out.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`worker exited ${code}:\n${stderr}`)); });
  });
  // wait until ready
  for (let i = 0; i < (opts.waitReady === false ? 0 : 600); ++i) {
    const r = await fetch(url + "/health/ready").catch(() => null);
    if (r && r.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    proc,
    stderr: () => stderr,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await once(proc, "exit");
      return code;
    },
  };
}

export async function post(url, path, body, headers = {}) {
  const r = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEYS[0]}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

export async function get(url, path, headers = { authorization: `Bearer ${KEYS[0]}` }) {
  const r = await fetch(url + path, { headers });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// Reads an SSE response body into the list of `data:` payloads.
export async function sse(url, path, body, headers = {}) {
  const r = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEYS[0]}`, ...headers },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  const events = text.split("\n\n").filter((e) => e.length > 0).map((e) => e.replace(/^data: /, ""));
  return { status: r.status, headers: r.headers, text, events };
}

export async function metric(url, name) {
  const r = await get(url, "/metrics");
  const line = r.text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.split(" ").pop()) : NaN;
}

// All samples of /metrics as { "name{labels}": value } plus plain "name" for the first sample.
export async function metrics(url) {
  const r = await get(url, "/metrics");
  const out = {};
  for (const l of r.text.split("\n")) {
    if (!l || l.startsWith("#")) continue;
    const i = l.lastIndexOf(" ");
    const key = l.slice(0, i);
    out[key] = Number(l.slice(i + 1));
    const name = key.replace(/\{.*$/, "");
    if (!(name in out)) out[name] = out[key];
  }
  return out;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value or timeoutMs passes; returns the last value.
export async function waitFor(fn, timeoutMs, stepMs = 20) {
  const end = Date.now() + timeoutMs;
  let v;
  do {
    v = await fn();
    if (v) return v;
    await sleep(stepMs);
  } while (Date.now() < end);
  return v;
}

// Waits until the engine is idle: nothing running or waiting and no KV blocks held.
export async function waitIdle(url, timeoutMs = 2000) {
  let m;
  await waitFor(async () => {
    m = await metrics(url);
    return m["vllm:num_requests_running"] === 0 && m["vllm:num_requests_waiting"] === 0 && m["vllm:kv_cache_usage_perc"] === 0;
  }, timeoutMs);
  return m;
}

// The per-case invariant of TESTPLAN: alive, /health 200, a normal request succeeds.
export async function assertAlive(w, msg = "") {
  assert.equal(w.proc.exitCode, null, "worker process alive " + msg);
  assert.equal(w.proc.signalCode, null, "worker not killed by a signal " + msg);
  assert.equal((await get(w.url, "/health", {})).status, 200, "/health " + msg);
  const r = await post(w.url, "/v1/completions", { prompt: "Hello", max_tokens: 2, temperature: 0 });
  assert.equal(r.status, 200, "normal request " + msg + " " + r.text);
  assert.equal(r.json.choices.length, 1);
}

// Open file descriptors of a process (Linux).
export function fdCount(pid) {
  try { return fs.readdirSync(`/proc/${pid}/fd`).length; } catch { return NaN; }
}

// Splits a raw HTTP/1.1 response (Buffer) into { status, headers (lower-case names), body (Buffer) }.
// complete: the headers and the whole Content-Length body (or the terminating chunk) arrived.
export function parseHttpResponse(raw) {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: Buffer.alloc(0), complete: false, raw };
  const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(lines[0].split(" ")[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(":");
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  let complete = false;
  if (headers["content-length"] !== undefined) {
    const n = Number(headers["content-length"]);
    complete = body.length >= n;
    body = body.subarray(0, n);
  } else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    const parts = [];
    let off = 0;
    for (;;) {
      const le = body.indexOf("\r\n", off);
      if (le < 0) break;
      const size = parseInt(body.subarray(off, le).toString("latin1"), 16);
      if (Number.isNaN(size) || body.length < le + 2 + size + 2) break;
      if (size === 0) { complete = true; break; }
      parts.push(body.subarray(le + 2, le + 2 + size));
      off = le + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body, complete, raw };
}

// Sends raw bytes on a fresh TCP connection and reads the first response. `parts` is a string,
// a Buffer or an array of them, written in order (awaiting each write) until a response
// arrives. Resolves { status, headers, body, text, json, complete, why, sentBytes } where why is
// "complete", "end", "close", "error:CODE" or "timeout".
export function rawHttp(url, parts, { timeoutMs = 10000 } = {}) {
  const { hostname, port } = new URL(url);
  if (!Array.isArray(parts)) parts = [parts];
  return new Promise((resolve) => {
    const sock = net.connect(Number(port), hostname);
    const chunks = [];
    let done = false;
    let sentBytes = 0;
    const finish = (why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const r = parseHttpResponse(Buffer.concat(chunks));
      const text = r.body.toString("utf8");
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      resolve({ ...r, text, json, why, sentBytes });
    };
    const timer = setTimeout(() => finish("timeout"), timeoutMs);
    sock.on("data", (d) => {
      chunks.push(d);
      if (parseHttpResponse(Buffer.concat(chunks)).complete) finish("complete");
    });
    sock.on("end", () => finish("end"));
    sock.on("close", () => finish("close"));
    sock.on("error", (e) => finish("error:" + e.code));
    sock.on("connect", async () => {
      for (const p of parts) {
        if (done || chunks.length > 0) break;
        const buf = Buffer.isBuffer(p) ? p : Buffer.from(p, "latin1");
        await new Promise((res) => sock.write(buf, () => res()));
        sentBytes += buf.length;
      }
    });
  });
}

// A streaming POST read event by event. Returns { status, headers, next() -> event string or null
// at the end, abort() }.
export async function openStream(url, path, body, headers = {}) {
  const ctrl = new AbortController();
  const r = await fetch(url + path, {
    method: "POST", signal: ctrl.signal,
    headers: { "content-type": "application/json", authorization: `Bearer ${KEYS[0]}`, ...headers },
    body: JSON.stringify(body),
  });
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  return {
    status: r.status,
    headers: r.headers,
    async next() {
      for (;;) {
        const i = buf.indexOf("\n\n");
        if (i >= 0) {
          const e = buf.slice(0, i);
          buf = buf.slice(i + 2);
          return e.replace(/^data: /, "");
        }
        const { value, done } = await reader.read();
        if (done) return null;
        buf += dec.decode(value, { stream: true });
      }
    },
    abort() { ctrl.abort(); reader.cancel().catch(() => {}); },
  };
}
