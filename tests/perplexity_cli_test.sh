#!/usr/bin/env bash
# perplexity_cli_test.sh — `maas perplexity` and maas-referee end to end on the embedded default
# model: perplexity, saving a base file (llama.cpp's layout, checked by size), comparing a run
# with itself and with the double-precision referee, and the errors for bad input.
#   perplexity_cli_test.sh MAAS_BINARY REFEREE_BINARY MODEL TEXT
set -u
maas="$1"
referee="$2"
model="$3"
text="$4"
. "$(dirname "$0")/check_lib.sh"
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
field() { awk -F: -v k="$2" 'index($0, k) == 1 { split($2, v, " "); print v[1] }' <<<"$1"; }

out=$("$maas" perplexity --model "$model" --file "$text" --ctx 64 --chunks 2 --threads 2 2>"$tmp/err")
check "perplexity exits 0" test $? -eq 0
check "perplexity prints the estimate" contains "$out" "Final estimate: PPL = "
check "perplexity scores 31 tokens a chunk" contains "$out" "(62 tokens)"
check "perplexity shows progress" contains "$(cat "$tmp/err")" "2/2 chunks"

"$maas" perplexity --model "$model" --file "$text" --ctx 64 --chunks 2 --threads 2 --kl-divergence-base "$tmp/self.kld" >/dev/null 2>&1
check "base file saved" test -f "$tmp/self.kld"
# 20 header bytes, 2 x 64 tokens, 2 x 31 records of (128256 + 4) uint16.
check "base file has llama.cpp's size" test "$(stat -c %s "$tmp/self.kld")" -eq $((20 + 4 * 128 + 2 * 62 * 128260))
check "base file has llama.cpp's magic" test "$(head -c 8 "$tmp/self.kld")" = "_logits_"

out=$("$maas" perplexity --model "$model" --kl-divergence-base "$tmp/self.kld" --kl-divergence --threads 2 2>/dev/null)
check "compare with itself exits 0" test $? -eq 0
check "self: top tokens agree" contains "$out" "Same top token      :    100.0000 %"
check "self: KL divergence at the code's resolution" below "$(field "$out" "Mean    KLD")" 1e-6

"$referee" --model "$model" --tokens-from "$tmp/self.kld" --kl-divergence-base "$tmp/exact.kld" >"$tmp/ref.out" 2>&1
check "referee exits 0" test $? -eq 0
check "referee writes the same layout" test "$(stat -c %s "$tmp/exact.kld")" -eq "$(stat -c %s "$tmp/self.kld")"
out=$("$maas" perplexity --model "$model" --kl-divergence-base "$tmp/exact.kld" --kl-divergence --threads 2 2>/dev/null)
check "compare with exact exits 0" test $? -eq 0
check "F16 is within 1e-5 of exact" below "$(field "$out" "Mean    KLD")" 1e-5

"$maas" perplexity --model "$model" --kl-divergence --threads 2 >/dev/null 2>&1
check "--kl-divergence without a base is a usage error" test $? -eq 2
head -c 100 "$tmp/self.kld" >"$tmp/cut.kld"
err=$("$maas" perplexity --model "$model" --kl-divergence-base "$tmp/cut.kld" --kl-divergence 2>&1 >/dev/null)
check "truncated base file is an error" test $? -eq 1
check "truncated base file is explained" contains "$err" "header implies"
"$maas" perplexity --model "$model" --file "$text" --ctx 1000000 >/dev/null 2>&1
check "context longer than the text is a usage error" test $? -eq 2

finish perplexity_cli_test
