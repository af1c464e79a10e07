#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan, seeds them from the
# test models and .tir files, and runs each for SECONDS (default 60).
# Crashes are written to build-fuzz/crashes/; each one found becomes a
# regression test (test/frontend or test/ir).
# usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build-fuzz
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DTYBOXC_FUZZ=ON "-DCMAKE_C_FLAGS=$flags" >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_onnx fuzz_tir

corpus="$build/corpus"
mkdir -p "$corpus/onnx" "$corpus/tir" "$build/crashes"
cp examples/*.onnx "$corpus/onnx/"
/usr/bin/python3 test/frontend/make_bad_models.py "$corpus/onnx" >/dev/null
find test -name '*.tir' -exec cp {} "$corpus/tir/" \;

for target in onnx tir; do
    echo "fuzz_$target: $seconds s"
    "$build/test/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$build/crashes/$target-" -print_final_stats=1 "$corpus/$target" 2>&1 |
        grep -E '^(stat::number_of_executed_units|stat::new_units_added|==|SUMMARY|artifact)' || true
done
ls "$build/crashes"
