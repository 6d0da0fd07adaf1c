#!/usr/bin/env bash
# The README's first command: installs dependencies, builds maas, writes the embedded default
# model, and starts the platform (`maas serve`: management API, inference gateway, supervised
# workers) on http://127.0.0.1:8080 (or PORT=...) with its data in ./maas-data (or
# MAAS_DATA_DIR=...). The first start creates an administrator token, the workspace "default"
# and the serverless endpoint "default" on the embedded model, and prints its URL, key and a
# curl line. Ctrl-C stops it (requests in flight finish first).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
model=$(scripts/default-model.sh)
port="${PORT:-8080}"
data="${MAAS_DATA_DIR:-maas-data}"
cat <<MSG

maas is built; the embedded default model is $model
(a small Llama 3 architecture model with random weights: its text is meaningless, every path is real).
Starting the platform with its data in $data ...
MSG
exec build/bin/maas serve --data-dir "$data" --host 127.0.0.1 --port "$port" --default-model "$model"
