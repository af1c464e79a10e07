/* fuzz_tir.c - libFuzzer target: .tir text through the parser and the
 * verifier; a graph that parses must print and parse back identically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tb_error err = {{0}};
    tb_graph *g = tb_parse_graph((const char *)data, size, &err);
    if (!g) return 0;
    if (!tb_verify(g, &err)) {
        char *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        FILE *f = open_memstream(&a, &na);
        tb_print_graph(f, g);
        fclose(f);
        tb_graph *h = tb_parse_graph(a, na, &err);
        TB_ASSERT(h != NULL); /* printed text always parses */
        f = open_memstream(&b, &nb);
        tb_print_graph(f, h);
        fclose(f);
        TB_ASSERT(na == nb && !memcmp(a, b, na)); /* and round-trips exactly */
        tb_graph_free(h);
        free(a);
        free(b);
    }
    tb_graph_free(g);
    return 0;
}
