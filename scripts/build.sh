#!/usr/bin/env bash
# Installs the Debian packages tyboxc needs (a no-op when they are there) and
# builds it into BUILD_DIR (default: build). Used by run-example.sh and test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
