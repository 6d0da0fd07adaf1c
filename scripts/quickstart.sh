#!/usr/bin/env bash
# The README's first command: installs dependencies, builds maas, writes the embedded default
# model, and starts the inference server on it (http://127.0.0.1:8080, or PORT=...), printing
# how to call it. Ctrl-C stops the server (it drains first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
model=$(scripts/default-model.sh)
port="${PORT:-8080}"
key="${MAAS_API_KEY:-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
cat <<MSG

maas is built; the embedded default model is $model
(a small Llama 3 architecture model with random weights: its text is meaningless, every path is real).

Starting the inference server on http://127.0.0.1:$port with API key: $key

  curl http://127.0.0.1:$port/v1/chat/completions \\
    -H "Authorization: Bearer $key" -H "Content-Type: application/json" \\
    -d '{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":32}'

  # or any OpenAI client: base_url=http://127.0.0.1:$port/v1, api_key=$key
  # Azure AI Model Inference clients: endpoint http://127.0.0.1:$port, header api-key: $key
  # in the terminal: build/bin/maas run $model    (interactive chat)

MSG
exec build/bin/maas worker --model "$model" --host 127.0.0.1 --port "$port" --api-key "$key"
