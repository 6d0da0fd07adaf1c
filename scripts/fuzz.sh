#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang + ASan/UBSan and fuzzes the GGUF reader for N seconds.
#   scripts/fuzz.sh [seconds=60]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
cmake --preset fuzz >/dev/null
cmake --build build-fuzz --target gguf_fuzz make_fuzz_seeds -j"$(nproc)"
mkdir -p fuzz/corpus-run
build-fuzz/bin/make_fuzz_seeds fuzz/corpus-run
build-fuzz/bin/gguf_fuzz -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -malloc_limit_mb=64 fuzz/corpus-run
