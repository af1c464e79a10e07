/* frontend.h - loading models into the tyboxc graph IR.
 *
 *   tb_error err;
 *   tb_graph *g = tb_onnx_load_file("net.onnx", &err);
 *   if (!g) { fprintf(stderr, "net.onnx: error: %s\n", err.msg); return 1; }
 *   if (tb_infer_shapes(g, &err)) ...   // the loader leaves node outputs unshaped
 *   ...
 *   tb_graph_free(g);
 *
 * Both loaders return NULL and fill err->msg on any bad input (unreadable
 * file, malformed protobuf, unsupported op, dtype, dynamic shape, external
 * data, ...). They never abort or leak on hostile input. The returned graph
 * has its inputs, constants (initializers and Constant nodes), nodes in file
 * order (topological) and outputs; g->opset is the default-domain opset.
 */
#ifndef TYBOXC_FRONTEND_H
#define TYBOXC_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "ir.h"

/* Reads and loads an ONNX model file. The graph name comes from the model,
 * else from the file name, sanitized to [A-Za-z0-9_]. */
tb_graph *tb_onnx_load_file(const char *path, tb_error *err);

/* Loads a serialized ONNX ModelProto held in memory (data is not kept).
 * graph_name_hint (may be NULL) names the graph if the model does not. */
tb_graph *tb_onnx_load_buffer(const uint8_t *data, size_t len, const char *graph_name_hint,
                              tb_error *err);

#endif
