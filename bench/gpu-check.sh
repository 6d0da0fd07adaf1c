#!/usr/bin/env bash
# bench/gpu-check.sh — the CUDA device check (issue 12): on a GPU machine, builds the CUDA backend
# for sm_90 only, runs every gpu-labelled test, writes random-weight models of the Llama 3 8B
# shape (4096 embd, 32 blocks, 32 heads, 8 KV heads, 14336 ff, 128,256 vocabulary) in BF16 and
# Q4_0, and times single-stream decode (tg128) and a 512-token prefill (pp512) on each, logging
# everything (nvidia-smi and the card's name included) to ONE file, $OUT/gpu-check.log.
#
#   bench/gpu-check.sh [--dry-run] [--deps DIR] [--out DIR] [--models DIR]
#   bench/gpu-check.sh --prepare-deps DIR     (here, before a device run: see below)
#
# What it builds needs no apt package beyond a C++ compiler, CMake, ninja and the CUDA toolkit
# (with cuBLAS), which the H200 image has: CMake option MAAS_GPU_CHECK_ONLY builds the model
# libraries, the gpu tests and maas-gpu-bench (bench/gpu_bench.cc) only — no Boost, OpenSSL,
# libcurl, SQLite or nlohmann-json. The tests need GoogleTest, which that image lacks: --deps DIR
# holds its sources (DIR/googletest, copied from Debian's /usr/src/googletest by --prepare-deps,
# about 3 MB) and the build compiles them. On the device tool: run
#   bench/gpu-check.sh --prepare-deps gpu-deps        (here; gpu-deps/ is git-ignored)
# then run `bench/gpu-check.sh --deps gpu-deps` with carry ["gpu-deps"], timeout ~540 s.
# Warnings are not errors there (MAAS_WERROR=OFF): that image's compiler is newer than ours.
#
# --dry-run (or DRY_RUN=1): every step on a machine without a GPU — the same CUDA build (sm_90),
# the gpu tests (which report skipped), the tiny preset instead of 8B, and the benchmark on
# --device cpu with fewer tokens.
# Exit status: 0 when every step passed, else 1 (later steps still run after a failed one).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dry=${DRY_RUN:-0}
deps=""
out=${OUT:-$root/gpu-check-out}
models=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1; shift ;;
    --deps) deps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --prepare-deps)
      mkdir -p "$2" && rm -rf "$2/googletest" && cp -r /usr/src/googletest "$2/googletest" &&
        echo "googletest sources copied to $2/googletest ($(du -sh "$2/googletest" | cut -f1))"
      exit $? ;;
    *) echo "usage: bench/gpu-check.sh [--dry-run] [--deps DIR] [--out DIR] [--models DIR] | --prepare-deps DIR" >&2; exit 2 ;;
  esac
done
[ "$dry" = 1 ] && mode=dry-run || mode=device
bdir=$root/build-gpu-check
[ "$dry" = 1 ] && bdir=$root/build-gpu-check-dry
[ -n "$models" ] || models=${TMPDIR:-/tmp}/maas-gpu-models
mkdir -p "$out" "$models"
log=$out/gpu-check.log

main() {
failed=()
t_start=$(date +%s)
step() { echo; echo "=== [$(date -u +%H:%M:%S), +$(( $(date +%s) - t_start )) s] $*"; }
run() {  # run NAME CMD...: logs the command and its status, notes a failure
  local name=$1; shift
  echo "\$ $*"
  "$@"
  local rc=$?
  echo "--- $name: exit $rc"
  [ $rc -eq 0 ] || failed+=("$name (exit $rc)")
  return $rc
}

step "gpu-check ($mode) in $root; log $log"
echo "date: $(date -u)"; uname -a; echo "cores: $(nproc)"; free -g 2>/dev/null | head -2
[ -d .git ] && git log -1 --oneline 2>/dev/null
if command -v nvidia-smi >/dev/null; then
  nvidia-smi
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv
else
  echo "nvidia-smi: not present"
  [ "$dry" = 1 ] || failed+=("nvidia-smi missing")
fi
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
"$nvcc" --version | tail -2; cmake --version | head -1; echo "ninja $(ninja --version)"; c++ --version | head -1
ls /usr/local/cuda/lib64 2>/dev/null | grep -E '^libcublas\.so' | head -3

step "configure (CUDA sm_90, MAAS_GPU_CHECK_ONLY)"
gtest_flag=()
if [ -n "$deps" ]; then
  [ -f "$deps/googletest/CMakeLists.txt" ] || { echo "no googletest sources at $deps/googletest (--prepare-deps)"; return 1; }
  gtest_flag=(-DMAAS_GTEST_SOURCE_DIR="$(cd "$deps/googletest" && pwd)")
fi
run configure cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAAS_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
  -DCMAKE_CUDA_ARCHITECTURES=90 -DMAAS_GPU_CHECK_ONLY=ON -DMAAS_WERROR=OFF "${gtest_flag[@]}" || return 1

step "build"
jobs=$(nproc)
[ "$dry" = 1 ] && jobs=2
run build ninja -C "$bdir" -j "$jobs" cuda_ops_test cuda_attention_test cuda_forward_test maas-gpu-bench || return 1

step "gpu tests (ctest -L gpu)"
(cd "$bdir" && run gpu-tests ctest -L gpu --output-on-failure --timeout 300 -V) || failed+=("gpu-tests")

step "attention timing (cuda_attention_test's performance mode: planned vs simple kernel, Llama 3 8B shape)"
if [ "$dry" = 1 ]; then
  echo "skipped in the dry run (needs a device)"
else
  run attention-perf "$bdir/bin/cuda_attention_test" --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Perf*'
fi

step "models"
if [ "$dry" = 1 ]; then preset=tiny; else preset=8b; fi
for t in bf16 q4_0; do
  f=$models/$preset-$t.gguf
  if [ -f "$f" ]; then echo "$f exists ($(du -h "$f" | cut -f1))"; continue; fi
  run "generate $preset $t" "$bdir/bin/maas-gpu-bench" generate --preset $preset --type $t --out "$f.tmp" && mv "$f.tmp" "$f"
done
ls -la "$models"

step "smoke benchmark"
if [ "$dry" = 1 ]; then bench_args=(--device cpu -p 64 -n 16 -r 1); else bench_args=(--device cuda -p 512 -n 128 -r 3); fi
for t in bf16 q4_0; do
  f=$models/$preset-$t.gguf
  [ -f "$f" ] && run "bench $preset $t" "$bdir/bin/maas-gpu-bench" run --model "$f" "${bench_args[@]}"
done
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total,temperature.gpu,clocks.sm --format=csv

step "summary ($mode, $(( $(date +%s) - t_start )) s)"
grep -E '^\| .* tok/s| seqs x .* planned|tests passed|tests failed|\*\*\*Skipped|\*\*\*Failed|SKIPPED:' "$log" | sed 's/^/  /'
if [ ${#failed[@]} -eq 0 ]; then echo "all steps passed"; return 0; fi
echo "FAILED: ${failed[*]}"
return 1
}

main 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
