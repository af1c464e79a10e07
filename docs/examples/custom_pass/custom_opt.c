/* custom-opt - tyboxc-opt plus the passes of this folder.
 *
 *   custom-opt --passes=fold-mul-one,dce in.tir
 *   custom-opt --list-passes
 *
 * Everything else (the built-in passes, --split-input-file, --print-after,
 * --pass-option, the verifier after every pass) is tyboxc-opt's driver,
 * tb_opt_main, from the installed library.
 */
#include <stdio.h>

#include <tyboxc/driver.h>
#include <tyboxc/passes.h>

int fold_mul_one(tb_graph *g, tb_pass_context *ctx, tb_error *err); /* fold_mul_one.c */

int main(int argc, char **argv) {
    if (tb_pass_register("fold-mul-one", "forward x for x*1, x/1, x+0, x-0 (keep-signed-zeros=1: exact ones only)",
                         fold_mul_one)) {
        fprintf(stderr, "custom-opt: error: cannot register the pass 'fold-mul-one'\n");
        return 1;
    }
    return tb_opt_main(argc, argv, "custom-opt");
}
