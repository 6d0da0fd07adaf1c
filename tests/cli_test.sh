#!/usr/bin/env bash
# cli_test.sh — the maas CLI end to end on the embedded default model: show, tokenize, run
# (completion, chat, interactive, seeded sampling, stop strings, logprobs — and the same answer as
# a `maas worker` gives the same request), bench, and the errors for bad input.
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

# jget EXPR: the field EXPR (a JavaScript accessor such as '.choices[0].text') of the JSON on stdin.
jget() {
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    const v = new Function("o", "return o" + process.argv[1])(JSON.parse(s));
    process.stdout.write(typeof v === "string" ? v : JSON.stringify(v)); });' "$1"
}

# Stop strings, as the server applies them: greedy text cut before the first occurrence.
greedy=(--max-tokens 16 --temperature 0 --top-p 1 --top-k -1 --ignore-eos)
full=$("$maas" run "$model" "Hello" "${greedy[@]}" --output json 2>"$tmp/err")
check "run --output json exits 0" test $? -eq 0
text=$(jget '.choices[0].text' <<<"$full")
check "--output json is a completions body" test "$(jget '.object' <<<"$full")" = "text_completion"
check "... of 16 tokens" test "$(jget '.usage.completion_tokens' <<<"$full")" = "16"
stop=$(node -e 'const c = Array.from(process.argv[1]); const k = c.length >> 1; process.stdout.write(c.slice(k, k + 2).join(""))' "$text")
cut=$(node -e 'const [t, s] = process.argv.slice(1); process.stdout.write(t.slice(0, t.indexOf(s)))' "$text" "$stop")
check "a stop string was picked from the text" test -n "$stop"
stopped=$("$maas" run "$model" "Hello" "${greedy[@]}" --stop="$stop" --output json 2>/dev/null)
check "--stop ends the text before the stop string" test "$(jget '.choices[0].text' <<<"$stopped")" = "$cut"
check "... with finish_reason stop" test "$(jget '.choices[0].finish_reason' <<<"$stopped")" = "stop"
out=$("$maas" run "$model" "Hello" "${greedy[@]}" --stop="$stop" 2>/dev/null)
check "--stop in the streamed text too" test "$out" = "Hello$cut"

# Logprobs: printed after the text (stderr), one line per generated token with its alternatives.
out=$("$maas" run "$model" "Hello" --max-tokens 5 --temperature 0 --logprobs 2 2>"$tmp/err")
check "--logprobs prints a table" contains "$(cat "$tmp/err")" "logprobs (token, logprob, top alternatives):"
check "... one line per token" test "$(grep -cE $'\t-?[0-9.]+\t' "$tmp/err")" -eq 5

# The same request to `maas worker` gets the same answer: text, logprobs, finish, usage; for chat
# too, with a --chat-template file in place of the model's (the bare content: "Hello world" is 2 tokens).
printf '%s' '{{ messages[0].content }}' >"$tmp/content.jinja"
env -u MAAS_API_KEY "$maas" worker --model "$model" --port 0 --threads 2 --chat-template "$tmp/content.jinja" \
  >"$tmp/worker.out" 2>"$tmp/worker.err" &
wpid=$!
url=""
for _ in $(seq 1 600); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$tmp/worker.out" | head -n 1)
  [ -n "$url" ] && curl -sf "$url/health/ready" >/dev/null && break
  sleep 0.1
done
check "the worker is ready" curl -sf "$url/health/ready" -o /dev/null
body=$(node -e 'process.stdout.write(JSON.stringify({prompt: "Hello", max_tokens: 8, temperature: 0, top_p: 1, top_k: -1,
  seed: 3, logprobs: 2, stop: [process.argv[1]]}))' "$stop")
served=$(curl -sf "$url/v1/completions" -H 'content-type: application/json' -d "$body")
chat_body='{"messages": [{"role": "user", "content": "Hello world"}], "max_tokens": 6, "temperature": 0, "top_p": 1,
  "top_k": -1, "logprobs": true, "top_logprobs": 2}'
served_chat=$(curl -sf "$url/v1/chat/completions" -H 'content-type: application/json' -d "$chat_body")
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
check "the worker renders chats with --chat-template" test "$(jget '.usage.prompt_tokens' <<<"$served_chat")" = "2"
ran_chat=$("$maas" run "$model" "Hello world" --chat --chat-template "$tmp/content.jinja" --max-tokens 6 --temperature 0 \
           --top-p 1 --top-k -1 --logprobs 2 --threads 2 --output json 2>/dev/null)
check "run --chat and worker: same choices" test "$(jget '.choices' <<<"$ran_chat")" = "$(jget '.choices' <<<"$served_chat")"
check "run --chat and worker: same usage" test "$(jget '.usage' <<<"$ran_chat")" = "$(jget '.usage' <<<"$served_chat")"
ran=$("$maas" run "$model" "Hello" --max-tokens 8 --temperature 0 --top-p 1 --top-k -1 --seed 3 --logprobs 2 \
      --stop="$stop" --threads 2 --output json 2>/dev/null)
check "the worker answered" test -n "$(jget '.choices[0].logprobs.tokens' <<<"$served")"
check "run and worker: same choices (text, logprobs, finish_reason)" \
  test "$(jget '.choices' <<<"$ran")" = "$(jget '.choices' <<<"$served")"
check "run and worker: same usage" test "$(jget '.usage' <<<"$ran")" = "$(jget '.usage' <<<"$served")"
out=$("$maas" run "$model" "Hello" --max-tokens 8 --temperature 0 --top-p 1 --top-k -1 --stop="$stop" --threads 2 2>/dev/null)
check "run's streamed text is the worker's" test "$out" = "Hello$(jget '.choices[0].text' <<<"$served")"

out=$("$maas" run "$model" "hi" --chat-template llama3 --chat --max-tokens 2 --temperature 0 2>&1)
check "--chat-template with a built-in name" test $? -eq 0
out=$("$maas" run "$model" "hi" --chat-template "$tmp/none.jinja" --chat 2>&1)
check "--chat-template naming no template fails" contains "$out" "--chat-template $tmp/none.jinja"
out=$("$maas" run "$model" "hi" --stop a --stop b --stop c --stop d --stop e 2>&1)
check "more than 4 stop strings is a usage error" test $? -eq 2

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
