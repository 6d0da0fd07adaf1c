#!/usr/bin/env node
// bench_serve.mjs — an online serving benchmark for any OpenAI-compatible server (maas worker,
// llama.cpp's llama-server, vLLM), in the manner of vLLM's benchmarks/benchmark_serving.py.
//
//   node bench/bench_serve.mjs --base-url http://127.0.0.1:8080 [--api-key K]
//       --num-prompts N (--concurrency C | --request-rate R | both)
//       --input-len L --output-len O [--range-ratio 0.5] [--seed S]
//       [--endpoint /v1/completions|/v1/chat/completions] [--model NAME] [--temperature 0]
//       [--warmup 1] [--label TEXT] [--json out.json] [--extra-body '{"k":v}']
//       [--long-every K --long-input-len L]
//
// Workload: N requests; request i asks for an input length and an output length drawn uniformly
// from the integers in [len*(1-r), len*(1+r)] (seeded, so every server sees the same requests).
// Mixed workload: with --long-every K, requests K-1, 2K-1, ... get --long-input-len L tokens
// instead (the same output length); the table then also reports the TTFT of the short ones.
// A prompt is that many random common English words, each one token in the Llama 3 vocabulary
// with its leading space (the BOS the server adds counts as one), so the server's prompt_tokens
// lands close to the drawn length; the table reports the servers' own counts. Every request
// streams, sets "max_tokens" to its output length and "ignore_eos": true, and asks for
// stream_options.include_usage.
//
// Arrivals: --request-rate R sends requests as a Poisson process of rate R/s (exponential gaps);
// --concurrency C keeps at most C requests in flight; neither: all N at once.
//
// Per request, timed from just before the request is written: TTFT (first chunk with non-empty
// text), ITL (gaps between later chunks with non-empty text), E2EL (until the stream ends), TPOT
// = (E2EL - TTFT) / (output tokens - 1). Output tokens come from the final chunk's usage
// (maas: the include_usage chunk; llama-server: usage on its last chunk), else the number of
// non-empty chunks. A request fails on a non-200 status, an error event or a transport error.
// Node 20, no dependencies: node:http(s), a connection per request, no timeouts.
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------- arguments
const USAGE = `usage: node bench/bench_serve.mjs --base-url URL [--api-key K] --num-prompts N
  (--concurrency C | --request-rate R) --input-len L --output-len O [--range-ratio 0.5]
  [--seed 0] [--endpoint /v1/completions] [--model NAME] [--temperature 0] [--warmup 1]
  [--label TEXT] [--json out.json] [--extra-body JSON] [--long-every K --long-input-len L]`;

function parse_args(argv) {
  const spec = {
    'base-url': 'string', 'api-key': 'string', 'num-prompts': 'int', 'concurrency': 'int',
    'request-rate': 'float', 'input-len': 'int', 'output-len': 'int', 'range-ratio': 'float',
    'seed': 'int', 'endpoint': 'string', 'model': 'string', 'temperature': 'float',
    'warmup': 'int', 'label': 'string', 'json': 'string', 'extra-body': 'string',
    'long-every': 'int', 'long-input-len': 'int',
  };
  const a = {
    'base-url': null, 'api-key': null, 'num-prompts': 100, 'concurrency': null,
    'request-rate': Infinity, 'input-len': 128, 'output-len': 64, 'range-ratio': 0.0, 'seed': 0,
    'endpoint': '/v1/completions', 'model': null, 'temperature': 0.0, 'warmup': 1, 'label': '',
    'json': null, 'extra-body': null, 'long-every': 0, 'long-input-len': 1000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') { console.log(USAGE); process.exit(0); }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !(m[1] in spec)) die(`unknown argument ${arg}\n${USAGE}`);
    const v = m[2] !== undefined ? m[2] : argv[++i];
    if (v === undefined) die(`${arg} needs a value`);
    const kind = spec[m[1]];
    if (kind === 'string') a[m[1]] = v;
    else {
      const x = kind === 'int' ? Number.parseInt(v, 10) : (v === 'inf' ? Infinity : Number(v));
      if (!Number.isFinite(x) && !(kind === 'float' && x === Infinity)) die(`${arg}: not a number: ${v}`);
      a[m[1]] = x;
    }
  }
  if (!a['base-url']) die(`--base-url is required\n${USAGE}`);
  if (a['num-prompts'] < 1) die('--num-prompts must be >= 1');
  if (a['input-len'] < 2 || a['output-len'] < 1) die('--input-len must be >= 2, --output-len >= 1');
  if (!(a['range-ratio'] >= 0 && a['range-ratio'] < 1)) die('--range-ratio must be in [0, 1)');
  if (a.concurrency !== null && a.concurrency < 1) die('--concurrency must be >= 1');
  if (!(a['request-rate'] > 0)) die('--request-rate must be > 0');
  if (a['extra-body']) {
    try { a['extra-body'] = JSON.parse(a['extra-body']); } catch { die('--extra-body is not JSON'); }
  }
  return a;
}

function die(msg) { console.error(msg); process.exit(2); }

// ---------------------------------------------------------------------------------- workload
// mulberry32: small seeded PRNG, so a seed names one workload on every machine.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Common English words; with a leading space each is one token of the Llama 3 vocabulary.
const WORDS = `the of and to in is was for on that with as by at from his it an were are which
this be or had not but first one their its new after who they have her she two been other when
there all during into school time may years more most only over city some world would where
later up such used many can state about national out known university united then made also
year people part because under house well water long great home small music group number
through family high life name world book work city game film place team war line line head
power end land river light town road story point body north south east west old young black
white red green blue land sea air fire stone wood gold iron silver paper glass table chair door
window wall floor room garden tree flower grass field hill mountain lake island forest bird fish
horse dog cat cow king queen prince church castle bridge tower market street village country
army ship train car letter word song voice sound color shape money price value rule law order
court case plan idea mind heart hand face eye foot back side day night morning evening week
month season summer winter spring river rain snow wind sun moon star sky cloud storm heat cold
food bread milk meat fruit apple rice salt sugar wine beer tea coffee oil gas coal energy force
speed level field space area size weight center edge top bottom front middle corner circle
square rate test study class lesson teacher student doctor nurse farmer worker leader member
friend mother father brother sister son daughter child baby man woman boy girl person crowd
public private simple strong weak hard soft dark bright early late fast slow rich poor happy
free open close full empty deep wide short tall large little good bad best last next own same
different important general common special real true clear easy possible social local human`
  .split(/\s+/).filter((w, i, all) => w && all.indexOf(w) === i);

function uniform_int(r, lo, hi) { return lo + Math.floor(r() * (hi - lo + 1)); }

// The same (seed, n, lengths) always yields the same requests, in the same order.
function make_requests(a) {
  const r = rng(a.seed * 2654435761 + 12345);
  const rr = a['range-ratio'];
  const in_lo = Math.max(2, Math.floor(a['input-len'] * (1 - rr))), in_hi = Math.ceil(a['input-len'] * (1 + rr));
  const out_lo = Math.max(1, Math.floor(a['output-len'] * (1 - rr))), out_hi = Math.ceil(a['output-len'] * (1 + rr));
  const reqs = [];
  for (let i = 0; i < a['num-prompts']; i++) {
    const drawn = uniform_int(r, in_lo, in_hi);
    const long = a['long-every'] > 0 && i % a['long-every'] === a['long-every'] - 1;
    const input_len = long ? a['long-input-len'] : drawn;
    const output_len = uniform_int(r, out_lo, out_hi);
    const words = [];
    for (let w = 0; w < input_len - 1; w++) words.push(WORDS[Math.floor(r() * WORDS.length)]);
    reqs.push({ prompt: words.join(' '), input_len, output_len, long });
  }
  return reqs;
}

// ---------------------------------------------------------------------------------- one request
function make_body(a, req, chat) {
  const body = {
    max_tokens: req.output_len, ignore_eos: true, temperature: a.temperature, stream: true,
    stream_options: { include_usage: true },
  };
  if (a.model) body.model = a.model;
  if (chat) body.messages = [{ role: 'user', content: req.prompt }];
  else body.prompt = req.prompt;
  return Object.assign(body, a['extra-body'] || {});
}

// Sends one streaming request; resolves (never rejects) to its measurements.
function send(a, req, agent) {
  // The base URL may carry a path (a platform endpoint: http://host/endpoints/NAME): keep it.
  const url = new URL(a['base-url'].replace(/\/+$/, '') + a.endpoint);
  const chat = a.endpoint.includes('chat');
  const payload = JSON.stringify(make_body(a, req, chat));
  const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
  if (a['api-key']) headers.authorization = `Bearer ${a['api-key']}`;
  const lib = url.protocol === 'https:' ? https : http;
  const out = {
    success: false, error: '', input_len: req.input_len, expected_output_len: req.output_len, long: req.long,
    prompt_tokens: null, output_tokens: 0, n_chunks: 0, ttft: 0, e2el: 0, itl: [], text_len: 0,
    start: 0,
  };
  return new Promise((resolve) => {
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      out.e2el = performance.now() - out.start;
      if (err) out.error = err;
      else if (out.n_chunks === 0) out.error = 'no content in the stream';
      else out.success = true;
      if (out.success && out.output_tokens === 0) out.output_tokens = out.n_chunks;
      resolve(out);
    };
    out.start = performance.now();
    const q = lib.request(url, { method: 'POST', headers, agent }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => finish(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
        res.on('error', (e) => finish(`HTTP ${res.statusCode}: ${e.message}`));
        return;
      }
      res.setEncoding('utf8');
      let buf = '', last = 0;
      const on_event = (data, now) => {
        if (data === '[DONE]') return;
        let j;
        try { j = JSON.parse(data); } catch { return finish(`bad SSE data: ${data.slice(0, 200)}`); }
        if (j.error) return finish(`error event: ${JSON.stringify(j.error).slice(0, 300)}`);
        if (j.usage) {
          if (Number.isInteger(j.usage.completion_tokens)) out.output_tokens = j.usage.completion_tokens;
          if (Number.isInteger(j.usage.prompt_tokens)) out.prompt_tokens = j.usage.prompt_tokens;
        }
        const c = j.choices && j.choices[0];
        if (!c) return;
        const text = chat ? (c.delta && c.delta.content) : c.text;
        if (!text) return;
        if (out.n_chunks === 0) out.ttft = now - out.start;
        else out.itl.push(now - last);
        last = now;
        out.n_chunks++;
        out.text_len += text.length;
      };
      res.on('data', (d) => {
        const now = performance.now();
        buf += d;
        let k;
        // SSE events end with a blank line; servers use \n\n (normalise \r\n first).
        if (buf.includes('\r')) buf = buf.replace(/\r\n/g, '\n');
        while (!done && (k = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, k);
          buf = buf.slice(k + 2);
          const data = ev.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
          if (data) on_event(data, now);
        }
      });
      res.on('end', () => finish(null));
      res.on('error', (e) => finish(`stream: ${e.message}`));
      res.on('aborted', () => finish('stream aborted'));
    });
    q.on('error', (e) => finish(`request: ${e.message}`));
    q.end(payload);
  });
}

// ---------------------------------------------------------------------------------- the run
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function run(a, reqs, agent) {
  const r = rng(a.seed * 2654435761 + 99991);
  const limit = a.concurrency || reqs.length;
  let in_flight = 0;
  const waiters = [];
  const acquire = () => (in_flight < limit ? (in_flight++, Promise.resolve())
    : new Promise((res) => waiters.push(res)));
  const release = () => { const w = waiters.shift(); if (w) w(); else in_flight--; };
  const t0 = performance.now();
  const tasks = [];
  let next_arrival = 0;
  for (const req of reqs) {
    if (a['request-rate'] !== Infinity) {
      // Poisson process: exponential gaps with mean 1/rate, on an absolute schedule.
      next_arrival += -Math.log(1 - r()) / a['request-rate'] * 1000;
      const wait = t0 + next_arrival - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await acquire();
    tasks.push(send(a, req, agent).finally(release));
  }
  const results = await Promise.all(tasks);
  return { results, duration_s: (performance.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------- statistics
function mean(x) { return x.length ? x.reduce((s, v) => s + v, 0) / x.length : 0; }
function std(x) { const m = mean(x); return x.length ? Math.sqrt(mean(x.map((v) => (v - m) ** 2))) : 0; }
// numpy.percentile's default (linear interpolation between closest ranks).
function percentile(x, p) {
  if (!x.length) return 0;
  const s = [...x].sort((u, v) => u - v);
  const h = (s.length - 1) * p / 100, lo = Math.floor(h), hi = Math.ceil(h);
  return s[lo] + (s[hi] - s[lo]) * (h - lo);
}
function summary(x) { return { mean: mean(x), median: percentile(x, 50), p99: percentile(x, 99), std: std(x) }; }

function metrics(a, results, duration_s) {
  const ok = results.filter((r) => r.success);
  const ttft = ok.map((r) => r.ttft), e2el = ok.map((r) => r.e2el), itl = ok.flatMap((r) => r.itl);
  const tpot = ok.filter((r) => r.output_tokens > 1).map((r) => (r.e2el - r.ttft) / (r.output_tokens - 1));
  const total_input = ok.reduce((s, r) => s + (r.prompt_tokens ?? r.input_len), 0);
  const total_output = ok.reduce((s, r) => s + r.output_tokens, 0);
  const expected_output = ok.reduce((s, r) => s + r.expected_output_len, 0);
  return {
    label: a.label, base_url: a['base-url'], endpoint: a.endpoint, num_prompts: results.length,
    concurrency: a.concurrency, request_rate: a['request-rate'] === Infinity ? 'inf' : a['request-rate'],
    input_len: a['input-len'], output_len: a['output-len'], range_ratio: a['range-ratio'], seed: a.seed,
    completed: ok.length, failed: results.length - ok.length, duration_s,
    total_input_tokens: total_input, total_output_tokens: total_output,
    expected_output_tokens: expected_output,
    usage_reported: ok.every((r) => r.prompt_tokens !== null),
    short_outputs: ok.filter((r) => r.output_tokens !== r.expected_output_len).length,
    request_throughput: ok.length / duration_s,
    output_throughput: total_output / duration_s,
    total_token_throughput: (total_input + total_output) / duration_s,
    ttft_ms: summary(ttft), tpot_ms: summary(tpot), itl_ms: summary(itl), e2el_ms: summary(e2el),
    long_every: a['long-every'], long_input_len: a['long-input-len'],
    ttft_short_ms: summary(ok.filter((r) => !r.long).map((r) => r.ttft)),
    ttft_long_ms: summary(ok.filter((r) => r.long).map((r) => r.ttft)),
    errors: [...new Set(results.filter((r) => !r.success).map((r) => r.error))].slice(0, 5),
  };
}

function print_table(m) {
  const row = (k, v) => console.log(k.padEnd(41) + String(v));
  const f2 = (v) => v.toFixed(2);
  const title = (t, ch = '-') => {
    const w = 50 - t.length - 2;
    console.log(ch.repeat(Math.floor(w / 2)) + ` ${t} ` + ch.repeat(Math.ceil(w / 2)));
  };
  title(`Serving Benchmark Result${m.label ? ` (${m.label})` : ''}`, '=');
  row('Successful requests:', m.completed);
  if (m.failed) row('Failed requests:', m.failed);
  row('Maximum request concurrency:', m.concurrency ?? 'none');
  row('Request rate (req/s):', m.request_rate);
  row('Benchmark duration (s):', f2(m.duration_s));
  row(`Total input tokens${m.usage_reported ? '' : ' (drawn)'}:`, m.total_input_tokens);
  row('Total generated tokens:', m.total_output_tokens);
  row('Request throughput (req/s):', f2(m.request_throughput));
  row('Output token throughput (tok/s):', f2(m.output_throughput));
  row('Total Token throughput (tok/s):', f2(m.total_token_throughput));
  for (const [name, key, head] of [
    ['TTFT', 'ttft_ms', 'Time to First Token'], ['TPOT', 'tpot_ms', 'Time per Output Token (excl. 1st token)'],
    ['ITL', 'itl_ms', 'Inter-token Latency'], ['E2EL', 'e2el_ms', 'End-to-end Latency']]) {
    title(head);
    row(`Mean ${name} (ms):`, f2(m[key].mean));
    row(`Median ${name} (ms):`, f2(m[key].median));
    row(`P99 ${name} (ms):`, f2(m[key].p99));
  }
  if (m.long_every > 0) {
    title(`Mixed: every ${m.long_every}th prompt ${m.long_input_len} tokens`);
    row('Median / P99 TTFT, short prompts (ms):', `${f2(m.ttft_short_ms.median)} / ${f2(m.ttft_short_ms.p99)}`);
    row('Median / P99 TTFT, long prompts (ms):', `${f2(m.ttft_long_ms.median)} / ${f2(m.ttft_long_ms.p99)}`);
  }
  console.log('='.repeat(50));
  if (m.short_outputs) {
    console.log(`note: ${m.short_outputs} request(s) generated a number of tokens other than max_tokens ` +
      `(${m.total_output_tokens} generated, ${m.expected_output_tokens} asked)`);
  }
  for (const e of m.errors) console.log(`error: ${e}`);
}

// ---------------------------------------------------------------------------------- main
async function main() {
  const a = parse_args(process.argv.slice(2));
  const reqs = make_requests(a);
  const lib = new URL(a['base-url']).protocol === 'https:' ? https : http;
  // One connection per request, as benchmark_serving.py does (a session per request): reusing
  // kept-alive sockets races with servers that close them after a stream (llama-server's
  // cpp-httplib), which shows up as "socket hang up" on the next request.
  const agent = new lib.Agent({ keepAlive: false, maxSockets: Infinity });
  if (a.warmup > 0) {
    // Warm-up requests (not counted): pages in the weights, starts the threads. Their prompt is
    // drawn from another seed, so they prime no prefix cache for the measured requests.
    const w = make_requests({ ...a, seed: a.seed + 1000003, 'num-prompts': a.warmup, 'input-len': 16, 'output-len': 4, 'range-ratio': 0 });
    for (const req of w) {
      const r = await send(a, req, agent);
      if (!r.success) die(`warm-up request failed: ${r.error}`);
    }
  }
  const { results, duration_s } = await run(a, reqs, agent);
  agent.destroy();
  const m = metrics(a, results, duration_s);
  print_table(m);
  if (a.json) {
    fs.writeFileSync(a.json, JSON.stringify({
      ...m,
      requests: results.map((r) => ({
        success: r.success, error: r.error || undefined, input_len: r.input_len, long: r.long, prompt_tokens: r.prompt_tokens,
        expected_output_len: r.expected_output_len, output_tokens: r.output_tokens, n_chunks: r.n_chunks,
        ttft_ms: r.ttft, e2el_ms: r.e2el, itl_ms: r.itl,
      })),
    }, null, 1) + '\n');
  }
  process.exit(m.completed > 0 ? 0 : 1);
}

main().catch((e) => { console.error(e); process.exit(1); });
