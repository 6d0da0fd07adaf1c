#!/usr/bin/env bash
# Runs `maas bench` and llama.cpp's `llama-bench` on the same GGUF files, interleaved, in one
# sitting, and prints both tables. llama.cpp is built by you, outside this repository:
#   LLAMA_BENCH=/path/to/llama-bench bench/compare.sh models/1b-q4_k_m.gguf [more.gguf ...]
# Options via the environment: THREADS (2), REPS (5), PP (512), TG (128), ROUNDS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary built outside the repository}"
THREADS="${THREADS:-2}" REPS="${REPS:-5}" PP="${PP:-512}" TG="${TG:-128}" ROUNDS="${ROUNDS:-2}"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)  threads: $THREADS"
for round in $(seq 1 "$ROUNDS"); do
  for model in "$@"; do
    echo "## round $round: $model"
    build/bin/maas bench --model "$model" -p "$PP" -n "$TG" -r "$REPS" --threads "$THREADS"
    "$LLAMA_BENCH" -m "$model" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" 2>/dev/null
  done
done
