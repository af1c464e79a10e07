#!/usr/bin/python3
"""Write model_io.c, the glue between a tyboxc model and the bare-metal harness.

usage: /usr/bin/python3 gen_io.py MODEL_DIR/PREFIX.h -o model_io.c [--input IN.bin]
                                  [--samples N] [--epochs E]
       /usr/bin/python3 gen_io.py MODEL_DIR/PREFIX.h --api

The harness (harness.c) is the same for every model; what differs is the
number, element types and sizes of the inputs and outputs and the call of
PREFIX_run(). This reads them from the header tyboxc wrote, from the
prototype `int PREFIX_run(const float *in0, float *out0);` and the lines
`#define PREFIX_INPUT0_SIZE 784 /* input f32[1,1,28,28] */`, and writes the
buffers, the cm_inputs/cm_outputs tables of cortexm.h and cm_run(). With
--input the first sample of IN.bin (every input back to back, raw, as the
host model_run reads it) is built in, so the harness runs without files.

A model with a trainable tail (tyboxc --train-tail: the header declares
PREFIX_push_sample) gets one inference and one training step instead. Its
inputs are N labelled samples (--samples), each the record of the host
model_run's --learn STREAM: one uint8 label, then the float input; IN.bin
and --input hold N of them. cm_run() calls, marking each phase:
    PREFIX_run(x0), phi_f alone              output "feature"          features
    PREFIX_predict(x0)                       "probs_before", "class_before"  predict
    PREFIX_push_sample(xi, label i), i < N                                   push
    PREFIX_train(E)                                                          train
    PREFIX_predict(x0)                       "probs_after", "class_after"    predict_after
    PREFIX_save_tail()                       "tail_weights": the trainable
                                             weights and biases of the blob
and fails when a call does not return PREFIX_OK (so a push must not be
dropped: the reservoir policy may drop one). The outputs are written to
OUT.bin in that order, as for any model.

--api prints the functions the header declares, one a line (the Makefile
keeps them all in PREFIX_only.elf). Errors name the header and exit 1.
"""
import argparse
import os
import re
import sys

# C type in the prototype -> (harness type, bytes per element)
TYPES = {
    "float": ("CM_F32", 4), "double": ("CM_F64", 8),
    "int8_t": ("CM_I8", 1), "uint8_t": ("CM_U8", 1),
    "int16_t": ("CM_I16", 2), "uint16_t": ("CM_U16", 2),
    "int32_t": ("CM_I32", 4), "uint32_t": ("CM_U32", 4),
    "int64_t": ("CM_I64", 8), "uint64_t": ("CM_U64", 8),
}


def fail(message):
    print("gen_io.py: error: " + message, file=sys.stderr)
    sys.exit(1)


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_header(path):
    """(prefix, [(kind, index, ctype, name, count)], text) from a tyboxc model header."""
    prefix = os.path.basename(path)[:-len(".h")]
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e.strerror))
    proto = re.search(r"^int %s_run\((.*)\);$" % re.escape(prefix), text, re.M)
    if not proto:
        fail("%s declares no 'int %s_run(...);'" % (path, prefix))
    names = {}
    for m in re.finditer(r"^#define %s_(INPUT|OUTPUT)(\d+)_SIZE (\d+) /\* (.*) \S+ \*/$"
                         % re.escape(prefix.upper()), text, re.M):
        names[(m.group(1).lower(), int(m.group(2)))] = (m.group(4), int(m.group(3)))
    params = []
    if proto.group(1) != "void":
        for p in proto.group(1).split(", "):
            m = re.fullmatch(r"(const )?(\w+) \*(in|out)(\d+)", p)
            if not m or m.group(2) not in TYPES:
                fail("%s: unexpected parameter '%s' of %s_run" % (path, p, prefix))
            kind, index = ("input" if m.group(3) == "in" else "output"), int(m.group(4))
            if (kind, index) not in names:
                fail("%s: no %s_%s%d_SIZE" % (path, prefix.upper(), kind.upper(), index))
            params.append((kind, index, m.group(2)) + names[(kind, index)])
    return prefix, params, text


def tensor_table(prefix, params, kind):
    rows = []
    for k, index, ctype, name, _ in params:
        if k != kind:
            continue
        short = ("in%d" if kind == "input" else "out%d") % index
        rows.append("    {%s, %s, %s_%s%d_SIZE, %d, %s}," % (
            c_string(name), short, prefix.upper(), kind.upper(), index,
            TYPES[ctype][1], TYPES[ctype][0]))
    table = "cm_%ss" % kind
    if not rows:  # C has no empty arrays
        return ("const cm_tensor %s[1];\nconst int cm_num_%ss = 0;\n" % (table, kind))
    return ("const cm_tensor %s[] = {\n%s\n};\nconst int cm_num_%ss = %d;\n"
            % (table, "\n".join(rows), kind, len(rows)))


def first_sample(path, params):
    """The bytes of the first sample of IN.bin."""
    need = sum(TYPES[ctype][1] * count for kind, _, ctype, _, count in params if kind == "input")
    try:
        with open(path, "rb") as f:
            data = f.read(need)
    except OSError as e:
        fail("cannot read %s: %s" % (path, e.strerror))
    if len(data) < need:
        fail("%s holds %d bytes; one sample of the inputs is %d" % (path, len(data), need))
    return data


def api_functions(path, text, prefix):
    """The names of the functions PREFIX.h declares."""
    names = re.findall(r"^[a-z][\w ]*?[ *](%s_\w+)\(.*\);$" % re.escape(prefix), text, re.M)
    if "%s_run" % prefix not in names:
        fail("%s declares no %s_run()" % (path, prefix))
    return names


def is_tail(text, prefix):
    return re.search(r"^int %s_push_sample\(const float \*x, int label\);$" % re.escape(prefix), text, re.M)


TAIL_OUTPUTS = """const cm_tensor cm_outputs[] = {
    {"feature", feature, %(P)s_FEATURE_SIZE, %(size)d, %(type)s},
    {"probs_before", probs_before, %(P)s_NUM_CLASSES, 4, CM_F32},
    {"class_before", class_before, 1, 4, CM_I32},
    {"probs_after", probs_after, %(P)s_NUM_CLASSES, 4, CM_F32},
    {"class_after", class_after, 1, 4, CM_I32},
    {"tail_weights", tail_weights, %(P)s_RAM_TAIL_WEIGHT_BYTES / 4, 4, CM_F32},
};
const int cm_num_outputs = 6;
"""

TAIL_RUN = """const char *cm_run(void) {
    int i;
    %(p)s_run(x[0], feature);
    cm_phase("features");
    class_before[0] = %(p)s_predict(x[0], probs_before);
    cm_phase("predict");
    for (i = 0; i < %(n)d; i++)
        if (%(p)s_push_sample(x[i], label[i]) != %(P)s_OK)
            return "%(p)s_push_sample did not keep a sample";
    cm_phase("push");
    if (%(p)s_train(%(e)d) != %(P)s_OK)
        return "%(p)s_train failed";
    cm_phase("train");
    class_after[0] = %(p)s_predict(x[0], probs_after);
    cm_phase("predict_after");
    if (%(p)s_tail_state_size() != sizeof state || %(p)s_save_tail(state, sizeof state) != %(P)s_OK)
        return "%(p)s_save_tail: the state is not 16 + weights + classes bytes";
    memcpy(tail_weights, state + 16, sizeof tail_weights);
    return NULL;
}
"""


def tail_glue(path, text, prefix, params, samples, epochs):
    """Buffers, tables and cm_run() of the training step (see the top)."""
    P = prefix.upper()
    inputs = [p for p in params if p[0] == "input"]
    outputs = [p for p in params if p[0] == "output"]
    if len(inputs) != 1 or inputs[0][2] != "float" or len(outputs) != 1:
        fail("%s: a trainable tail needs one float input and one feature output" % path)
    for macro in ("NUM_CLASSES", "FEATURE_SIZE", "RAM_TAIL_WEIGHT_BYTES", "OK"):
        if not re.search(r"^#define %s_%s " % (P, macro), text, re.M):
            fail("%s: no %s_%s" % (path, P, macro))
    feature = outputs[0][2]
    lines = ["static float x[%d][%s_INPUT0_SIZE];" % (samples, P),
             "static uint8_t label[%d];" % samples,
             "static %s feature[%s_FEATURE_SIZE];" % (feature, P),
             "static float probs_before[%s_NUM_CLASSES], probs_after[%s_NUM_CLASSES];" % (P, P),
             "static int32_t class_before[1], class_after[1];",
             "static float tail_weights[%s_RAM_TAIL_WEIGHT_BYTES / 4];" % P,
             "/* the saved state: a 16-byte header, the weights and biases, a byte a class */",
             "static unsigned char state[16 + %s_RAM_TAIL_WEIGHT_BYTES + %s_NUM_CLASSES];" % (P, P), ""]
    rows = []
    for i in range(samples):
        rows.append('    {"label%d", &label[%d], 1, 1, CM_U8},' % (i, i))
        rows.append('    {%s, x[%d], %s_INPUT0_SIZE, 4, CM_F32},' % (c_string(inputs[0][3]), i, P))
    lines.append("const cm_tensor cm_inputs[] = {\n%s\n};\nconst int cm_num_inputs = %d;\n"
                 % ("\n".join(rows), 2 * samples))
    lines.append(TAIL_OUTPUTS % {"P": P, "size": TYPES[feature][1], "type": TYPES[feature][0]})
    lines.append(TAIL_RUN % {"p": prefix, "P": P, "n": samples, "e": epochs})
    # what one sample of IN.bin is, for --input
    return lines, [("input", 0, "uint8_t", "label", 1), inputs[0]] * samples


def main():
    parser = argparse.ArgumentParser(description="Write the bare-metal harness glue for a tyboxc model.")
    parser.add_argument("header", help="the model's header, e.g. out/model.h")
    parser.add_argument("-o", dest="output", help="the C file to write")
    parser.add_argument("--input", help="a sample to build in (raw inputs back to back)")
    parser.add_argument("--samples", type=int, default=4,
                        help="trainable tail: labelled samples pushed before the training step (default 4)")
    parser.add_argument("--epochs", type=int, default=1, help="trainable tail: epochs of the step (default 1)")
    parser.add_argument("--api", action="store_true", help="print the functions the header declares")
    args = parser.parse_args()

    prefix, params, text = parse_header(args.header)
    if args.api:
        print("\n".join(api_functions(args.header, text, prefix)))
        return
    if not args.output:
        parser.error("-o is required")
    if args.samples < 1 or args.epochs < 1:
        parser.error("--samples and --epochs must be at least 1")
    P = prefix.upper()
    lines = ["/* %s - generated by tools/cortexm/gen_io.py from %s. Do not edit. */"
             % (os.path.basename(args.output), os.path.basename(args.header)),
             "#include <string.h>", "", "#include \"cortexm.h\"", "#include \"%s.h\"" % prefix, ""]
    if is_tail(text, prefix):
        glue, params = tail_glue(args.header, text, prefix, params, args.samples, args.epochs)
        lines += glue
    else:
        for kind, index, ctype, _, _ in params:
            short = ("in%d" if kind == "input" else "out%d") % index
            size = "%s_%s%d_SIZE" % (P, kind.upper(), index)
            lines.append("static %s %s[%s ? %s : 1];" % (ctype, short, size, size))
        lines.append("")
        lines.append(tensor_table(prefix, params, "input"))
        lines.append(tensor_table(prefix, params, "output"))
        call = ", ".join(("in%d" if k == "input" else "out%d") % i for k, i, _, _, _ in params)
        lines.append("const char *cm_run(void) {\n    %s_run(%s);\n    return NULL;\n}\n" % (prefix, call))

    data = b""
    if args.input:
        data = first_sample(args.input, params)
    body = ",".join(("\n    " if i % 16 == 0 else " ") + "%d" % b for i, b in enumerate(data))
    lines.append("const unsigned char cm_embedded[%d] = {%s\n};" % (max(len(data), 1), body or "0"))
    lines.append("const size_t cm_embedded_bytes = %d;" % len(data))
    try:
        with open(args.output, "w") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        fail("cannot write %s: %s" % (args.output, e.strerror))


if __name__ == "__main__":
    main()
