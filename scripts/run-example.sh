#!/usr/bin/env bash
# Installs what tyboxc needs, builds it, compiles the bundled example model to
# C, builds the generated code and checks its output against torch's.
# usage: scripts/run-example.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
scripts/build.sh "$build"
out="$build/example"
"$build/bin/tyboxc" examples/tiny_cnn.onnx -o "$out" --harness --report
make -s -C "$out"
"$out/model_run" examples/tiny_cnn.in.f32 "$out/tiny_cnn.out.f32"
/usr/bin/python3 - "$out/tiny_cnn.out.f32" examples/tiny_cnn.ref.f32 <<'PY'
import sys
import numpy as np
got, ref = (np.fromfile(p, dtype="<f4") for p in sys.argv[1:3])
err = float(np.max(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
print(f"example: {got.size} outputs, max abs error against torch {err:.3g}")
print("class probabilities:", np.array2string(got, precision=4))
sys.exit(0 if err <= 1e-5 else 1)
PY
