#!/usr/bin/env node
// bench_gateway.mjs — what the platform's gateway costs (ISSUE 9 "Performance"): the same model
// served by a `maas worker` alone and by `maas serve` (gateway + supervised worker with the
// same flags), measured side by side in one sitting, alternating.
//
//   node bench/bench_gateway.mjs --maas build/bin/maas --model models/maas-tiny-llama3.gguf
//       [--latency-requests 2000] [--rounds 3] [--streams 16] [--stream-prompts 64]
//       [--input-len 128] [--output-len 64] [--memory-requests 10000] [--json out.json]
//
// 1. Added latency: short non-streaming requests (3 prompt ids, max_tokens 1) one at a time over
//    a keep-alive connection, in alternating blocks of 100 (direct, gateway, direct, ...);
//    p50 / p90 / p99 of each and of the difference. The gateway's own histograms (from its
//    /metrics) split the added time: routing + proxying before the worker, and the wait for
//    the durable usage commit after it.
// 2. Streaming throughput: bench/bench_serve.mjs at --streams concurrent streams, alternating
//    direct and gateway for --rounds rounds; output tokens/s (median) and the ratio.
// 3. Memory: the gateway process's RSS before and after --memory-requests requests
//    (8 clients), after a warm-up of 1,000.
// Node 20, no dependencies beyond node:*.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const a = {
  maas: 'build/bin/maas', model: null, 'latency-requests': 2000, rounds: 3, streams: 16, 'stream-prompts': 64,
  'input-len': 128, 'output-len': 64, 'memory-requests': 10000, json: null, threads: 0,
};
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in a)) { console.error(`unknown argument ${process.argv[i]}`); process.exit(2); }
  a[k] = typeof a[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!a.model) { console.error('usage: node bench/bench_gateway.mjs --model FILE [--maas BIN] ...'); process.exit(2); }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const KEY = 'bench-direct-key-0123456789';

function startProcess(args, env, ready) {
  const p = spawn(a.maas, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', () => {});
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      const m = ready(out);
      if (m) { clearInterval(t); resolve({ proc: p, match: m, out: () => out }); }
    }, 50);
    p.on('exit', (c) => { clearInterval(t); reject(new Error(`${args[0]} exited ${c}`)); });
  });
}

function post(agent, url, key, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const payload = JSON.stringify(body);
    const t0 = performance.now();
    const q = http.request({ agent, host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'content-length': Buffer.byteLength(payload) } },
    (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: performance.now() - t0 }));
    });
    q.on('error', reject);
    q.end(payload);
  });
}

const pct = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const median = (xs) => pct(xs, 0.5);

function histogram(metrics, name) {
  const buckets = [];
  let sum = 0, count = 0;
  for (const line of metrics.split('\n')) {
    let m = line.match(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`));
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
    m = line.match(new RegExp(`^${name}_sum (\\S+)`));
    if (m) sum = Number(m[1]);
    m = line.match(new RegExp(`^${name}_count (\\S+)`));
    if (m) count = Number(m[1]);
  }
  const q = (p) => { for (const [le, c] of buckets) if (c >= p * count) return le; return Infinity; };
  return { count, mean_ms: count ? (sum / count) * 1000 : 0, p50_le_ms: q(0.5) * 1000, p99_le_ms: q(0.99) * 1000 };
}

async function metrics(url, token) {
  const r = await fetch(url + '/metrics', { headers: { authorization: `Bearer ${token}` } });
  return r.text();
}

function rss(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(s.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
}

function benchServe(baseUrl, key, label) {
  const out = path.join(os.tmpdir(), `bench-gw-${process.pid}-${label}.json`);
  const r = spawnSync('node', [path.join(here, 'bench_serve.mjs'), '--base-url', baseUrl, '--api-key', key,
    '--num-prompts', String(a['stream-prompts']), '--concurrency', String(a.streams), '--input-len', String(a['input-len']),
    '--output-len', String(a['output-len']), '--label', label, '--json', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench_serve failed: ${r.stderr}`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

const threadArgs = a.threads > 0 ? ['--threads', String(a.threads)] : [];
const direct = await startProcess(['worker', '--model', a.model, '--port', '0', ...threadArgs],
  { MAAS_API_KEY: KEY }, (o) => o.match(/listening on (http:\/\/[0-9.]+:\d+)/));
const directUrl = direct.match[1];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-gw-'));
const serve = await startProcess(['serve', '--data-dir', dataDir, '--port', '0', '--default-model', a.model,
  ...(a.threads > 0 ? ['--worker-threads', String(a.threads)] : [])], {}, (o) => o.includes('# manage it') && o);
const serveUrl = serve.out().match(/listening on (http:\/\/[0-9.]+:\d+)/)[1];
const endpointUrl = `${serveUrl}/endpoints/default`;
const endpointKey = serve.out().match(/key: +([0-9a-f]+)/)[1];
const token = JSON.parse(fs.readFileSync(path.join(dataDir, 'cli.json'), 'utf8')).token;
for (let i = 0; i < 50; ++i) if ((await fetch(directUrl + '/health/ready')).status === 200) break; else await sleep(100);
// The benchmark measures the gateway, not the limits: raise them far above what it sends.
const raised = spawnSync(a.maas, ['serverless-endpoint', 'update', 'default', '--requests-per-minute', '100000000',
  '--tokens-per-minute', '10000000000', '--data-dir', dataDir], { encoding: 'utf8' });
if (raised.status !== 0) throw new Error(`raising the limits failed: ${raised.stderr}`);

try {
  // ---- 1. added latency
  const body = { prompt: [1, 2, 3], max_tokens: 1, temperature: 0 };
  const agents = { direct: new http.Agent({ keepAlive: true, maxSockets: 1 }), gateway: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  const targets = { direct: [directUrl + '/v1/completions', KEY], gateway: [endpointUrl + '/v1/completions', endpointKey] };
  for (const k of ['direct', 'gateway']) for (let i = 0; i < 100; ++i) await post(agents[k], ...targets[k], body);
  const before = await metrics(serveUrl, token);
  const lat = { direct: [], gateway: [] };
  for (let done = 0; done < a['latency-requests']; done += 200) {
    for (const k of ['direct', 'gateway']) {
      for (let i = 0; i < 100; ++i) {
        const r = await post(agents[k], ...targets[k], body);
        if (r.status !== 200) throw new Error(`${k}: HTTP ${r.status}`);
        lat[k].push(r.ms);
      }
    }
  }
  const after = await metrics(serveUrl, token);
  const latency = {};
  for (const k of ['direct', 'gateway']) latency[k] = { p50: pct(lat[k], 0.5), p90: pct(lat[k], 0.9), p99: pct(lat[k], 0.99), n: lat[k].length };
  latency.added = { p50: latency.gateway.p50 - latency.direct.p50, p90: latency.gateway.p90 - latency.direct.p90,
                    p99: latency.gateway.p99 - latency.direct.p99 };
  latency.overhead_hist = histogram(after, 'maas:gateway_overhead_seconds');
  latency.record_wait_hist = histogram(after, 'maas:gateway_record_wait_seconds');
  latency.commit_hist = histogram(after, 'maas:usage_commit_seconds');
  const commitsDelta = Number(after.match(/maas:usage_commits_total (\d+)/)[1]) - Number(before.match(/maas:usage_commits_total (\d+)/)[1]);
  const recordsDelta = Number(after.match(/maas:usage_records_total (\d+)/)[1]) - Number(before.match(/maas:usage_records_total (\d+)/)[1]);
  latency.records_per_commit = recordsDelta / Math.max(1, commitsDelta);

  // ---- 2. streaming throughput
  const rounds = [];
  for (let r = 0; r < a.rounds; ++r) {
    const d = benchServe(directUrl, KEY, `direct-${r}`);
    const g = benchServe(endpointUrl, endpointKey, `gateway-${r}`);
    rounds.push({ direct: d.output_throughput, gateway: g.output_throughput, ratio: g.output_throughput / d.output_throughput,
                  direct_ttft_p50: d.ttft_ms.median, gateway_ttft_p50: g.ttft_ms.median,
                  direct_failed: d.failed ?? 0, gateway_failed: g.failed ?? 0 });
  }
  const throughput = { rounds, median_ratio: median(rounds.map((x) => x.ratio)),
                       median_direct: median(rounds.map((x) => x.direct)), median_gateway: median(rounds.map((x) => x.gateway)) };

  // ---- 3. memory over many requests (8 clients, keep-alive)
  const clients = 8;
  const memAgents = Array.from({ length: clients }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const runMany = async (n) => {
    let next = 0;
    await Promise.all(memAgents.map(async (ag) => {
      while (next < n) { next++; const r = await post(ag, endpointUrl + '/v1/completions', endpointKey, body); if (r.status !== 200) throw new Error(`HTTP ${r.status}`); }
    }));
  };
  await runMany(1000);
  const memBefore = await metrics(serveUrl, token);
  const rss0 = rss(serve.proc.pid);
  const t0 = performance.now();
  const checkpoints = [];
  const step = Math.max(1, Math.floor(a['memory-requests'] / 5));
  for (let done = 0; done < a['memory-requests']; done += step) {
    await runMany(step);
    checkpoints.push(rss(serve.proc.pid));
  }
  const secs = (performance.now() - t0) / 1000;
  const rss1 = rss(serve.proc.pid);
  const memAfter = await metrics(serveUrl, token);
  const count = (m, n) => Number(m.match(new RegExp(`${n} (\\d+)`))[1]);
  const grouped = (count(memAfter, 'maas:usage_records_total') - count(memBefore, 'maas:usage_records_total')) /
                  Math.max(1, count(memAfter, 'maas:usage_commits_total') - count(memBefore, 'maas:usage_commits_total'));
  const memory = { records_per_commit_8_clients: grouped, requests: a['memory-requests'], rss_before_mib: rss0, rss_after_mib: rss1, growth_mib: rss1 - rss0,
                   checkpoints_mib: checkpoints, requests_per_s: a['memory-requests'] / secs };

  const f = (x) => x.toFixed(3);
  console.log('added latency, non-streaming, max_tokens 1 (ms):');
  console.log(`  direct  p50 ${f(latency.direct.p50)}  p90 ${f(latency.direct.p90)}  p99 ${f(latency.direct.p99)}`);
  console.log(`  gateway p50 ${f(latency.gateway.p50)}  p90 ${f(latency.gateway.p90)}  p99 ${f(latency.gateway.p99)}`);
  console.log(`  added   p50 ${f(latency.added.p50)}  p90 ${f(latency.added.p90)}  p99 ${f(latency.added.p99)}`);
  console.log(`  gateway before the worker: mean ${f(latency.overhead_hist.mean_ms)} ms (p50 <= ${latency.overhead_hist.p50_le_ms} ms)`);
  console.log(`  usage record wait: mean ${f(latency.record_wait_hist.mean_ms)} ms (p50 <= ${latency.record_wait_hist.p50_le_ms}, p99 <= ${latency.record_wait_hist.p99_le_ms} ms); commit mean ${f(latency.commit_hist.mean_ms)} ms, ${latency.records_per_commit.toFixed(2)} records per commit`);
  console.log(`streaming, ${a.streams} streams, ${a['input-len']} in / ${a['output-len']} out (output tok/s):`);
  for (const r of rounds) console.log(`  direct ${r.direct.toFixed(1)}  gateway ${r.gateway.toFixed(1)}  ratio ${r.ratio.toFixed(3)}`);
  console.log(`  median ratio ${throughput.median_ratio.toFixed(3)}`);
  console.log(`memory: gateway RSS ${f(rss0)} -> ${f(rss1)} MiB over ${memory.requests} requests (${memory.requests_per_s.toFixed(0)} req/s); ` +
              `every ${step}: ${checkpoints.map((x) => x.toFixed(1)).join(' ')} MiB; ${grouped.toFixed(2)} records per commit with 8 clients`);
  if (a.json) fs.writeFileSync(a.json, JSON.stringify({ latency, throughput, memory }, null, 2));
} finally {
  direct.proc.kill('SIGTERM');
  serve.proc.kill('SIGTERM');
  await sleep(500);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
