# check_lib.sh — the checks the CLI test scripts share (sourced): a scratch directory removed on
# exit, pass/fail counters, and `finish NAME`, which prints the tally and fails on any failure.
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check NAME COMMAND...  (command succeeds)
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $name"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
finish() {
  echo "$1: $pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
