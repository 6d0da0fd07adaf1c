#!/usr/bin/env bash
# Writes the benchmark models: the Llama 3.2 1B shape (2048 embd, 16 blocks, 32 heads, 8 KV heads,
# 8192 ff, 128,256-token Llama 3 vocabulary) with random weights, in F16, Q8_0, Q4_0 and Q4_K_M.
#   bench/make-models.sh [outdir=models]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-models}"
mkdir -p "$out"
for t in f16 q8_0 q4_0 q4_k_m; do
  f="$out/1b-$t.gguf"
  [ -f "$f" ] || build/bin/maas model generate --preset 1b --type "$t" --out "$f"
done
ls -la "$out"/1b-*.gguf
