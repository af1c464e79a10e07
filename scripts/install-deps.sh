#!/bin/sh
# Install the Debian 12 packages tyboxc needs to build and test.
#
# usage: scripts/install-deps.sh
#
# Build: C compiler, make, CMake, protobuf-c (the ONNX loader is generated
# from libonnx-dev's onnx.proto), llvm-14-tools (FileCheck/lit for the lit
# tests) and clang. Sanitizer build and fuzzers (scripts/test-sanitizers.sh,
# scripts/fuzz.sh): clang-14 and libclang-rt-14-dev (ASan, UBSan, libFuzzer
# runtimes). Tests: python3-onnx/numpy/torch/torchvision to make models
# and reference outputs, matplotlib for plots, and the Fashion-MNIST data set.
# Cortex-M: the arm-none-eabi cross compiler with newlib, and qemu-system-arm
# to run the bare-metal builds (test cortexm-qemu, scripts/cortexm_size.py).
# The Python tools run with /usr/bin/python3.
#
# When every package is already installed nothing is done (no apt-get update),
# so re-running is fast. Runs apt-get directly as root, through sudo otherwise.
set -eu

PACKAGES="build-essential cmake protobuf-c-compiler libprotobuf-c-dev
libonnx-dev llvm-14-tools clang clang-14 libclang-rt-14-dev python3-onnx
python3-numpy python3-torch python3-torchvision python3-matplotlib
dataset-fashion-mnist gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"

# Print the packages of $PACKAGES that are not fully installed, on one line.
missing_packages() {
    for pkg in $PACKAGES; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [ "$status" != "installed" ]; then
            printf '%s ' "$pkg"
        fi
    done
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
    echo "install-deps: all packages already installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: error: not root and sudo is not available" >&2
    exit 1
fi

echo "install-deps: installing: $missing"
$SUDO apt-get update
# shellcheck disable=SC2086  # word splitting of the package list is wanted
$SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $missing

still_missing=$(missing_packages)
if [ -n "$still_missing" ]; then
    echo "install-deps: error: still not installed: $still_missing" >&2
    exit 1
fi
echo "install-deps: done"
