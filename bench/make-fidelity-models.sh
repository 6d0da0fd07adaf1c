#!/usr/bin/env bash
# Writes the 1B-shape fidelity models (issue 16): the Llama 3.2 1B shape (2048 embd, 16 blocks,
# 32 heads, 8 KV heads, 8192 ff, 128,256-token Llama 3 vocabulary) with random weights in F16,
# then quantized to Q8_0, Q6_K, Q4_K_M and Q4_0 by llama.cpp's quantizer, so that both engines
# read the same files with llama.cpp's own type mixes. The benchmark models (make-models.sh) are
# chaotic at this depth: their residual scale 4 and query/key scale 2 (attention scores with a
# standard deviation of about 4, a near-argmax softmax) amplify any rounding through the 16
# blocks until quantized and exact distributions are unrelated (KL 1.5-3), so KL divergence from
# exact is noise there. These use smaller scales, and a separate output matrix: with the
# embedding tied to the output and small residual updates, each position just predicts its own
# input token (a tied out-scale-1 model: KL 5e-7 for Q8_0, every top token the same).
# llama.cpp is built by you, outside this repository:
#   LLAMA_QUANTIZE=/path/to/llama-quantize bench/make-fidelity-models.sh [outdir=models/fidelity]
# Options via the environment: OUT_SCALE (2), QK_SCALE (1), SEED (42),
# TYPES ("q8_0 q6_k q4_k_m q4_0").
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-models/fidelity}" OUT_SCALE="${OUT_SCALE:-2}" QK_SCALE="${QK_SCALE:-1}" SEED="${SEED:-42}"
TYPES="${TYPES:-q8_0 q6_k q4_k_m q4_0}"
mkdir -p "$out"
f16="$out/1b-f16.gguf"
[ -f "$f16" ] || build/bin/maas model generate --preset 1b --type f16 --untied --out-scale "$OUT_SCALE" \
  --qk-scale "$QK_SCALE" --seed "$SEED" --name "maas-1b-fidelity" --out "$f16"
for t in $TYPES; do
  f="$out/1b-$t.gguf"
  [ -f "$f" ] || { "${LLAMA_QUANTIZE:?set LLAMA_QUANTIZE to a llama-quantize binary}" "$f16" "$f.part" "${t^^}" \
                     >"$out/1b-$t.quantize.txt" 2>&1 && mv "$f.part" "$f"; }
done
ls -la "$out"/1b-*.gguf
