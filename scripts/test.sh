#!/usr/bin/env bash
# Builds tyboxc and runs the whole test suite (ctest: unit programs, lit +
# FileCheck, ONNX node tests, torch-exported models), then runs it again on a
# second build with ASan and UBSan, generated code included
# (scripts/test-sanitizers.sh). Installs the Debian packages it needs first
# (a no-op when they are there).
# usage: scripts/test.sh [BUILD_DIR]   (default: build; the sanitizer build
#        goes to BUILD_DIR-sanitize)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/build.sh "$build"
(cd "$build" && ctest --output-on-failure --timeout 1500)
scripts/test-sanitizers.sh "$build-sanitize"
