#!/usr/bin/env bash
# The README's first command: installs dependencies, builds maas, writes the embedded default
# model and runs it, then prints how to use it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
model=$(scripts/default-model.sh)
echo
build/bin/maas model show "$model"
echo
echo "== maas run $model --chat 'Hello!' (random weights: the text is meaningless, every path is real)"
build/bin/maas run "$model" --chat "Hello!" --max-tokens 32 --seed 1 --verbose
cat <<MSG

maas is built. Try:
  build/bin/maas run $model                       # interactive chat
  build/bin/maas run $model "Once upon a time" --max-tokens 64 --temperature 0
  build/bin/maas tokenize --model $model --text "Hello, world"
  build/bin/maas bench --model $model
MSG
