#!/usr/bin/env bash
# Configures and builds maas (Release, Ninja) into build/; the CLI lands at build/bin/maas.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset release >/dev/null
cmake --build build -j"$(nproc)"
