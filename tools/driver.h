/* driver.h - what tyboxc and tyboxc-opt share: loading a model from .onnx or
 * .tir into a shaped, folded graph, and writing an output folder atomically;
 * and tyboxc-opt itself, as a function that out-of-tree opt tools call. */
#ifndef TYBOXC_DRIVER_H
#define TYBOXC_DRIVER_H

#include "ir.h"

/* .tir is parsed and verified as written; anything else is read as ONNX,
 * then shapes are inferred with constant folding and checked. */
tb_graph *tb_driver_load(const char *path, tb_error *err);

/* A temporary folder beside `dir` to write into; tb_output_commit moves its
 * files into `dir` (created if missing) only once everything is written, so a
 * failed compile never leaves a half-written folder. */
int tb_output_begin(const char *dir, char *tmp, size_t cap, tb_error *err);
int tb_output_commit(const char *tmp, const char *dir, tb_error *err);
void tb_output_abort(const char *tmp);

/* Reads a whole file (NUL-terminated); NULL and err on failure. */
char *tb_read_file(const char *path, size_t *len, tb_error *err);

/* The whole tyboxc-opt driver (tools/tyboxc_opt.c): parses argv, runs the
 * pipeline, prints .tir, and returns the exit code (0 ok, 1 error, 2 usage).
 * `tool` names the program in usage and error messages. It is in the library
 * so that an out-of-tree opt tool registers its passes and calls it:
 *
 *   int main(int argc, char **argv) {
 *       tb_pass_register("my-pass", "what it does", my_pass);
 *       return tb_opt_main(argc, argv, "my-opt");
 *   }
 */
int tb_opt_main(int argc, char **argv, const char *tool);

/* ---- resource limits (--max-ram, --max-flash) ---- */

/* A byte count: decimal digits, optionally followed by K (x1024) or M
 * (x1024*1024), as in "98304", "96K", "2M". 0 on success; 1 when the text is
 * anything else or does not fit a size_t. */
int tb_parse_bytes(const char *text, size_t *out);

#endif
