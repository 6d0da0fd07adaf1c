#!/usr/bin/env bash
# Serving benchmark, maas worker beside llama.cpp's llama-server: starts each server in turn on
# the same GGUF file with the same threads, runs bench/bench_serve.mjs against it at each
# concurrency (same workload and seed for both servers), stops it, and prints every table.
# llama-server is built by you, outside this repository:
#   LLAMA_SERVER=/path/to/llama-server bench/serve-compare.sh MODEL.gguf [THREADS=2]
# Options via the environment: IN (128), OUT (64), RANGE_RATIO (0), CONCURRENCIES ("1 4 16"),
# SEED (0), NUM_PROMPTS (default 4*C+4 per concurrency), SEQS (16, both servers' parallel
# sequences), ORDER ("maas llama"), PORT (18080 for maas, PORT+1 for llama-server: once, on one
# port after the other, llama-server failed to bind right after maas stopped), ENDPOINT
# (/v1/completions), OUTDIR (JSON per run, the server logs and maas's /metrics; default a temporary folder that
# is removed), MAAS_BIN (build/bin/maas), MAAS_ARGS (extra `maas worker` flags, e.g.
# "--step-budget-ms 200"), LONG_EVERY / LONG_IN (mixed workload: every LONG_EVERY-th prompt has
# LONG_IN tokens; bench_serve.mjs --long-every / --long-input-len).
# Request seeds differ per concurrency level (SEED + C), so a later level never finds the prompts
# of an earlier one in a server's prefix cache; each server is started once per invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:?usage: LLAMA_SERVER=... bench/serve-compare.sh MODEL.gguf [THREADS]}"
THREADS="${2:-2}"
: "${LLAMA_SERVER:?set LLAMA_SERVER to a llama-server binary built outside the repository}"
IN="${IN:-128}" OUT="${OUT:-64}" RANGE_RATIO="${RANGE_RATIO:-0}" SEED="${SEED:-0}" SEQS="${SEQS:-16}"
CONCURRENCIES="${CONCURRENCIES:-1 4 16}" ORDER="${ORDER:-maas llama}" PORT="${PORT:-18080}"
ENDPOINT="${ENDPOINT:-/v1/completions}"
MAAS_BIN="${MAAS_BIN:-build/bin/maas}" MAAS_ARGS="${MAAS_ARGS:-}" LONG_EVERY="${LONG_EVERY:-0}" LONG_IN="${LONG_IN:-1000}"
KEY="bench-$$"
# llama-server splits -c evenly over its -np slots: each must hold the longest prompt (words may
# tokenize long) plus the longest output, so give each slot twice the nominal in+out plus slack.
LONGEST=$IN; [[ "$LONG_EVERY" -gt 0 && "$LONG_IN" -gt "$IN" ]] && LONGEST=$LONG_IN
CTX=$(( SEQS * (2 * (LONGEST + OUT) + 64) ))

WORK="$(mktemp -d)"
OUTDIR="${OUTDIR:-$WORK}"
mkdir -p "$OUTDIR"
SERVER_PID=""
stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 300); do  # an exited child stays a zombie (kill -0 succeeds) until waited for
      [[ "$(ps -o stat= -p "$SERVER_PID" 2>/dev/null)" =~ ^[^Z] ]] || break
      sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap 'stop_server; rm -rf "$WORK"' EXIT

wait_ready() {  # URL LOG: until 200, the server exits, or 300 s pass
  for _ in $(seq 1 3000); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server exited; log:" >&2; tail -20 "$2" >&2; exit 1; fi
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" == 200 ]] && return 0
    sleep 0.1
  done
  echo "server not ready after 300 s; log:" >&2; tail -20 "$2" >&2; exit 1
}

start_server() {  # maas|llama
  local log="$OUTDIR/$1.log"
  if [[ "$1" == maas ]]; then
    # shellcheck disable=SC2086
    "$MAAS_BIN" worker --model "$MODEL" --port "$PORT" --api-key "$KEY" --threads "$THREADS" \
      --max-num-seqs "$SEQS" $MAAS_ARGS >"$log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$PORT/health/ready" "$log"
  else
    "$LLAMA_SERVER" -m "$MODEL" --host 127.0.0.1 --port "$(( PORT + 1 ))" --api-key "$KEY" -t "$THREADS" \
      -np "$SEQS" -cb -c "$CTX" >"$log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$(( PORT + 1 ))/health" "$log"
  fi
}

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  nproc: $(nproc)"
echo "model: $MODEL  threads: $THREADS  in: $IN  out: $OUT  range-ratio: $RANGE_RATIO  seed: $SEED  seqs: $SEQS  llama-server -c $CTX"
echo "maas: $MAAS_BIN $MAAS_ARGS  long-every: $LONG_EVERY  long-in: $LONG_IN"
for server in $ORDER; do
  start_server "$server"
  port=$PORT; [[ "$server" == maas ]] || port=$(( PORT + 1 ))
  for c in $CONCURRENCIES; do
    n="${NUM_PROMPTS:-$(( 4 * c + 4 ))}"
    echo "## $server  concurrency $c  num-prompts $n"
    node bench/bench_serve.mjs --base-url "http://127.0.0.1:$port" --api-key "$KEY" --endpoint "$ENDPOINT" \
      --num-prompts "$n" --concurrency "$c" --input-len "$IN" --output-len "$OUT" \
      --range-ratio "$RANGE_RATIO" --seed "$(( SEED + c ))" --label "$server c=$c" \
      --long-every "$LONG_EVERY" --long-input-len "$LONG_IN" \
      --json "$OUTDIR/$server-c$c.json" || echo "bench_serve failed for $server c=$c"
  done
  # maas's own view of the run: step-time, tokens-per-step and inter-token-latency histograms.
  [[ "$server" == maas ]] && curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$port/metrics" >"$OUTDIR/maas-metrics.txt" || true
  stop_server
done

# Summary: aggregate output tokens/s per server and concurrency, and the ratios asked for.
node -e '
const fs = require("fs"), [dir, order, cs] = process.argv.slice(1);
const servers = order.split(" "), conc = cs.split(" ").map(Number);
const get = (s, c) => { try { return JSON.parse(fs.readFileSync(`${dir}/${s}-c${c}.json`)); } catch { return null; } };
console.log("\n| concurrency | " + servers.map((s) => `${s} out tok/s | ${s} med TTFT ms | ${s} med TPOT ms | ${s} ITL med / p99 ms`).join(" | ") + " | maas / llama out tok/s |");
console.log("|---:|" + servers.map(() => "---:|---:|---:|---:|").join("") + "---:|");
for (const c of conc) {
  const cells = servers.map((s) => { const m = get(s, c); return m ? [m.output_throughput.toFixed(2), m.ttft_ms.median.toFixed(0), m.tpot_ms.median.toFixed(1), m.itl_ms.median.toFixed(0) + " / " + m.itl_ms.p99.toFixed(0)].join(" | ") : "- | - | - | -"; });
  const a = get("maas", c), b = get("llama", c);
  console.log(`| ${c} | ${cells.join(" | ")} | ${a && b ? (a.output_throughput / b.output_throughput).toFixed(2) : "-"} |`);
}
for (const s of servers) {
  const lo = get(s, conc[0]), hi = get(s, conc[conc.length - 1]);
  if (lo && hi) console.log(`${s}: output tok/s at concurrency ${conc[conc.length - 1]} / at ${conc[0]} = ${(hi.output_throughput / lo.output_throughput).toFixed(2)}`);
}' "$OUTDIR" "$ORDER" "$CONCURRENCIES"
