// harness.mjs — starts a real `maas serve` (control plane, gateway, supervised `maas worker`
// processes on the embedded default model) on an ephemeral port in a fresh data directory, and
// drives it through the CLI, the management REST API and the inference gateway.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const MAAS = process.env.MAAS_BIN;
export const MODEL = process.env.MAAS_MODEL;

export function tempDir(prefix = "maas-platform-") {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// Starts `maas serve`; resolves once it printed its summary (the default endpoint is ready).
// opts: { dataDir, args: extra flags, env }
export async function startServe(opts = {}) {
  if (!MAAS || !MODEL) throw new Error("MAAS_BIN and MAAS_MODEL must be set");
  const dataDir = opts.dataDir ?? tempDir();
  const args = ["serve", "--data-dir", dataDir, "--port", String(opts.port ?? 0), "--default-model", MODEL,
                "--probe-interval-ms", "200", ...(opts.args ?? [])];
  const proc = spawn(MAAS, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(opts.env ?? {}) } });
  let stdout = "";
  let stderr = "";
  proc.stderr.on("data", (d) => { stderr += d.toString(); });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("maas serve did not start:\n" + stderr)), 120000);
    proc.stdout.on("data", (d) => {
      stdout += d.toString();
      if (/# manage it:/.test(stdout) || (/listening on/.test(stdout) && opts.noDefaultEndpoint)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`maas serve exited ${code}:\n${stderr}`)); });
  });
  const url = stdout.match(/listening on (http:\/\/[0-9.]+:[0-9]+)/)[1];
  const token = JSON.parse(fs.readFileSync(path.join(dataDir, "cli.json"), "utf8")).token;
  const key = stdout.match(/key: +([0-9a-f]+)/)?.[1];
  return {
    url, dataDir, proc, token, key, stdout: () => stdout, stderr: () => stderr,
    endpointUrl: (name = "default") => `${url}/endpoints/${name}`,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const [code] = await once(proc, "exit");
      return code;
    },
  };
}

// Runs the CLI against a data directory; returns { code, stdout, stderr, json }.
export function cli(dataDir, args, env = {}) {
  const r = spawnSync(MAAS, [...args, "--data-dir", dataDir], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 120000 });
  let json = null;
  try { json = JSON.parse(r.stdout); } catch { /* table output */ }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

// One management API call with the administrator token.
export async function api(s, method, p, body, headers = {}) {
  const r = await fetch(s.url + p, {
    method,
    headers: { authorization: `Bearer ${s.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : (typeof body === "string" ? body : JSON.stringify(body)),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// One inference call through the gateway with an endpoint key.
export async function infer(s, p, body, key, headers = {}, name = "default") {
  const r = await fetch(s.endpointUrl(name) + p, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* SSE or not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(fn, timeoutMs, stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let v;
  do {
    v = await fn();
    if (v) return v;
    await sleep(stepMs);
  } while (Date.now() < end);
  return v;
}

// Usage records of a workspace through the API (newest last).
export async function records(s, workspace = "default") {
  const r = await api(s, "GET", `/api/workspaces/${workspace}/usage/records?limit=100000`);
  if (r.status !== 200) throw new Error("usage records: " + r.text);
  return r.json.data;
}

// The worker instances the supervisor runs.
export async function instances(s) {
  return (await api(s, "GET", "/api/instances")).json.data;
}

export function chat(content = "Hello!", extra = {}) {
  return { messages: [{ role: "user", content }], max_tokens: 4, temperature: 0, ...extra };
}

// cli() without blocking the event loop (for tests whose own servers must keep answering).
export function cliAsync(dataDir, args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(MAAS, [...args, "--data-dir", dataDir], { env: { ...process.env, ...env } });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    p.on("close", (code) => {
      let json = null;
      try { json = JSON.parse(stdout); } catch { /* table output */ }
      resolve({ code, stdout, stderr, json });
    });
  });
}
