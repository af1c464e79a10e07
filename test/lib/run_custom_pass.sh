#!/bin/sh
# The out-of-tree pass example against an installed tyboxc: installs BUILD to
# a temporary prefix, configures and builds docs/examples/custom_pass against
# it in a fresh folder (find_package(tyboxc) must find that prefix), and runs
# the example's lit tests. Any failing step fails the test. The example is
# compiled with $TYBOXC_TEST_CFLAGS, as generated code is: a sanitized
# library needs the sanitizer runtime at link time.
#
#   run_custom_pass.sh BUILD SOURCE PYTHON LIT_PY LLVM_TOOLS_DIR C_COMPILER
set -eu
if [ $# -ne 6 ]; then
    echo "usage: $0 BUILD SOURCE PYTHON LIT_PY LLVM_TOOLS_DIR C_COMPILER" >&2
    exit 2
fi
build=$1 source=$2 python=$3 lit=$4 llvm_tools=$5 cc=$6

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tyboxc-custom-pass.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

step() { echo "== $*"; }

step "install $build to $tmp/prefix"
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; exit 1; }

step "configure the example against the prefix"
cmake -S "$source/docs/examples/custom_pass" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_C_COMPILER="$cc" -DLLVM_TOOLS_DIR="$llvm_tools" -DCMAKE_C_FLAGS="${TYBOXC_TEST_CFLAGS:-}" \
    >"$tmp/configure.log" ||
    { cat "$tmp/configure.log"; exit 1; }
# Another tyboxc (one installed in /usr/local, say) must not stand in for this one.
found=$(sed -n 's/^tyboxc_DIR:PATH=//p' "$tmp/build/CMakeCache.txt")
if [ "$found" != "$tmp/prefix/lib/cmake/tyboxc" ]; then
    echo "error: find_package(tyboxc) used '$found', not the package just installed" >&2
    exit 1
fi

step "build custom-opt"
cmake --build "$tmp/build" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }

step "lit $source/docs/examples/custom_pass/test"
"$python" "$lit" -sv "$tmp/build/test"
