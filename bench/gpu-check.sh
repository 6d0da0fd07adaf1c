#!/usr/bin/env bash
# bench/gpu-check.sh — the CUDA device check (issues 12 and 13), one command on a GPU machine:
# builds for sm_90 only, runs every gpu-labelled parity test, writes random-weight Llama 3 8B-shape
# models (4096 embd, 32 blocks, 32 heads, 8 KV heads, 14336 ff, 128,256 vocabulary) in BF16 and
# Q4_0, and measures what issue 13 asks, logging everything (card, commit, date, nvidia-smi) to ONE
# file, $OUT/gpu-check.log, closed by a summary table (bench/gpu_check_summary.py):
#   parity    ctest -L gpu (cuda_ops_test, cuda_attention_test, cuda_forward_test) [issue 12]
#   copybw    the card's copy bandwidth: cudaMemcpy D2D of 2 GiB, GB/s = read + written   [13.1]
#   bf16/q4_0 pp512 and tg128 (maas-gpu-bench run): single-stream decode against the bandwidth
#             limit (weight bytes read per token / copy bandwidth), prefill against the BF16
#             tensor peak (989 TFLOP/s, the FLOP count printed)                    [13.2, 13.4]
#   batch     BF16 decode of B = 1, 16, 64, 256 sequences at context 1024, output tok/s  [13.3]
#   torch     the same-card peer, bench/torch_baseline.py: B = 1, 16, 64, 256 and pp512  [13.5]
#   serve     maas-gpu-worker (`maas worker` alone) --device cuda on the BF16 model, 256 prompts
#             at concurrency 64 (input 128, output 128) by bench/serve_client.py; then one stream
#             on a repetitive prompt (the speculation step's baseline)               [13.6]
#   spec      the same stream with --num-speculative-tokens, when the worker has the flag (else
#             skipped with the reason)                                               [13.7]
#
#   bench/gpu-check.sh [--dry-run] [--deps DIR] [--out DIR] [--models DIR] [--part all|core|serve]
#                      [--budget SECONDS]
#   bench/gpu-check.sh --prepare-deps DIR      (here, before a device run)
#
# On the device tool (docs/cuda.md "The device check"):
#   1. here: `bench/gpu-check.sh --prepare-deps gpu-deps` (gpu-deps/ is git-ignored; ~27 MB);
#   2. device: `bench/gpu-check.sh --deps gpu-deps` with carry ["gpu-deps"] and timeout_s 590.
# --prepare-deps DIR gathers what the GPU image lacks: GoogleTest's sources (DIR/googletest, from
# Debian's /usr/src/googletest), the Boost and nlohmann-json headers as Debian packages
# (DIR/debs, `apt-get download`; unpacked there with `dpkg -x` into the build folder's deps-root,
# a CMake prefix),
# and a Llama 3 tokenizer (DIR/llama3-vocab.gguf, a `maas model generate --preset test` file
# whose tokenizer.* metadata the 8B model gets, so that the worker can serve it; made with
# $MAAS_BIN, default build/bin/maas). It prints each size and the total.
#
# Time: the device lends 15 minutes per session, machine start included, 10 minutes per call.
# --budget (default 540 s) is this script's: every step runs under `timeout`, capped by its own
# box and by what is left of the budget, and a step whose minimum no longer fits is skipped with
# the reason. Steps run in the order of value above. If one call cannot fit everything, split
# it: `--part core` (parity, copybw, bf16, q4_0, batch, torch) in one session and `--part serve`
# (serve, spec; it builds and generates only what they need) in another.
# Warnings are not errors (MAAS_WERROR=OFF): that image's compiler is newer than ours, and
# GoogleTest's sources do not build with -Werror under GCC 12 (-Wrestrict).
#
# --dry-run (or DRY_RUN=1): every step on a machine without a GPU: the same CUDA build (sm_90),
# the gpu tests (which report skipped), the tiny preset instead of 8B, the benchmarks, the
# PyTorch peer and the worker on the CPU, small sizes, no budget.
# Exit status: 0 when every step that ran passed and none was skipped for the budget, else 1
# (later steps still run after a failure; a step skipped for another reason, named in the
# summary, such as speculation before the worker has the flag, does not count).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dry=${DRY_RUN:-0}
deps=""
out=${OUT:-$root/gpu-check-out}
models=""
part=all
budget=""
prepare=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1; shift ;;
    --deps) deps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --part) part=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --prepare-deps) prepare=$2; shift 2 ;;
    *) echo "usage: bench/gpu-check.sh [--dry-run] [--deps DIR] [--out DIR] [--models DIR] [--part all|core|serve] [--budget S] | --prepare-deps DIR" >&2; exit 2 ;;
  esac
done
case "$part" in all|core|serve) ;; *) echo "--part must be all, core or serve" >&2; exit 2 ;; esac

prepare_deps() {  # prepare_deps DIR
  local d=$1 maas=${MAAS_BIN:-$root/build/bin/maas}
  mkdir -p "$d/debs" || return 1
  rm -rf "$d/googletest" && cp -r /usr/src/googletest "$d/googletest" || return 1
  (cd "$d/debs" && rm -f ./*.deb && apt-get download libboost1.81-dev nlohmann-json3-dev) || {
    echo "apt-get download failed (run apt-get update first?)"; return 1; }
  if [ ! -x "$maas" ]; then
    echo "no maas binary at $maas (build it: cmake --preset release && ninja -C build maas; or set MAAS_BIN)"; return 1
  fi
  "$maas" model generate --preset test --type q4_0 --out "$d/llama3-vocab.gguf" || return 1
  # The device's copy of the tree may have no git metadata: the commit travels in DIR.
  git -C "$root" log -1 --format='%h %ci %s' >"$d/commit.txt" 2>/dev/null &&
    { git -C "$root" diff --quiet HEAD 2>/dev/null || echo "(with uncommitted changes)" >>"$d/commit.txt"; }
  du -sh "$d/googletest" "$d/debs"/*.deb "$d/llama3-vocab.gguf"
  echo "total: $(du -sh "$d" | cut -f1) (with the working tree it must stay under the device tool's 64 MiB)"
}
if [ -n "$prepare" ]; then prepare_deps "$prepare"; exit $?; fi

[ "$dry" = 1 ] && mode=dry-run || mode=device
[ -n "$budget" ] || { [ "$dry" = 1 ] && budget=100000 || budget=540; }
bdir=$root/build-gpu-check
[ "$dry" = 1 ] && bdir=$root/build-gpu-check-dry
mkdir -p "$out"
log=$out/gpu-check.log
if [ -z "$models" ]; then  # tmpfs when it holds both 8B files (about 21 GB) with room to spare
  shm_free=$(df -Pk /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')
  if [ "$dry" != 1 ] && [ "${shm_free:-0}" -gt $((30 * 1024 * 1024)) ]; then models=/dev/shm/maas-gpu-models
  else models=${TMPDIR:-/tmp}/maas-gpu-models; fi
fi
mkdir -p "$models"
bench=$bdir/bin/maas-gpu-bench
worker=$bdir/bin/maas-gpu-worker
if [ "$dry" = 1 ]; then
  preset=tiny; dev=cpu; peak=989
  run_args=(-p 64 -n 16 -r 2); batch_args=(--batches 1,4 --ctx 64 -n 4 -r 2)
  torch_args=(--preset tiny --device cpu --batches 1,4 --ctx 64 --steps 4 --runs 2 --prefill 64)
  serve_args=(--num-prompts 8 --concurrency 4 --input-len 32 --output-len 8)
  stream_len=16
else
  preset=8b; dev=cuda; peak=989
  run_args=(-p 512 -n 128 -r 3); batch_args=(--batches 1,16,64,256 --ctx 1024 -n 16 -r 3)
  torch_args=(--preset 8b --device cuda --batches 1,16,64,256 --ctx 1024 --steps 32 --runs 3 --prefill 512)
  serve_args=(--num-prompts 256 --concurrency 64 --input-len 128 --output-len 128)
  stream_len=256
fi
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }  # want core|serve

main() {
t_start=$(date +%s)
results=()   # one line per step: name, outcome, seconds
failed=0
left() { echo $(( budget - ($(date +%s) - t_start) )); }
section() { echo; echo "=== [$(date -u +%H:%M:%S), +$(( $(date +%s) - t_start )) s, $(left) s left] $*"; }
# step NAME BOX MIN CMD...: runs CMD under `timeout` (its box, capped by the budget left less 10 s
# for the summary), or skips it when less than MIN seconds are left.
step() {
  local name=$1 box=$2 min=$3; shift 3
  [ "$dry" = 1 ] && box=$(( box * 20 ))   # the boxes are sized for the 16-core device machine
  local avail=$(( $(left) - 10 ))
  if [ "$avail" -lt "$min" ]; then
    echo "--- $name: SKIPPED (budget: ${avail} s left, needs ${min} s)"
    results+=("$name: SKIPPED for the budget (${avail} s left, needs ${min})"); failed=1; return 1
  fi
  local t=$(( box < avail ? box : avail )) t0=$(date +%s)
  echo "\$ [timeout ${t} s] $*"
  timeout --kill-after=10 "$t" "$@"
  local rc=$? dt=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then results+=("$name: ok (${dt} s)")
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then results+=("$name: TIMED OUT after ${dt} s (box ${t} s)"); failed=1
  else results+=("$name: FAILED, exit $rc (${dt} s)"); failed=1; fi
  echo "--- $name: exit $rc in ${dt} s"
  return $rc
}
# step_fn NAME MIN FUNCTION ARGS...: the same for a shell function that bounds its own time (it
# runs in this shell, so that what it sets, such as the worker's pid, stays).
step_fn() {
  local name=$1 min=$2; shift 2
  local avail=$(( $(left) - 10 ))
  if [ "$avail" -lt "$min" ]; then
    echo "--- $name: SKIPPED (budget: ${avail} s left, needs ${min} s)"
    results+=("$name: SKIPPED for the budget (${avail} s left, needs ${min})"); failed=1; return 1
  fi
  local t0=$(date +%s)
  "$@"
  local rc=$? dt=$(( $(date +%s) - t0 ))
  [ $rc -eq 0 ] && results+=("$name: ok (${dt} s)") || { results+=("$name: FAILED, exit $rc (${dt} s)"); failed=1; }
  echo "--- $name: exit $rc in ${dt} s"
  return $rc
}
skip() { echo "--- $1: SKIPPED ($2)"; results+=("$1: skipped, $2"); }
# need FILE STEP: true when FILE exists, else STEP is recorded as skipped.
need() { [ -f "$1" ] && return 0; skip "$2" "no $1"; return 1; }

# finish: the summary (every step's outcome, the gpu tests' lines, the table); main's status.
finish() {
  section "summary ($mode, part $part, card: $card, $(( $(date +%s) - t_start )) s)"
  echo "commit: ${commit:0:60}; date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  printf '  %s\n' "${results[@]}"
  grep -E ' seqs x .* planned|tests passed|tests failed|\*\*\*Skipped|\*\*\*Failed|SKIPPED:' "$log" | sed 's/^/  /'
  python3 bench/gpu_check_summary.py "$log" --peak-tflops $peak --tg "${run_args[3]}" --pp "${run_args[1]}" \
    --batches "${batch_args[1]}"
  if [ "$failed" = 0 ]; then echo "all steps that ran passed"; return 0; fi
  echo "SOME STEPS FAILED OR WERE SKIPPED FOR THE BUDGET (see above)"
  return 1
}

section "gpu-check ($mode, part $part, budget $budget s) in $root; log $log"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
commit=$(git -C "$root" log -1 --format='%h %ci %s' 2>/dev/null ||
         { [ -n "$deps" ] && cat "$deps/commit.txt" 2>/dev/null | tr '\n' ' ' | sed 's/^/(from --prepare-deps) /'; } ||
         echo 'unknown: no git metadata, no DIR/commit.txt')
echo "commit: $commit"
uname -a; echo "cores: $(nproc)"; free -g 2>/dev/null | head -2
echo "models in $models ($(df -Ph "$models" | awk 'NR==2 {print $4}') free)"
card="none"
if command -v nvidia-smi >/dev/null; then
  card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
  nvidia-smi
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem,clocks.sm,clocks.mem,power.limit --format=csv
else
  echo "nvidia-smi: not present"
  [ "$dry" = 1 ] || failed=1
fi
echo "card: $card"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
"$nvcc" --version | tail -2; cmake --version | head -1; echo "ninja $(ninja --version)"; c++ --version | head -1
torch_py=""
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import torch' 2>/dev/null; then torch_py=$py; break; fi
done
echo "python3: $(python3 --version 2>&1); PyTorch: $([ -n "$torch_py" ] && "$torch_py" -c 'import torch; print(torch.__version__, "via", __import__("sys").executable)' || echo none)"
echo "node: $(command -v node >/dev/null && node --version || echo 'not present (serving uses bench/serve_client.py either way)')"

section "dependencies"
unpack_deb() {  # unpack_deb FILE DIR: dpkg -x, or (an image without dpkg) the ar archive's data.tar.*
  if command -v dpkg >/dev/null; then dpkg -x "$1" "$2"; return; fi
  python3 - "$1" "$2" <<'EOF'
import io, sys, tarfile
with open(sys.argv[1], "rb") as f:
    data = f.read()
assert data[:8] == b"!<arch>\n", "not an ar archive"
pos = 8
while pos + 60 <= len(data):
    name, size = data[pos:pos + 16].decode().strip().rstrip("/"), int(data[pos + 48:pos + 58])
    if name.startswith("data.tar"):
        kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}  # as dpkg -x
        tarfile.open(fileobj=io.BytesIO(data[pos + 60:pos + 60 + size])).extractall(sys.argv[2], **kw)
        sys.exit(0)
    pos += 60 + size + (size & 1)
sys.exit("no data.tar in " + sys.argv[1])
EOF
}
gtest_flag=() prefix_flag=() worker_flag=(-DMAAS_GPU_CHECK_WORKER=OFF)
if [ -n "$deps" ]; then
  deps=$(cd "$deps" && pwd)
  [ -f "$deps/googletest/CMakeLists.txt" ] && gtest_flag=(-DMAAS_GTEST_SOURCE_DIR="$deps/googletest") ||
    echo "no googletest sources at $deps/googletest (--prepare-deps): using an installed GTest"
  if want serve && ls "$deps"/debs/*.deb >/dev/null 2>&1; then
    pkgroot=$bdir/deps-root   # in the build folder, never in DIR: DIR travels to the device
    [ -d "$pkgroot/usr/include/boost" ] ||
      { mkdir -p "$pkgroot" && for f in "$deps"/debs/*.deb; do unpack_deb "$f" "$pkgroot" || echo "unpacking $f failed"; done; }
    prefix_flag=(-DCMAKE_PREFIX_PATH="$pkgroot/usr")
    echo "unpacked $(ls "$deps"/debs/*.deb | wc -l) packages into $pkgroot ($(du -sh "$pkgroot" | cut -f1))"
  fi
fi
vocab=""
[ -n "$deps" ] && [ -f "$deps/llama3-vocab.gguf" ] && vocab=$deps/llama3-vocab.gguf
if want serve; then
  if [ -n "$prefix_flag" ] || { [ "$dry" = 1 ] && [ -d /usr/include/boost ]; }; then worker_flag=(-DMAAS_GPU_CHECK_WORKER=ON)
  else echo "no Boost / nlohmann-json headers carried (--deps DIR from --prepare-deps): the serving steps will be skipped"; fi
fi

section "configure (CUDA sm_90, MAAS_GPU_CHECK_ONLY, ${worker_flag[0]#-D})"
cfg=(cmake -S . -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMAAS_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc"
  -DCMAKE_CUDA_ARCHITECTURES=90 -DMAAS_GPU_CHECK_ONLY=ON -DMAAS_WERROR=OFF
  "${gtest_flag[@]}" "${prefix_flag[@]}")
if ! step configure 120 20 "${cfg[@]}" "${worker_flag[@]}"; then
  if [ "${worker_flag[0]}" = -DMAAS_GPU_CHECK_WORKER=ON ]; then
    echo "configure with the worker failed: again without it (the serving steps will be skipped)"
    worker_flag=(-DMAAS_GPU_CHECK_WORKER=OFF)
    step configure-core 120 20 "${cfg[@]}" "${worker_flag[@]}" || { failed=1; finish; return 1; }
  else
    failed=1; finish; return 1
  fi
fi

section "build"
jobs=$(nproc)
targets=(maas-gpu-bench)
want core && targets+=(cuda_ops_test cuda_attention_test cuda_forward_test maas-matvec-bench)
step build 300 60 ninja -C "$bdir" -j "$jobs" "${targets[@]}" || { failed=1; finish; return 1; }
if [ "${worker_flag[0]}" = -DMAAS_GPU_CHECK_WORKER=ON ]; then
  step build-worker 240 60 ninja -C "$bdir" -j "$jobs" maas-gpu-worker
fi

if want core; then
  section "parity: gpu tests (ctest -L gpu)  [issue 12]"
  step gpu-tests 150 30 ctest --test-dir "$bdir" -L gpu --output-on-failure --timeout 140 -V
  section "attention timing: planned (split decode, tiled prefill) vs simple kernel, Llama 3 8B shape  [13.2]"
  if [ "$dry" = 1 ]; then
    skip attention-perf "dry run: no device"
  else
    step attention-perf 90 20 "$bdir/bin/cuda_attention_test" --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_Perf*'
  fi
fi

section "models ($preset)"
tok=""
[ -n "$vocab" ] && tok=-llama3tok   # the file names say whether the model carries a tokenizer
gen() {  # gen TYPE
  local f=$models/$preset-$1$tok.gguf vflag=()
  [ -n "$vocab" ] && vflag=(--vocab-gguf "$vocab")
  if [ -f "$f" ]; then echo "$f exists ($(du -h "$f" | cut -f1))"; return 0; fi
  step "generate $preset $1" 180 20 "$bench" generate --preset $preset --type "$1" "${vflag[@]}" --out "$f.tmp" && mv "$f.tmp" "$f"
}
gen bf16
want core && gen q4_0
ls -la "$models"
bf16=$models/$preset-bf16$tok.gguf q4=$models/$preset-q4_0$tok.gguf

section "copy bandwidth  [13.1]"
copy_gbps=""
if [ "$dry" = 1 ]; then
  skip copybw "dry run: no device"
else
  step copybw 60 10 "$bench" copybw --gib 2 -r 20 >"$out/copybw.txt" 2>&1
  cat "$out/copybw.txt"
  copy_gbps=$(awk '/^RESULT copy_gbps/ {print $3}' "$out/copybw.txt")
fi
[ -n "$copy_gbps" ] || copy_gbps=4213   # issue 13's H200 figure when none was measured (dry run: CPU numbers anyway)
echo "bandwidth limit computed at $copy_gbps GB/s"

if want core; then
  section "decode mat-vec bandwidth per type and token count (maas-matvec-bench)  [13.1]"
  if [ "$dry" = 1 ]; then
    skip matvec-bench "dry run: no device"
  else
    step matvec-bench 60 10 "$bdir/bin/maas-matvec-bench"
  fi
  section "single stream and prefill: BF16  [13.2, 13.4]"
  need "$bf16" "bf16 pp512 tg128" && step "bf16 pp512 tg128" 150 40 "$bench" run --model "$bf16" --device $dev "${run_args[@]}" \
    --tag bf16 --copy-gbps "$copy_gbps" --peak-tflops $peak
  # A/B of the decode loop: the same tg run with every kernel launched eagerly (no CUDA graphs).
  need "$bf16" "bf16 tg128 graphs off" && step "bf16 tg128 graphs off" 90 20 "$bench" run --model "$bf16" --device $dev \
    "${run_args[@]}" -p 0 --cuda-graphs off --tag bf16-eager --copy-gbps "$copy_gbps" --peak-tflops $peak
  section "single stream and prefill: Q4_0  [13.2, 13.4]"
  need "$q4" "q4_0 pp512 tg128" && step "q4_0 pp512 tg128" 120 30 "$bench" run --model "$q4" --device $dev "${run_args[@]}" \
    --tag q4_0 --copy-gbps "$copy_gbps" --peak-tflops $peak
  section "batched decode at context 1024: BF16  [13.3]"
  need "$bf16" "bf16 batched decode" && step "bf16 batched decode" 180 40 "$bench" batch --model "$bf16" --device $dev "${batch_args[@]}" \
    --tag bf16 --copy-gbps "$copy_gbps"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total,temperature.gpu,clocks.sm,clocks.mem,power.draw --format=csv
  section "PyTorch peer on the same card  [13.5]"
  if [ -n "$torch_py" ]; then
    step "torch baseline" 180 40 env PYTHONUNBUFFERED=1 "$torch_py" bench/torch_baseline.py "${torch_args[@]}" --json "$out/torch.json"
  else
    skip "torch baseline" "no python3 with torch"
  fi
fi

if want serve; then
  section "serving at concurrency 64, and one stream on a repetitive prompt  [13.6]"
  port=18431
  base=http://127.0.0.1:$port
  # A repetitive prompt: one sentence 24 times (n-gram lookup finds every continuation in it).
  rep_prompt=$(python3 -c 'print(" ".join(["The quick brown fox jumps over the lazy dog near the river bank."] * 24))')
  start_worker() {  # start_worker LOGFILE EXTRA_FLAGS...: the worker in the background; waits until
    local wlog=$1; shift   # it is ready, at most 120 s
    "$worker" --model "$bf16" --device $dev --host 127.0.0.1 --port $port --max-num-seqs 64 "$@" >"$wlog" 2>&1 &
    wpid=$!
    python3 - "$base" "$wpid" <<'EOF'
import os, sys, time, urllib.request
for _ in range(480):
    try:
        if urllib.request.urlopen(sys.argv[1] + "/health/ready", timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(int(sys.argv[2]), 0)
    except OSError:
        sys.exit("the worker exited before it was ready")
    time.sleep(0.2)
sys.exit("the worker was not ready in time")
EOF
  }
  stop_worker() {  # stop_worker LOGFILE: SIGTERM, a few lines of its log and metrics
    python3 -c 'import sys, urllib.request; print("".join(l for l in urllib.request.urlopen(sys.argv[1] + "/metrics", timeout=5).read().decode().splitlines(True) if l.startswith(("maas:device_memory", "maas:step_time", "maas:spec", "maas:generation_tokens", "maas:num_preemptions"))))' "$base" 2>/dev/null | head -40
    kill "$wpid" 2>/dev/null   # SIGTERM drains; nothing runs now, so it exits at once
    for _ in $(seq 50); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$wpid" 2>/dev/null && { echo "worker still up 10 s after SIGTERM: SIGKILL"; kill -9 "$wpid"; }
    wait "$wpid" 2>/dev/null
    echo "worker log (last lines):"; tail -n 15 "$1"
  }
  if [ ! -x "$worker" ]; then skip serve "no maas-gpu-worker (its build was skipped or failed)"
  elif [ -z "$vocab" ]; then skip serve "the model has no tokenizer (--deps DIR with llama3-vocab.gguf)"
  elif [ ! -f "$bf16" ]; then skip serve "no BF16 model"
  else
    wpid=""
    if step_fn "worker start" 40 start_worker "$out/worker.log"; then
      step "serve c64" 150 40 python3 bench/serve_client.py --base-url "$base" "${serve_args[@]}" --tag serve \
        --label "c64 maas $dev" --json "$out/serve.json"
      step "plain stream" 90 20 python3 bench/serve_client.py --base-url "$base" --num-prompts 2 --concurrency 1 \
        --output-len $stream_len --warmup 0 --prompt "$rep_prompt" --tag plain1 --label "1 stream, repetitive prompt, no speculation"
    else
      tail -n 30 "$out/worker.log"
    fi
    [ -n "$wpid" ] && stop_worker "$out/worker.log"
  fi

  section "speculation on the repetitive prompt  [13.7]"
  spec_flags=(--num-speculative-tokens 4 --ngram-prompt-lookup-max 4 --ngram-prompt-lookup-min 2)
  if [ ! -x "$worker" ] || [ -z "$vocab" ] || [ ! -f "$bf16" ]; then
    skip spec "no worker or model (see serve)"
  elif help=$("$worker" --help 2>&1); probe=$("$worker" --num-speculative-tokens 1 2>&1)
       [[ "$help" != *--num-speculative-tokens* && "$probe" == *"unknown option --num-speculative-tokens"* ]]; then
    echo "\$ maas-gpu-worker --help: ${help:0:200}"; echo "\$ maas-gpu-worker --num-speculative-tokens 1: ${probe:0:200}"
    skip spec "maas-gpu-worker has no --num-speculative-tokens (speculative decoding not merged yet)"
  else
    wpid=""
    if step_fn "spec worker start" 40 start_worker "$out/worker-spec.log" "${spec_flags[@]}"; then
      step "spec stream" 120 30 python3 bench/serve_client.py --base-url "$base" --num-prompts 2 --concurrency 1 \
        --output-len $stream_len --warmup 0 --prompt "$rep_prompt" --tag spec --label "1 stream, repetitive prompt, ${spec_flags[*]}"
    else
      tail -n 30 "$out/worker-spec.log"
    fi
    [ -n "$wpid" ] && stop_worker "$out/worker-spec.log"
  fi
fi

finish
}

main 2>&1 | tee "$log"
exit "${PIPESTATUS[0]}"
