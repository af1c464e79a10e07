/* test_emit_int8.c - writes the int8-buffer variant of <prefix>_tail.c from a
 * hand-made tb_tail, for test/tail/Inputs/int8_driver.c to compile and check.
 * It reaches the int8 path of backend/emit_tail.c before tyboxc can produce an
 * int8 feature extractor (no DequantizeLinear yet).
 *
 * usage: test_emit_int8 DIR   (DIR must exist)
 */
#include "tail_split.h"
#include "tb_train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_emit_int8 DIR\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.h", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f) return perror(path), 1;
    /* what tb_emit_model writes for an extractor with an int8 output */
    fputs("#ifndef MODEL_H\n#define MODEL_H\n\n#include <stdint.h>\n\n#define MODEL_INPUT0_SIZE 4\n"
          "#define MODEL_INPUT_SIZE MODEL_INPUT0_SIZE\n\nint model_run(const float *in0, int8_t *out0);\n\n#endif\n", f);
    fclose(f);

    static float w[3 * 4] = {0.5f, -0.25f, 0.125f, 1.0f, -0.5f, 0.75f, 0.0f, 0.25f, 0.3f, 0.2f, -0.1f, -0.4f};
    static float b[3] = {0.1f, -0.2f, 0.05f};
    tb_tail t;
    memset(&t, 0, sizeof t);
    t.opt = tb_tail_default_options();
    t.opt.lr = 0.1f;
    t.n_layers = 1;
    t.layers[0] = (tb_tail_layer){"fc", "Gemm", 4, 3, -INFINITY, INFINITY, w, b, 1};
    t.n_classes = t.max_classes = 3;
    t.feature = "q";
    t.feature_size = 4;
    t.feature_int8 = 1;
    t.scale = 0.5f;
    t.zero_point = -2;
    t.capacity = 2;
    t.entry_bytes = 5;
    t.buffer = 10;
    t.feature_bytes = 4;
    t.total = 100;
    tb_emit_options o = {.prefix = "model", .source_name = "test_emit_int8"};
    tb_error err = {{0}};
    if (tb_emit_tail(&t, &o, argv[1], &err)) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}
