#!/usr/bin/env bash
# cli_test.sh — the maas CLI end to end on the embedded default model: show, tokenize, run
# (completion, chat, interactive, seeded sampling), bench, and the errors for bad input.
#   cli_test.sh MAAS_BINARY MODEL
set -u
maas="$1"
model="$2"
. "$(dirname "$0")/check_lib.sh"

out=$("$maas" model show "$model" 2>&1)
check "show names the architecture" contains "$out" "llama (GGUF v3"
check "show names the vocabulary" contains "$out" "gpt2, 128256 tokens"
check "show prints the chat template" contains "$out" "start_header_id"
out=$("$maas" model show "$model" --output json)
check "show --output json" contains "$out" '"block_count": 4'

check "tokenize with BOS" test "$("$maas" tokenize --model "$model" --text "Hello world")" = "[128000, 9906, 1917]"
check "tokenize --no-special" test "$("$maas" tokenize --model "$model" --text "Hello world" --no-special)" = "[9906, 1917]"
check "special tokens are text unless asked" test "$("$maas" tokenize --model "$model" --text "<|eot_id|>" --no-special --parse-special)" = "[128009]"

out=$("$maas" run "$model" "Hello" --max-tokens 8 --temperature 0 2>"$tmp/err")
check "run exits 0" test $? -eq 0
check "run echoes the prompt" contains "$out" "Hello"
out2=$("$maas" run "$model" "Hello" --max-tokens 8 --temperature 0 2>/dev/null)
check "greedy is deterministic" test "$out" = "$out2"
a=$("$maas" run "$model" "Once" --max-tokens 12 --temperature 1 --seed 7 2>/dev/null)
b=$("$maas" run "$model" "Once" --max-tokens 12 --temperature 1 --seed 7 2>/dev/null)
c=$("$maas" run "$model" "Once" --max-tokens 12 --temperature 1 --seed 8 2>/dev/null)
check "same seed, same text" test "$a" = "$b"
check "another seed, other text" test "$a" != "$c"
out=$("$maas" run "$model" --chat "Hi there" --max-tokens 6 --seed 1 --verbose 2>"$tmp/err")
check "chat turn exits 0" test $? -eq 0
check "verbose prints speeds" contains "$(cat "$tmp/err")" "tok/s"
out=$(printf 'hello\nhow are you\n' | "$maas" run "$model" --max-tokens 4 --seed 1 2>&1)
check "interactive chat reads stdin" test $? -eq 0

long=$(printf 'word %.0s' $(seq 1 200))
out=$("$maas" run "$model" "$long" --ctx 64 --max-tokens 4 2>&1)
check "prompt longer than context fails" test $? -eq 1
check "... saying so" contains "$out" "the context holds 64"
out=$("$maas" run "$tmp/missing.gguf" "hi" 2>&1)
check "missing model file" contains "$out" "no such file"
echo "not a model" > "$tmp/text.gguf"
out=$("$maas" run "$tmp/text.gguf" "hi" 2>&1)
check "not GGUF" contains "$out" "not a GGUF file"
out=$("$maas" run "$model" "hi" --temperature 5 2>&1)
check "bad option value" test $? -eq 2
out=$("$maas" run "$model" "hi" --frobnicate 2>&1)
check "unknown option" contains "$out" "unknown option --frobnicate"

out=$("$maas" bench --model "$model" -p 32 -n 8 -r 2 --threads 2 2>/dev/null)
check "bench reports pp" contains "$out" "| pp32 |"
check "bench reports tg" contains "$out" "| tg8 |"
out=$("$maas" bench --model "$model" -p 16 -n 4 -r 1 -d 20 --kv-cache-dtype q8_0 --threads 2 --output json 2>&1)
check "bench at a depth" contains "$out" '"test": "tg4 @ d20"'
check "bench on a q8_0 KV cache" contains "$out" '"kv_type": "q8_0"'
out=$("$maas" bench --model "$model" -p 16 -n 0 -r 1 --threads 2 2>&1)
check "bench's KV cache is f16 by default (auto)" contains "$out" "KV cache f16"
out=$("$maas" bench --model "$model" -p 16 -n 4 --kv-cache-dtype f8 2>&1)
check "bench refuses a bad KV type" test $? -eq 2
check "... naming the choices" contains "$out" "expected auto, f32, f16 or q8_0"

finish cli
