/* host_main.c - the host's stand-in for harness.c: the same generated glue
 * (model_io.c) and model, built with the host's compiler, so that a test can
 * compare what the Cortex-M build computes with what the host computes from
 * the same calls in the same order.
 *
 *   PREFIX_host IN.bin OUT.bin
 *
 * reads one sample of the inputs (the layout harness.c reads), runs cm_run()
 * and writes every output, raw, back to back. Exit status 0, or 1 with an
 * error: line. Host code: it uses stdio.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cortexm.h"

void cm_phase(const char *name) {
    (void)name;
}

static void fail(const char *what, const char *detail) {
    fprintf(stderr, "host_main: error: %s%s\n", what, detail);
    exit(1);
}

int main(int argc, char **argv) {
    FILE *f;
    const char *error;
    int k;
    if (argc != 3) fail("usage: PREFIX_host IN.bin OUT.bin", "");
    if (!(f = fopen(argv[1], "rb"))) fail("cannot open ", argv[1]);
    for (k = 0; k < cm_num_inputs; k++)
        if (fread(cm_inputs[k].data, cm_inputs[k].elem_size, cm_inputs[k].count, f) != cm_inputs[k].count)
            fail("input file ends inside the first sample: ", argv[1]);
    fclose(f);
    if ((error = cm_run()) != NULL) fail(error, "");
    if (!(f = fopen(argv[2], "wb"))) fail("cannot create ", argv[2]);
    for (k = 0; k < cm_num_outputs; k++)
        if (fwrite(cm_outputs[k].data, cm_outputs[k].elem_size, cm_outputs[k].count, f) != cm_outputs[k].count)
            fail("cannot write ", argv[2]);
    if (fclose(f)) fail("cannot write ", argv[2]);
    return 0;
}
