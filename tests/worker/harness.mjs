// harness.mjs — starts a real `maas worker` on an ephemeral port for the node tests and stops it.
import { spawn } from "node:child_process";
import { once } from "node:events";

export const KEYS = ["test-key-primary", "test-key-secondary"];

export async function startWorker(extraArgs = []) {
  const maas = process.env.MAAS_BIN;
  const model = process.env.MAAS_MODEL;
  if (!maas || !model) throw new Error("MAAS_BIN and MAAS_MODEL must be set");
  const args = ["worker", "--model", model, "--host", "127.0.0.1", "--port", "0",
                "--api-key", KEYS[0], "--api-key", KEYS[1], "--served-model-name", "default", ...extraArgs];
  const proc = spawn(maas, args, { stdio: ["ignore", "pipe", "pipe"] });
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
  for (let i = 0; i < 600; ++i) {
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
