/* test_onnx_load.c - loads each ONNX file named on the command line and prints
 * one line per file: "OK <n_nodes> nodes <n_values> values" or the loader's
 * error message. With -v, a loaded graph is also summarised (values with the
 * first elements of constants, nodes with inputs, outputs and attributes).
 * Exit status: 0 if every file loaded, 1 otherwise. */
#include <stdio.h>
#include <string.h>

#include "frontend.h"

/* The first few elements of a constant, as " = {a, b, ...}". */
static void print_data(const tb_value *v) {
    if (!v->data) return;
    int64_t n = tb_value_numel(v);
    printf(" = {");
    for (int64_t i = 0; i < n && i < 6; i++) {
        printf("%s", i ? ", " : "");
        switch (v->dtype) {
        case TB_F32: printf("%g", ((const float *)v->data)[i]); break;
        case TB_F64: printf("%g", ((const double *)v->data)[i]); break;
        case TB_I64: printf("%lld", (long long)((const int64_t *)v->data)[i]); break;
        case TB_I32: printf("%d", ((const int32_t *)v->data)[i]); break;
        case TB_U8: case TB_BOOL: printf("%u", ((const uint8_t *)v->data)[i]); break;
        default: printf("?"); break;
        }
    }
    printf("%s}", n > 6 ? ", ..." : "");
}

static void print_attr(const tb_attr *a) {
    printf(" %s=", a->name);
    switch (a->kind) {
    case TB_ATTR_INT: printf("%lld", (long long)a->i); break;
    case TB_ATTR_FLOAT: printf("%g", a->f); break;
    case TB_ATTR_STRING: printf("\"%s\"", a->s); break;
    case TB_ATTR_INTS:
        printf("[");
        for (int k = 0; k < a->n; k++) printf("%s%lld", k ? "," : "", (long long)a->ints[k]);
        printf("]");
        break;
    case TB_ATTR_FLOATS:
        printf("[");
        for (int k = 0; k < a->n; k++) printf("%s%g", k ? "," : "", a->floats[k]);
        printf("]");
        break;
    case TB_ATTR_TENSOR:
        printf("tensor(%s, rank %d)", tb_dtype_name(a->t->dtype), a->t->rank);
        print_data(a->t);
        break;
    }
}

static void dump(tb_graph *g) {
    printf("  graph %s opset %d\n", g->name, g->opset);
    for (int i = 0; i < g->n_values; i++) {
        tb_value *v = tb_graph_value(g, i);
        printf("  value %d '%s' %s rank %d", i, v->name, tb_dtype_name(v->dtype), v->rank);
        if (v->rank > 0) {
            printf(" [");
            for (int d = 0; d < v->rank; d++) printf("%s%lld", d ? "," : "", (long long)v->dims[d]);
            printf("]");
        }
        printf("%s%s%s", v->data ? " const" : "", tb_value_is_graph_input(g, i) ? " input" : "",
               tb_value_is_graph_output(g, i) ? " output" : "");
        print_data(v);
        printf("\n");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        tb_node *n = tb_graph_node(g, i);
        printf("  node '%s' %s (", n->name, tb_op_name(n->op));
        for (int k = 0; k < n->n_inputs; k++)
            printf("%s%s", k ? ", " : "", n->inputs[k] < 0 ? "-" : g->values[n->inputs[k]].name);
        printf(") -> (");
        for (int k = 0; k < n->n_outputs; k++)
            printf("%s%s", k ? ", " : "", g->values[n->outputs[k]].name);
        printf(")");
        for (int k = 0; k < n->n_attrs; k++) print_attr(&n->attrs[k]);
        printf("\n");
    }
}

int main(int argc, char **argv) {
    int verbose = 0, status = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            verbose = 1;
            continue;
        }
        tb_error err = {{0}};
        tb_graph *g = tb_onnx_load_file(argv[i], &err);
        if (!g) {
            printf("%s\n", err.msg);
            status = 1;
            continue;
        }
        printf("OK %d nodes %d values\n", g->n_nodes, g->n_values);
        if (verbose) dump(g);
        tb_graph_free(g);
    }
    return status;
}
