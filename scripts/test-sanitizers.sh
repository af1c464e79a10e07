#!/usr/bin/env bash
# Builds tyboxc with clang-14, AddressSanitizer and UndefinedBehaviorSanitizer
# into BUILD_DIR (default: build-sanitize) and runs the test suite with it.
# The C that tyboxc generates is built with the same sanitizers (the model
# runners append $TYBOXC_TEST_CFLAGS to CFLAGS), so an out-of-bounds access in
# a kernel or in the emitted code fails its test like one in the compiler.
# Any sanitizer report aborts the process (abort_on_error): lit's `not` and
# the runners count a signal as a failure, never as the expected exit 1.
# Run by scripts/test.sh after the plain suite; assumes the packages are in.
# usage: scripts/test-sanitizers.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-sanitize}
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# The node tests cost 3.2x their CPU time here (mostly building every test's
# runtime with the sanitizers), too much for CI next to the plain suite, so
# this run leaves out the tests least likely to find anything the others miss:
# the one-loop unary pointwise ops, and the _example, _expanded and _random
# variants (same kernels, other data). 333 of the 580 runnable tests remain;
# TYBOXC_SANITIZE_ALL_NODE_TESTS=1 runs all of them (docs/robustness.md).
unary="sigmoid|hardsigmoid|hardswish|leakyrelu|tanh|exp|log|sqrt|abs|neg|reciprocal|elu|selu"
unary="$unary|celu|softplus|softsign|thresholdedrelu|erf|floor|ceil|round|sign|sin|cos|tan"
unary="$unary|asin|acos|atan|sinh|cosh|asinh|acosh|atanh|isnan|isinf|not"
filter="^test_(?!($unary)(_|\$))(?!.*_(expanded|example|random)(_|\$))"
[ "${TYBOXC_SANITIZE_ALL_NODE_TESTS:-0}" = 1 ] && filter=""
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_C_FLAGS=$san" "-DTYBOXC_CONFORMANCE_FILTER=$filter" >/dev/null
cmake --build "$build" -j "$(nproc)"

export TYBOXC_TEST_CFLAGS="$san"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=abort_on_error=1:print_stacktrace=1
ulimit -c 0  # aborts must not fill the disk with cores
cd "$build"
# Left out, to keep CI well under its time: cortexm-qemu (cross-compiled code
# under qemu: no host sanitizer applies), the backend-data suites (the node
# tests' kernels again) and e2e-models (3.5 min sanitized; e2e-int8 still
# compiles and runs real torch models with sanitized generated code).
ctest --output-on-failure --timeout 1500 -E '^(cortexm-qemu|onnx-backend-suites|e2e-models)$'
