/* fuzz_onnx.c - libFuzzer target: ONNX bytes through the loader, shape
 * inference with constant folding, and the verifier. Any input must give a
 * graph or an error message, never a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>

#include "frontend.h"
#include "ir.h"
#include "passes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tb_error err = {{0}};
    tb_graph *g = tb_onnx_load_buffer(data, size, "fuzz", &err);
    if (!g) return 0;
    tb_pass_context ctx = {0};
    if (!tb_infer_shapes_folding(g, tb_fold_node, &err) && !tb_pass_const_fold(g, &ctx, &err)) {
        tb_graph_compact(g);
        tb_verify(g, &err);
    }
    tb_graph_free(g);
    return 0;
}
