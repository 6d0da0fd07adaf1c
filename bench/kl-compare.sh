#!/usr/bin/env bash
# KL divergence from exact arithmetic, maas beside llama.cpp, on the same GGUF files: for each
# file, maas-referee writes the exact base (double-precision forward pass on the file's own
# dequantized weights), then `maas perplexity --kl-divergence` scores maas under each kernel
# variant and llama.cpp's `llama-perplexity --kl-divergence` scores llama.cpp against the same
# base file. Prints one markdown row per (file, engine). llama.cpp is built by you, outside
# this repository:
#   LLAMA_PERPLEXITY=/path/to/llama-perplexity bench/kl-compare.sh TEXT models/1b-q4_k_m.gguf [more.gguf ...]
# Options via the environment: BUILD (build), CTX (512), CHUNKS (4), THREADS (2),
# VARIANTS ("default avx2 scalar"; "" for none), OUT (a directory for the base files and logs, reused: a base
# already there is not recomputed; a temporary one). LLAMA_PERPLEXITY may name several peers as
# label=path words, e.g. "llama.cpp=/a/llama-perplexity llama.cpp-noamx=/b/llama-perplexity".
# The mean KL divergence is printed with its standard error.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}" CTX="${CTX:-512}" CHUNKS="${CHUNKS:-4}" THREADS="${THREADS:-2}"
VARIANTS="${VARIANTS:-default avx2 scalar}"
text="$1"; shift
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD)  ctx: $CTX  chunks: $CHUNKS (of a new base; an existing base keeps its own)  threads: $THREADS"
echo "| model | engine | mean KLD | median KLD | max KLD | same top | RMS Δp | PPL |"
echo "| ----- | ------ | -------: | ---------: | ------: | -------: | -----: | --: |"
field() { awk -F: -v k="$2" 'index($0, k) == 1 { sub(/^[ \t]+/, "", $2); split($2, v, " "); print v[1] }' "$1"; }
# The value and its standard error: "x +/- e" (maas) or "x ± e" (llama.cpp) become "x ± e".
with_se() { awk -F: -v k="$2" 'index($0, k) == 1 { split($2, v, " "); print v[1] " ± " v[3] }' "$1"; }
for model in "$@"; do
  name=$(basename "$model" .gguf)
  base="$out/$name.exact.kld"
  if [ ! -f "$base" ]; then  # written beside and renamed: a base file here is a finished one
    "$BUILD/bin/maas-referee" --model "$model" --file "$text" --ctx "$CTX" --chunks "$CHUNKS" \
      --kl-divergence-base "$base.part" >"$out/$name.referee.txt" 2>&1
    mv "$base.part" "$base"
  fi
  for v in $VARIANTS; do
    log="$out/$name.maas-$v.txt"
    if [ "$v" = default ]; then env -u MAAS_KERNELS "$BUILD/bin/maas" perplexity --model "$model" --kl-divergence-base "$base" \
      --kl-divergence --threads "$THREADS" >"$log" 2>/dev/null
    else MAAS_KERNELS="$v" "$BUILD/bin/maas" perplexity --model "$model" --kl-divergence-base "$base" --kl-divergence \
      --threads "$THREADS" >"$log" 2>/dev/null; fi
    echo "| $name | maas $v | $(with_se "$log" "Mean    KLD") | $(field "$log" "Median  KLD") | $(field "$log" "Maximum KLD") |" \
         "$(field "$log" "Same top token") % | $(field "$log" "RMS Δp") % | $(field "$log" "PPL(run)") |"
  done
  for peer in ${LLAMA_PERPLEXITY:-}; do
    label=llama.cpp bin="$peer"
    case "$peer" in *=*) label="${peer%%=*}" bin="${peer#*=}" ;; esac
    log="$out/$name.$label.txt"
    "$bin" -m "$model" --kl-divergence-base "$base" --kl-divergence -c "$CTX" -b "$CTX" -t "$THREADS" >"$log" 2>&1
    echo "| $name | $label | $(with_se "$log" "Mean    KLD") | $(field "$log" "Median  KLD") | $(field "$log" "Maximum KLD") |" \
         "$(field "$log" "Same top p") % | $(field "$log" "RMS Δp") % | $(field "$log" "Mean PPL(Q)  ") |"
  done
done
