#!/usr/bin/python3
"""Run the ONNX backend node tests through tyboxc and compare with ONNX's outputs.

usage: /usr/bin/python3 run_node_tests.py --tyboxc BUILD/tools/tyboxc \\
           --tests DIR --work DIR [--expected-failures FILE] [-j N] [--filter RE]
           [--results FILE.json] [--suite NAME]

DIR is what gen_node_tests.py wrote (DIR/node/test_*) or a folder of test_*
folders. For every test whose ops are all in `tyboxc --list-ops` (and whose
inputs/outputs are plain tensors of a supported dtype, in the default domain)
this compiles the model with `tyboxc --harness`, builds it with
`make CC=gcc CFLAGS='-O0 -std=c99'` (plus $TYBOXC_TEST_CFLAGS when set), feeds
each test_data_set's inputs as raw little-endian bytes to model_run and compares
its raw output with the expected output_*.pb: floats with np.allclose(rtol=1e-4,
atol=1e-5, NaN == NaN), every other dtype exactly.

Output: one `FAIL name: reason` line per failure, `XPASS name: ...` for a test
listed as expected to fail that now passes, then `skipped: N (...)`,
`expected failures: N` and last `N passed, N failed`. Exit status 1 when
anything failed (an XPASS counts as a failure), 2 on a usage error.

--results writes every test's outcome as JSON for
scripts/conformance_table.py: {"suite", "summary": {passed, failed,
expected_failures, skipped, total}, "tests": [{"name", "op", "ops", "status",
"reason"}]}, status one of passed, failed, xpass, expected_failure, skipped;
"op" is the operator the test is about (matched from its name, since an
_expanded test holds only the op's function body), "ops" the graph's op types.

To build fast, the runtime kernels are compiled once per run (from the
source tree's runtime/, with the same CC and CFLAGS) into WORK/libtb_runtime.a,
and each model links it instead of recompiling the tb_*.c copies tyboxc
writes beside it; --no-prebuilt-runtime builds those copies every time.

The work folder of a passing test is removed; a failing one is kept under
WORK/test_name for debugging (--keep keeps all of them).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from harness import StepFailure, compile_and_build, die, run_step  # noqa: E402

RTOL = 1e-4
ATOL = 1e-5
CC = "gcc"
CFLAGS = "-O0 -std=c99"  # node tests check results, not speed: build fast
SKIPPED_DTYPES = {TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.STRING,
                  TensorProto.COMPLEX64, TensorProto.COMPLEX128}
DEFAULT_DOMAINS = ("", "ai.onnx")
# Operand positions that decide an output's shape. tyboxc needs static shapes,
# so when a node test passes one of these as a graph input, the runner turns
# that input into an initializer holding the data set's value (see --no-freeze).
SHAPE_OPERANDS = {
    "Reshape": (1,), "Expand": (1,), "Tile": (1,), "ConstantOfShape": (0,),
    "Slice": (1, 2, 3, 4), "Squeeze": (1,), "Unsqueeze": (1,), "Split": (1,),
    "Pad": (1,), "Range": (0, 1, 2), "Resize": (1, 2, 3), "Upsample": (1,),
    "TopK": (1,), "OneHot": (1,), "ReduceSum": (1,),
    # Quantization parameters: tyboxc folds scales and zero points into the
    # kernels' integer multipliers at compile time, so they must be constants
    # (QuantizeLinear / DequantizeLinear read them at run time and need not).
    "QLinearConv": (1, 2, 4, 5, 6, 7), "QLinearMatMul": (1, 2, 4, 5, 6, 7),
    "ConvInteger": (2, 3), "MatMulInteger": (2, 3),
}
TIMEOUT_COMPILE = 120
TIMEOUT_BUILD = 300
TIMEOUT_RUN = 120


# ---------------------------------------------------------------- discovery

def find_test_dirs(tests_root):
    """Sorted list of (name, path) of every folder holding a model.onnx."""
    root = os.path.join(tests_root, "node")
    if not os.path.isdir(root):
        root = tests_root
    if not os.path.isdir(root):
        die("test folder %s does not exist (run gen_node_tests.py)"
                 % tests_root)
    found = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if os.path.isfile(os.path.join(path, "model.onnx")):
            found.append((name, path))
    if not found:
        die("no test folders with a model.onnx under %s" % root)
    return found


def supported_ops(tyboxc):
    """The op_types printed by `tyboxc --list-ops`, as a set."""
    try:
        proc = subprocess.run([tyboxc, "--list-ops"], capture_output=True,
                              text=True, timeout=30)
    except OSError as e:
        die("cannot run %s: %s" % (tyboxc, e.strerror))
    if proc.returncode != 0:
        die("%s --list-ops exited %d: %s"
                 % (tyboxc, proc.returncode, proc.stderr.strip()))
    ops = {line.strip() for line in proc.stdout.splitlines() if line.strip()}
    if not ops:
        die("%s --list-ops printed no ops" % tyboxc)
    return ops


def read_expected_failures(path):
    """{test name: reason} from a file of `test_name  # reason` lines."""
    names = {}
    if not path:
        return names
    try:
        with open(path) as f:
            for line in f:
                name, _, reason = line.partition("#")
                name = name.strip()
                if name:
                    names[name] = reason.strip()
    except OSError as e:
        die("cannot read %s: %s" % (path, e.strerror))
    return names


# ---------------------------------------------------------------- skipping

def fed_inputs(model):
    """The graph inputs a caller feeds: before IR version 4 initializers are
    listed among the inputs too (the backend-data suites), and tyboxc
    compiles those in as constants."""
    init = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in init]


def io_skip_reason(value_info):
    """Why a graph input/output rules the test out, or None."""
    vtype = value_info.type
    if not vtype.HasField("tensor_type"):
        return "non-tensor io"
    if vtype.tensor_type.elem_type in SKIPPED_DTYPES:
        return "dtype"
    return None


def skip_reason(model, ops):
    """Why tyboxc cannot run this model at all, or None if it should."""
    graph = model.graph
    for node in graph.node:
        if node.domain not in DEFAULT_DOMAINS:
            return "domain %s" % node.domain
    for node in graph.node:
        if node.op_type not in ops:
            return "unsupported op %s" % node.op_type
    for value_info in fed_inputs(model) + list(graph.output):
        reason = io_skip_reason(value_info)
        if reason:
            return reason
    return None


# ---------------------------------------------------------------- attribution

def _squash(text):
    return text.replace("_", "").lower()


def schema_names():
    """ONNX default-domain op names, squashed ("ConvTranspose" -> "convtranspose")."""
    names = {}
    for schema in onnx.defs.get_all_schemas_with_history():
        if schema.domain in DEFAULT_DOMAINS:
            names[_squash(schema.name)] = schema.name
    return names


def graph_ops(model):
    """The model's op types, each once, in node order."""
    seen = []
    for node in model.graph.node:
        if node.op_type not in seen:
            seen.append(node.op_type)
    return seen


def main_op(name, ops, schemas):
    """The operator a test is about: a one-op graph's op; else the ONNX op
    whose squashed name is the longest prefix of the squashed test name;
    else the graph's first op."""
    if len(ops) == 1:
        return ops[0]
    key = _squash(name[5:] if name.startswith("test_") else name)
    best = ""
    for squashed in schemas:
        if key.startswith(squashed) and len(squashed) > len(best):
            best = squashed
    if best:
        return schemas[best]
    return ops[0] if ops else "?"


# ---------------------------------------------------------------- one test

def load_tensor(path):
    tensor = TensorProto()
    try:
        with open(path, "rb") as f:
            tensor.ParseFromString(f.read())
    except OSError as e:
        raise StepFailure("cannot read %s: %s" % (path, e.strerror))
    return numpy_helper.to_array(tensor)


def load_data_set(set_dir, prefix, count):
    return [load_tensor(os.path.join(set_dir, "%s_%d.pb" % (prefix, j)))
            for j in range(count)]


def to_raw(array):
    """Raw little-endian bytes of an array in its own dtype (bool: 1 byte)."""
    array = np.ascontiguousarray(array)
    return array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def split_outputs(raw, expected):
    """Cut model_run's raw output into arrays shaped like the expected ones."""
    want = sum(e.nbytes for e in expected)
    if len(raw) != want:
        raise StepFailure("model_run wrote %d bytes, expected %d" % (len(raw), want))
    arrays, offset = [], 0
    for e in expected:
        dtype = e.dtype.newbyteorder("<")
        got = np.frombuffer(raw, dtype=dtype, count=e.size, offset=offset)
        arrays.append(got.reshape(e.shape))
        offset += e.nbytes
    return arrays


def max_abs_error(got, want):
    """Largest |got - want| as text; NaN against a number counts as 'nan'."""
    got = got.astype(np.float64)
    want = want.astype(np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(got - want))
    if np.isnan(diff).any():
        return "nan (a NaN where a number was expected, or the reverse)"
    return "%.3g" % (diff.max() if diff.size else 0.0)


def compare_output(index, name, got, want):
    """Raise StepFailure if one output differs beyond tolerance."""
    if np.issubdtype(want.dtype, np.floating):
        if np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True):
            return
        raise StepFailure("output %d '%s': max abs error %s"
                          % (index, name, max_abs_error(got, want)))
    if want.dtype == np.bool_:
        got, want = got.view(np.uint8), want.view(np.uint8)
    if not np.array_equal(got, want):
        bad = int(np.count_nonzero(got != want))
        raise StepFailure("output %d '%s': %d of %d elements differ (max abs error %s)"
                          % (index, name, bad, want.size, max_abs_error(got, want)))


def shape_operand_inputs(model):
    """Graph inputs that some node uses as a shape-determining operand."""
    graph_inputs = {value_info.name for value_info in fed_inputs(model)}
    found = set()
    for node in model.graph.node:
        for index in SHAPE_OPERANDS.get(node.op_type, ()):
            if index < len(node.input) and node.input[index] in graph_inputs:
                found.add(node.input[index])
    return found


def freeze_inputs(model, values):
    """A copy of model where the inputs in `values` are initializers."""
    frozen = onnx.ModelProto()
    frozen.CopyFrom(model)
    kept = [vi for vi in frozen.graph.input if vi.name not in values]
    del frozen.graph.input[:]
    frozen.graph.input.extend(kept)
    for name, array in sorted(values.items()):
        frozen.graph.initializer.append(numpy_helper.from_array(array, name))
    return frozen


def model_for_data_set(model, model_path, inputs, freeze, work_dir, tag):
    """(model file to compile, arrays to feed) for one test_data_set.

    Without shape operands among the inputs this is the test's own model.
    Otherwise those inputs become initializers holding this data set's
    values, in a model written to WORK/test/TAG.onnx, and are not fed.
    """
    names = [vi.name for vi in fed_inputs(model)]
    if not freeze:
        return model_path, inputs
    values = {n: a for n, a in zip(names, inputs) if n in freeze}
    path = os.path.join(work_dir, tag + ".onnx")
    onnx.save(freeze_inputs(model, values), path)
    return path, [a for n, a in zip(names, inputs) if n not in freeze]


def run_data_set(model_run, model, fed, expected, work_dir, tag):
    """Run model_run on one test_data_set and compare every output."""
    in_path = os.path.join(work_dir, tag + ".in.bin")
    out_path = os.path.join(work_dir, tag + ".out.bin")
    with open(in_path, "wb") as f:
        for array in fed:
            f.write(to_raw(array))
    run_step("model_run", [model_run, in_path, out_path], TIMEOUT_RUN)
    try:
        with open(out_path, "rb") as f:
            raw = f.read()
    except OSError:
        raise StepFailure("model_run wrote no %s" % out_path)
    for j, (got, want) in enumerate(zip(split_outputs(raw, expected), expected)):
        compare_output(j, model.graph.output[j].name, got, want)


def data_set_dirs(test_dir):
    sets = [d for d in os.listdir(test_dir) if d.startswith("test_data_set_")]
    sets.sort(key=lambda d: int(d.rsplit("_", 1)[1]))
    if not sets:
        raise StepFailure("no test_data_set_* folder")
    return [os.path.join(test_dir, d) for d in sets]


RUNTIME_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runtime")


def prebuild_runtime(work_root):
    """Compile runtime/*.c once into WORK/libtb_runtime.a; returns its path."""
    obj_dir = os.path.join(work_root, "runtime-objs")
    shutil.rmtree(obj_dir, ignore_errors=True)
    os.makedirs(obj_dir)
    objs = []
    for src in sorted(os.listdir(RUNTIME_DIR)):
        if not src.endswith(".c"):
            continue
        obj = os.path.join(obj_dir, src[:-2] + ".o")
        run_step("cc runtime", [CC] + CFLAGS.split() + ["-I", RUNTIME_DIR, "-c", "-o", obj,
                                                       os.path.join(RUNTIME_DIR, src)], TIMEOUT_BUILD)
        objs.append(obj)
    lib = os.path.join(work_root, "libtb_runtime.a")
    if os.path.exists(lib):
        os.remove(lib)
    run_step("ar", ["ar", "rcs", lib] + objs, TIMEOUT_BUILD)
    return lib


def check_test(name, test_dir, tyboxc, work_dir, freeze, runtime_lib=None):
    """Compile (once per distinct model file), run and compare every data set."""
    model_path = os.path.abspath(os.path.join(test_dir, "model.onnx"))
    model = onnx.load(model_path)
    frozen_names = shape_operand_inputs(model) if freeze else set()
    builds = {}  # model file -> model_run
    for set_dir in data_set_dirs(test_dir):
        tag = os.path.basename(set_dir)
        inputs = load_data_set(set_dir, "input", len(fed_inputs(model)))
        expected = load_data_set(set_dir, "output", len(model.graph.output))
        model_file, fed = model_for_data_set(model, model_path, inputs,
                                             frozen_names, work_dir, tag)
        if model_file not in builds:
            out_dir = os.path.join(work_dir, "out" if model_file == model_path
                                   else tag + ".out")
            builds[model_file] = compile_and_build(
                tyboxc, model_file, out_dir, ["CC=" + CC, "CFLAGS=" + CFLAGS] +
                (["SRCS=main.c model.c " + runtime_lib] if runtime_lib else []),
                (TIMEOUT_COMPILE, TIMEOUT_BUILD))
        run_data_set(builds[model_file], model, fed, expected, work_dir, tag)


def run_one(job):
    """Worker: check one test. Returns (name, failure reason or None)."""
    name, test_dir, tyboxc, work_root, keep, freeze, runtime_lib = job
    work_dir = os.path.join(work_root, name)
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(work_dir)
    try:
        check_test(name, test_dir, tyboxc, work_dir, freeze, runtime_lib)
    except StepFailure as e:
        return name, str(e)
    except Exception as e:  # a bug in this script or odd data: report, go on
        return name, "runner error: %s: %s" % (type(e).__name__, e)
    if not keep:
        shutil.rmtree(work_dir, ignore_errors=True)
    return name, None


# ---------------------------------------------------------------- driver

def select_tests(test_dirs, ops, pattern, schemas):
    """Split the tests into runnable ones and a Counter of skip reasons;
    info[name] = (main op, graph ops, skip reason or None) for every test."""
    runnable, skipped, info = [], collections.Counter(), {}
    for name, path in test_dirs:
        if pattern and not pattern.search(name):
            continue
        model = onnx.load(os.path.join(path, "model.onnx"))
        reason = skip_reason(model, ops)
        model_ops = graph_ops(model)
        info[name] = (main_op(name, model_ops, schemas), model_ops, reason)
        if reason:
            skipped[reason] += 1
        else:
            runnable.append((name, path))
    # An _expanded test is about the op of the test it expands.
    for name, (op, model_ops, reason) in list(info.items()):
        base = info.get(name[:-len("_expanded")]) if name.endswith("_expanded") else None
        if base:
            info[name] = (base[0], model_ops, reason)
    return runnable, skipped, info


def run_all(jobs, workers):
    """Run the jobs in a process pool, printing progress to stderr."""
    results = {}
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run_one, job) for job in jobs]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            name, reason = future.result()
            results[name] = reason
            if done % 25 == 0 or done == len(jobs):
                print("[%d/%d]" % (done, len(jobs)), file=sys.stderr, flush=True)
    return results


def format_skipped(skipped):
    total = sum(skipped.values())
    if not total:
        return "skipped: 0"
    parts = ["%s: %d" % (reason, count) for reason, count in
             sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))]
    return "skipped: %d (%s)" % (total, ", ".join(parts))


def report(results, skipped, expected_failures):
    """Print the per-test lines and the summary; return the failure count."""
    passed = failed = xfailed = 0
    for name in sorted(results):
        reason = results[name]
        if name in expected_failures:
            if reason is None:
                print("XPASS %s: remove it from the expected failures" % name)
                failed += 1
            else:
                xfailed += 1
        elif reason is None:
            passed += 1
        else:
            print("FAIL %s: %s" % (name, reason))
            failed += 1
    print(format_skipped(skipped))
    print("expected failures: %d" % xfailed)
    print("%d passed, %d failed" % (passed, failed))
    return failed


def write_results(path, suite, results, info, expected_failures):
    """The --results JSON file (see the module docstring)."""
    tests, counts = [], collections.Counter()
    for name in sorted(info):
        op, ops, skip = info[name]
        if skip:
            status, reason = "skipped", skip
        else:
            reason = results.get(name)
            if name in expected_failures:
                status = "xpass" if reason is None else "expected_failure"
                if reason is not None:
                    reason = expected_failures[name] or reason
            else:
                status = "passed" if reason is None else "failed"
        counts[status] += 1
        tests.append({"name": name, "op": op, "ops": ops, "status": status, "reason": reason})
    summary = {"passed": counts["passed"], "failed": counts["failed"] + counts["xpass"],
               "expected_failures": counts["expected_failure"], "skipped": counts["skipped"],
               "total": len(tests)}
    with open(path, "w") as f:
        json.dump({"suite": suite, "summary": summary, "tests": tests}, f, indent=1)
        f.write("\n")


def parse_args():
    parser = argparse.ArgumentParser(
        description="Compile the ONNX backend node tests with tyboxc, run them "
                    "and compare with the reference outputs.")
    parser.add_argument("--tyboxc", default=os.environ.get("TYBOXC"),
                        help="path of the tyboxc binary (default: $TYBOXC)")
    parser.add_argument("--tests", required=True,
                        help="folder written by gen_node_tests.py")
    parser.add_argument("--work", required=True,
                        help="scratch folder for generated C and binaries")
    parser.add_argument("--expected-failures", metavar="FILE",
                        help="file of `test_name  # reason` lines")
    parser.add_argument("-j", "--jobs", type=int, default=2,
                        help="tests run in parallel (default 2)")
    parser.add_argument("--filter", metavar="REGEX",
                        help="only tests whose name matches (re.search)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="feed shape operands (Reshape's shape, Slice's "
                             "starts, ...) at run time instead of compiling "
                             "them in as initializers")
    parser.add_argument("--results", metavar="FILE",
                        help="write every test's outcome as JSON")
    parser.add_argument("--suite", default="node",
                        help="suite name recorded in --results (default node)")
    parser.add_argument("--no-prebuilt-runtime", action="store_true",
                        help="compile the runtime files beside each model "
                             "instead of linking one prebuilt copy")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work folder of passing tests too")
    args = parser.parse_args()
    if not args.tyboxc:
        parser.error("--tyboxc is required (or set TYBOXC)")
    if args.jobs < 1:
        parser.error("-j must be at least 1")
    return args


def main():
    args = parse_args()
    try:
        pattern = re.compile(args.filter) if args.filter else None
    except re.error as e:
        die("bad --filter regex: %s" % e)
    tyboxc = os.path.abspath(args.tyboxc)
    ops = supported_ops(tyboxc)
    expected_failures = read_expected_failures(args.expected_failures)
    runnable, skipped, info = select_tests(find_test_dirs(args.tests), ops, pattern, schema_names())
    work_root = os.path.abspath(args.work)
    os.makedirs(work_root, exist_ok=True)
    print("running %d tests (%d skipped) with %d jobs"
          % (len(runnable), sum(skipped.values()), args.jobs),
          file=sys.stderr, flush=True)
    runtime_lib = None
    if runnable and not args.no_prebuilt_runtime:
        try:
            runtime_lib = prebuild_runtime(work_root)
        except StepFailure as e:
            die("cannot prebuild the runtime: %s" % e)
    jobs = [(name, path, tyboxc, work_root, args.keep, not args.no_freeze, runtime_lib)
            for name, path in runnable]
    results = run_all(jobs, args.jobs)
    failed = report(results, skipped, expected_failures)
    if args.results:
        write_results(args.results, args.suite, results, info, expected_failures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
