#!/usr/bin/env bash
# Model load time and peak resident memory of `maas bench` and llama.cpp's `llama-bench` on the
# same GGUF files, for a short generation (no prompt, TG tokens, one repetition). Every output
# line is time-stamped, and the load phase is read off the log:
#   maas       process start -> the table header, which `maas bench` prints once the model is
#              loaded (mapped, weights re-laid for decode where it does so) and the KV cache
#              allocated
#   llama.cpp  process start -> its last `llama_context` / `llama_init_from_model` line (-v)
# Peak RSS is VmHWM, from `/usr/bin/time -v` when present, else from polling /proc/PID/status;
# file-backed pages of the mapped model count in it. The split into anonymous and file-backed
# memory is the largest of each seen by polling every 50 ms. Each tool runs twice per file: the
# `cached` column says how much of the file was in the page cache before the run. Dropping the
# page cache needs /proc/sys/vm/drop_caches (not writable in a container); COLD=1 instead asks
# the kernel to evict the file (posix_fadvise DONTNEED, `dd iflag=nocache`) before each tool's
# first run, which fails for pages another process still has mapped: the column tells.
#   LLAMA_BENCH=/path/to/llama-bench bench/memory-load.sh models/1b-q8_0.gguf [more.gguf ...]
# Options via the environment: THREADS (2), TG (16), COLD (0), KEEP_LOGS (0: delete the logs).
# Without LLAMA_BENCH only maas is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-2}" TG="${TG:-16}" COLD="${COLD:-0}" KEEP_LOGS="${KEEP_LOGS:-0}"
LLAMA_BENCH="${LLAMA_BENCH:-}"
[[ $# -ge 1 ]] || { echo "usage: [LLAMA_BENCH=...] $0 MODEL.gguf [more.gguf ...]" >&2; exit 2; }
tmp=$(mktemp -d)
if [[ $KEEP_LOGS == 1 ]]; then echo "logs: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

# Prefixes each line of stdin with the seconds since $1 (microseconds since the epoch).
stamp() {
  local t0=$1 line
  while IFS= read -r line; do
    local t=${EPOCHREALTIME/./}
    printf '%d.%06d %s\n' $(((t - t0) / 1000000)) $(((t - t0) % 1000000)) "$line"
  done
}

# Percentage of FILE in the page cache, or ? without fincore.
cached_pct() {
  local res
  res=$(fincore --bytes --noheadings --output RES "$1" 2>/dev/null) || { echo "?"; return; }
  echo "$((100 * res / $(stat -c %s "$1")))%"
}

# run_one LOG CMD... : runs CMD with its output (stdout and stderr, line-buffered) time-stamped
# into LOG; sets wall_s, peak_kb, anon_kb, file_kb, and majflt (page faults that read the disk).
run_one() {
  local log=$1 timer=() pid="" t0 job
  shift
  [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -v -o "$tmp/time")
  rm -f "$tmp/pid" "$tmp/time"
  t0=${EPOCHREALTIME/./}
  # sh writes its own pid, then becomes CMD: the pid to poll whether or not `time` is in front.
  # shellcheck disable=SC2016  # $$ and $@ are for that sh
  "${timer[@]}" stdbuf -oL -eL sh -c 'echo $$ > "$0"; exec "$@"' "$tmp/pid" "$@" 2>&1 | stamp "$t0" > "$log" &
  job=$!
  while [[ -z $pid ]] && kill -0 "$job" 2>/dev/null; do sleep 0.01; pid=$(cat "$tmp/pid" 2>/dev/null || true); done
  local hwm=0 k v _
  anon_kb=0 file_kb=0
  while [[ -n $pid && -r /proc/$pid/status ]]; do
    while read -r k v _; do
      case $k in
        State:) [[ $v == Z ]] && break 2 ;;
        VmHWM:) hwm=$v ;;
        RssAnon:) ((v > anon_kb)) && anon_kb=$v ;;
        RssFile:) ((v > file_kb)) && file_kb=$v ;;
      esac
    done < "/proc/$pid/status" 2>/dev/null || true
    sleep 0.05
  done
  wait
  wall_s=$(awk -v us=$((${EPOCHREALTIME/./} - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
  peak_kb=$hwm majflt="?"
  if [[ -s $tmp/time ]]; then
    peak_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time")
    majflt=$(awk -F': ' '/Major .* page faults/ { print $2 }' "$tmp/time")
  fi
}

# The t/s of the tgN row of a llama-bench-style table in LOG.
tg_rate() { awk -F'|' -v t="tg$TG" '$0 ~ "\\| *" t " *\\|" { split($(NF - 1), a, " "); print a[1]; exit }' "$1"; }

# maas: load ends at the table header. llama.cpp: at its last context-setup log line.
load_s_maas() { awk '$2 == "|" && $3 == "model" { t = $1; exit } END { print t == "" ? "?" : sprintf("%.2f", t) }' "$1"; }
load_s_llama() { awk '$2 ~ /^(llama_context|llama_init_from_model):/ { t = $1 } END { print t == "" ? "?" : sprintf("%.2f", t) }' "$1"; }

# KV cache as printed: llama.cpp with -v, maas bench on its "loaded in ... KV cache N MiB" line.
kv_maas() { grep -oE 'KV cache [0-9.]+ MiB' "$1" | head -1 | grep -oE '[0-9.]+ MiB' || echo "?"; }
kv_llama() { grep -oE 'KV (self|buffer) size *= *[0-9.]+ MiB' "$1" | head -1 | grep -oE '[0-9.]+ MiB' || echo "?"; }

mib() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; }

echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD)  cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "threads: $THREADS  tg: $TG  cold: $COLD  load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| file | size MiB | tool | run | cached | major faults | load s | total s | peak RSS MiB | RSS / file | max anon / file-backed MiB | KV cache | tg$TG t/s |"
echo "| ---- | -------: | ---- | --: | -----: | -----------: | -----: | ------: | -----------: | ---------: | -------------------------: | -------: | --------: |"
for model in "$@"; do
  size=$(stat -c %s "$model")
  tools=(maas)
  [[ -n $LLAMA_BENCH ]] && tools+=(llama.cpp)
  for tool in "${tools[@]}"; do
    for run in 1 2; do
      [[ $COLD == 1 && $run == 1 ]] && dd if="$model" iflag=nocache count=0 status=none
      cached=$(cached_pct "$model")
      log="$tmp/$(basename "$model").$tool.$run.log"
      if [[ $tool == maas ]]; then
        run_one "$log" build/bin/maas bench --model "$model" -p 0 -n "$TG" -r 1 --threads "$THREADS"
        load=$(load_s_maas "$log") kv=$(kv_maas "$log")
      else
        run_one "$log" "$LLAMA_BENCH" -m "$model" -p 0 -n "$TG" -r 1 -t "$THREADS" -v
        load=$(load_s_llama "$log") kv=$(kv_llama "$log")
      fi
      ratio=$(awk -v r="$peak_kb" -v s="$size" 'BEGIN { printf "%.2f", r * 1024 / s }')
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n' "$(basename "$model")" \
        "$(mib $((size / 1024)))" "$tool" "$run" "$cached" "$majflt" "$load" "$wall_s" "$(mib "$peak_kb")" "$ratio" \
        "$(mib "$anon_kb")" "$(mib "$file_kb")" "$kv" "$(tg_rate "$log")"
    done
  done
done
