#!/usr/bin/python3
"""Generate the official ONNX backend *node* tests from Debian's python3-onnx.

usage: /usr/bin/python3 gen_node_tests.py OUTDIR

Debian ships the onnx test-case generators (onnx.backend.test.case) but not the
generated data, so this does what `python3 -m onnx.backend.test.cmd_tools
generate-data -o OUTDIR` does, limited to node tests. The result is the usual
layout:

    OUTDIR/node/test_NAME/model.onnx
    OUTDIR/node/test_NAME/test_data_set_K/input_J.pb, output_J.pb

Why not call cmd_tools directly: Debian's onnx 1.12 uses numpy aliases
(np.float, np.int, np.bool, np.object, ...) that numpy 1.24 removed, so they are
restored here before the generators are imported; and only node tests are
wanted (cmd_tools also writes the 'real' and 'simple' model cases).

The data is deterministic (np.random is seeded before collection) and the run
is idempotent: when OUTDIR/STAMP exists and names this onnx version nothing is
done. Generation goes to a scratch folder inside OUTDIR that is renamed into
place at the end, so an interrupted run never leaves a stamp on partial data.
"""
import argparse
import os
import shutil
import time
import warnings

import numpy as np

STAMP = ".node_tests_stamp"
SEED = 0


def restore_numpy_aliases():
    """Put back the numpy aliases removed in numpy 1.24 that onnx 1.12 still uses."""
    aliases = {"float": float, "int": int, "bool": bool, "object": object,
               "complex": complex, "str": str}
    for name, value in aliases.items():
        # np.__dict__ rather than hasattr: hasattr on a removed alias warns.
        if name not in np.__dict__:
            setattr(np, name, value)


def serialize_value(value, value_info):
    """Serialize one input or output value the way cmd_tools does."""
    from onnx import numpy_helper
    vtype = value_info.type
    if vtype.HasField("map_type"):
        proto = numpy_helper.from_dict(value, value_info.name)
    elif vtype.HasField("sequence_type"):
        proto = numpy_helper.from_list(value, value_info.name)
    elif vtype.HasField("optional_type"):
        proto = numpy_helper.from_optional(value, value_info.name)
    else:
        proto = numpy_helper.from_array(value, value_info.name)
    return proto.SerializeToString()


def write_case(case, case_dir):
    """Write model.onnx and every test_data_set_K of one test case."""
    os.makedirs(case_dir)
    with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    graph = case.model.graph
    for k, (inputs, outputs) in enumerate(case.data_sets):
        set_dir = os.path.join(case_dir, "test_data_set_%d" % k)
        os.makedirs(set_dir)
        for prefix, values, infos in (("input", inputs, graph.input),
                                      ("output", outputs, graph.output)):
            for j, value in enumerate(values):
                path = os.path.join(set_dir, "%s_%d.pb" % (prefix, j))
                with open(path, "wb") as f:
                    f.write(serialize_value(value, infos[j]))


def collect_node_cases():
    """Import the onnx node test generators and run them (seeded)."""
    restore_numpy_aliases()
    np.random.seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import onnx.backend.test.case.node as node_test
        return node_test.collect_testcases(None)


def unique_by_name(cases):
    """Keep the last case of each name, as cmd_tools does by overwriting.

    onnx 1.12 defines test_reduce_sum_negative_axes_keepdims_random twice.
    """
    by_name = {}
    for case in cases:
        if case.name in by_name:
            print("note: %s is defined twice; keeping the last one" % case.name)
        by_name[case.name] = case
    return list(by_name.values())


def stamp_text():
    import onnx
    return "onnx %s node tests, seed %d\n" % (onnx.__version__, SEED)


def is_up_to_date(outdir):
    path = os.path.join(outdir, STAMP)
    if not os.path.exists(path):
        return False
    with open(path) as f:
        return f.read() == stamp_text()


def generate(outdir):
    """Generate into OUTDIR/node.tmp, then move it to OUTDIR/node and stamp."""
    os.makedirs(outdir, exist_ok=True)
    scratch = os.path.join(outdir, "node.tmp")
    final = os.path.join(outdir, "node")
    shutil.rmtree(scratch, ignore_errors=True)
    cases = unique_by_name([c for c in collect_node_cases() if c.kind == "node"])
    for i, case in enumerate(cases):
        write_case(case, os.path.join(scratch, case.name))
        if (i + 1) % 200 == 0:
            print("  %d/%d written" % (i + 1, len(cases)), flush=True)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(scratch, final)
    with open(os.path.join(outdir, STAMP), "w") as f:
        f.write(stamp_text())
    return len(cases)


def main():
    parser = argparse.ArgumentParser(
        description="Generate the ONNX backend node tests (model.onnx plus "
                    "test_data_set_*/{input,output}_*.pb) into OUTDIR/node.")
    parser.add_argument("outdir", help="output folder (created if missing)")
    parser.add_argument("--force", action="store_true",
                        help="regenerate even if the stamp file is present")
    args = parser.parse_args()

    if not args.force and is_up_to_date(args.outdir):
        print("node tests already in %s (stamp %s): nothing to do"
              % (args.outdir, STAMP))
        return
    start = time.time()
    count = generate(args.outdir)
    print("generated %d node tests in %s in %.1f s"
          % (count, os.path.join(args.outdir, "node"), time.time() - start))


if __name__ == "__main__":
    main()
