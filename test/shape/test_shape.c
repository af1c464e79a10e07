/* test_shape.c - unit tests for ir/shape.c: builds small graphs with the ir.h
 * API and checks inferred shapes, canonical attributes, the shape.h resolvers
 * and error messages. Prints each failure and finally "N passed, N failed".
 *
 * gcc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Iir \
 *     ir/graph.c ir/shape.c test/shape/test_shape.c -lm -o /tmp/ts && /tmp/ts
 */
#include "ir.h"
#include "shape.h"

#include <float.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int ok, int line, const char *fmt, ...) {
    if (ok) {
        passed++;
        return;
    }
    failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL line %d: ", line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
#define CHECK(c, ...) check(!!(c), __LINE__, __VA_ARGS__)

#define D(...) ((int64_t[]){__VA_ARGS__})
#define I(...) ((int[]){__VA_ARGS__})
#define NARG(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

static tb_graph *G(int opset) {
    tb_graph *g = tb_graph_new("t");
    g->opset = opset;
    return g;
}

static int inp(tb_graph *g, tb_dtype t, int rank, const int64_t *dims) {
    return tb_graph_add_input(g, NULL, t, rank, dims);
}

/* A constant i64 1-D tensor. */
static int ci64(tb_graph *g, int n, const int64_t *v) {
    return tb_graph_add_const(g, NULL, TB_I64, 1, (int64_t[]){n}, v);
}
#define CI64(g, ...) ci64(g, NARG(__VA_ARGS__), D(__VA_ARGS__))

static int cf32(tb_graph *g, float v) { return tb_graph_add_const(g, NULL, TB_F32, 0, NULL, &v); }

static int out(tb_graph *g, int node, int k) { return tb_graph_node(g, node)->outputs[k]; }

static const char *shape_str(const tb_value *v) {
    static char buf[256];
    int k = snprintf(buf, sizeof buf, "%s[", tb_dtype_name(v->dtype));
    for (int i = 0; i < v->rank; i++)
        k += snprintf(buf + k, sizeof buf - (size_t)k, "%s%lld", i ? "," : "", (long long)v->dims[i]);
    snprintf(buf + k, sizeof buf - (size_t)k, "]%s", v->rank < 0 ? "?" : "");
    return buf;
}

/* Runs inference on the whole graph and checks value `v`'s dtype and dims. */
static void expect_shape_(int line, tb_graph *g, int v, tb_dtype t, int rank, const int64_t *dims) {
    tb_error err = {{0}};
    if (tb_infer_shapes(g, &err)) {
        check(0, line, "unexpected error: %s", err.msg);
        return;
    }
    const tb_value *x = tb_graph_value(g, v);
    int ok = x->dtype == t && x->rank == rank;
    for (int i = 0; ok && i < rank; i++) ok = x->dims[i] == dims[i];
    char want[256];
    tb_value w = {.dtype = t, .rank = rank};
    for (int i = 0; i < rank; i++) w.dims[i] = dims[i];
    snprintf(want, sizeof want, "%s", shape_str(&w));
    check(ok, line, "got %s, expected %s", shape_str(x), want);
}
#define EXPECT(g, v, t, ...) expect_shape_(__LINE__, g, v, t, NARG(__VA_ARGS__), D(__VA_ARGS__))
#define EXPECT_SCALAR(g, v, t) expect_shape_(__LINE__, g, v, t, 0, NULL)

/* Runs inference and expects an error containing `sub`. */
static void expect_error_(int line, tb_graph *g, const char *sub) {
    tb_error err = {{0}};
    int rc = tb_infer_shapes(g, &err);
    check(rc != 0 && strstr(err.msg, sub), line, "expected error containing \"%s\", got rc %d \"%s\"", sub, rc,
          err.msg);
}
#define EXPECT_ERROR(g, sub) expect_error_(__LINE__, g, sub)

static void expect_ints_(int line, tb_graph *g, int node, const char *name, int n, const int64_t *v) {
    int64_t got[32];
    int c = tb_node_ints(tb_graph_node(g, node), name, got, 32);
    int ok = c == n;
    for (int i = 0; ok && i < n; i++) ok = got[i] == v[i];
    char s[256] = "";
    int k = 0;
    for (int i = 0; i < c && i < 32; i++) k += snprintf(s + k, sizeof s - (size_t)k, "%lld ", (long long)got[i]);
    check(ok, line, "attribute %s: got %d values [%s]", name, c, s);
}
#define EXPECT_INTS(g, node, name, ...) expect_ints_(__LINE__, g, node, name, NARG(__VA_ARGS__), D(__VA_ARGS__))

/* ---- convolution ----------------------------------------------------------- */

static void test_conv(void) {
    /* explicit pads, bias */
    tb_graph *g = G(13);
    int x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    int w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    int b = tb_graph_add_const(g, "b", TB_F32, 1, D(4), NULL);
    int n = tb_graph_add_node(g, TB_OP_CONV, "c", 3, I(x, w, b), 1);
    tb_node_set_ints(g, n, "pads", 4, D(1, 1, 1, 1));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 4, 8, 8);
    EXPECT_INTS(g, n, "kernel_shape", 3, 3);
    EXPECT_INTS(g, n, "strides", 1, 1);
    EXPECT_INTS(g, n, "dilations", 1, 1);
    tb_graph_free(g);

    /* SAME_UPPER, stride 2, odd total pad: extra pad at the end; idempotent */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 4, 4, 4);
    EXPECT_INTS(g, n, "pads", 0, 0, 1, 1);
    CHECK(!tb_node_attr(tb_graph_node(g, n), "auto_pad"), "auto_pad not removed");
    int na = tb_graph_node(g, n)->n_attrs;
    EXPECT(g, out(g, n, 0), TB_F32, 1, 4, 4, 4); /* second run */
    EXPECT_INTS(g, n, "pads", 0, 0, 1, 1);
    CHECK(tb_graph_node(g, n)->n_attrs == na, "attribute count changed on re-run: %d -> %d", na,
          tb_graph_node(g, n)->n_attrs);
    tb_graph_free(g);

    /* SAME_LOWER: extra pad at the beginning */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 4, 4, 4);
    EXPECT_INTS(g, n, "pads", 1, 1, 0, 0);
    tb_graph_free(g);

    /* VALID, dilations, stride: 9 - ((3-1)*2+1) = 4 -> 4/2+1 = 3 */
    g = G(13);
    x = inp(g, TB_F32, 4, D(2, 3, 9, 9));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(5, 3, 3, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_string(g, n, "auto_pad", "VALID");
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    tb_node_set_ints(g, n, "dilations", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_F32, 2, 5, 3, 3);
    EXPECT_INTS(g, n, "pads", 0, 0, 0, 0);
    tb_graph_free(g);

    /* depthwise (group = channels), 1-D */
    g = G(11);
    x = inp(g, TB_F32, 3, D(1, 8, 10));
    w = tb_graph_add_const(g, "w", TB_F32, 3, D(8, 1, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_int(g, n, "group", 8);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 8, 8);
    EXPECT_INTS(g, n, "kernel_shape", 3);
    EXPECT_INTS(g, n, "pads", 0, 0);
    tb_graph_free(g);

    /* errors */
    g = G(13);
    x = inp(g, TB_F32, 5, D(1, 3, 4, 4, 4));
    w = tb_graph_add_const(g, "w", TB_F32, 5, D(4, 3, 3, 3, 3), NULL);
    tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    EXPECT_ERROR(g, "3-D Conv is not supported");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 3, D(4, 3, 3), NULL);
    tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    EXPECT_ERROR(g, "input 1 has rank 3, expected 4");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 2, 3, 3), NULL);
    tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    EXPECT_ERROR(g, "input channels per group");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_ints(g, n, "pads", 3, D(1, 1, 1));
    EXPECT_ERROR(g, "pads must have 4 values, got 3");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 2, 2));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    EXPECT_ERROR(g, "larger than the padded input");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 8, 8));
    w = tb_graph_add_const(g, "w", TB_F32, 4, D(4, 3, 3, 3), NULL);
    n = tb_graph_add_node(g, TB_OP_CONV, "c", 2, I(x, w), 1);
    tb_node_set_string(g, n, "auto_pad", "SAME");
    EXPECT_ERROR(g, "auto_pad 'SAME'");
    tb_graph_free(g);
}

/* ---- pooling ----------------------------------------------------------- */

static void test_pool(void) {
    /* ceil_mode: 6, k3, s2 -> floor 2, ceil 3 */
    tb_graph *g = G(13);
    int x = inp(g, TB_F32, 4, D(1, 2, 6, 6));
    int n = tb_graph_add_node(g, TB_OP_MAXPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(3, 3));
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 2, 2);
    tb_node_set_int(g, n, "ceil_mode", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 3, 3);
    EXPECT_INTS(g, n, "pads", 0, 0, 0, 0);
    CHECK(tb_node_int(tb_graph_node(g, n), "ceil_mode", 0) == 1, "ceil_mode not kept");
    tb_graph_free(g);

    /* ceil_mode drops a window that would start in the end padding:
     * 5, k2, s2, pads 1/1 -> ceil(5/2)+1 = 4, but (4-1)*2 >= 5+1 -> 3 */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 5, 5));
    n = tb_graph_add_node(g, TB_OP_AVGPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(2, 2));
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    tb_node_set_ints(g, n, "pads", 4, D(1, 1, 1, 1));
    tb_node_set_int(g, n, "ceil_mode", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 3, 3);
    tb_graph_free(g);

    /* AveragePool SAME_LOWER stride 2 on 7: out 4, total (3*2+3-7) = 2 -> 1/1; on 8: total 1 -> 1/0 */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 7, 8));
    n = tb_graph_add_node(g, TB_OP_AVGPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(3, 3));
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    tb_node_set_string(g, n, "auto_pad", "SAME_LOWER");
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 4, 4);
    EXPECT_INTS(g, n, "pads", 1, 1, 1, 0);
    EXPECT_INTS(g, n, "dilations", 1, 1);
    CHECK(!tb_node_attr(tb_graph_node(g, n), "auto_pad"), "auto_pad not removed");
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 4, 4);
    EXPECT_INTS(g, n, "pads", 1, 1, 1, 0);
    tb_graph_free(g);

    /* MaxPool SAME_UPPER stride 2 with ceil_mode: still ceil(in / stride) */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 8, 5));
    n = tb_graph_add_node(g, TB_OP_MAXPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(3, 1));
    tb_node_set_ints(g, n, "strides", 2, D(2, 3));
    tb_node_set_string(g, n, "auto_pad", "SAME_UPPER");
    tb_node_set_int(g, n, "ceil_mode", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 4, 2);
    EXPECT_INTS(g, n, "pads", 0, 0, 1, 0);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 4, 2);
    tb_graph_free(g);

    /* 1-D MaxPool with dilation: 10 - ((2-1)*3+1) = 6 -> 6/2+1 = 4 */
    g = G(12);
    x = inp(g, TB_F32, 3, D(1, 4, 10));
    n = tb_graph_add_node(g, TB_OP_MAXPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 1, D(2));
    tb_node_set_ints(g, n, "strides", 1, D(2));
    tb_node_set_ints(g, n, "dilations", 1, D(3));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 4, 4);
    EXPECT_INTS(g, n, "pads", 0, 0);
    tb_graph_free(g);

    /* errors */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 2, 6, 6));
    n = tb_graph_add_node(g, TB_OP_MAXPOOL, "p", 1, I(x), 2);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(2, 2));
    EXPECT_ERROR(g, "Indices");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 2, 6, 6));
    tb_graph_add_node(g, TB_OP_AVGPOOL, "p", 1, I(x), 1);
    EXPECT_ERROR(g, "'kernel_shape' is required");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 2, 6, 6));
    n = tb_graph_add_node(g, TB_OP_MAXPOOL, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(2, 2));
    tb_node_set_ints(g, n, "pads", 4, D(2, 0, 0, 0));
    EXPECT_ERROR(g, "smaller than the kernel");
    tb_graph_free(g);

    /* global pools */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 8, 7, 7));
    n = tb_graph_add_node(g, TB_OP_GLOBALAVGPOOL, "p", 1, I(x), 1);
    int m = tb_graph_add_node(g, TB_OP_GLOBALMAXPOOL, "q", 1, I(x), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 8, 1, 1);
    EXPECT(g, out(g, m, 0), TB_F32, 1, 8, 1, 1);
    tb_graph_free(g);
}

/* ---- dense --------------------------------------------------------------- */

static void test_dense(void) {
    tb_graph *g = G(13);
    int a = inp(g, TB_F32, 2, D(2, 5));
    int b = tb_graph_add_const(g, NULL, TB_F32, 2, D(7, 5), NULL);
    int c = tb_graph_add_const(g, NULL, TB_F32, 1, D(7), NULL);
    int n = tb_graph_add_node(g, TB_OP_GEMM, "g", 3, I(a, b, c), 1);
    tb_node_set_int(g, n, "transB", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 7);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 2, D(5, 2));
    b = tb_graph_add_const(g, NULL, TB_F32, 2, D(5, 7), NULL);
    c = tb_graph_add_const(g, NULL, TB_F32, 2, D(2, 1), NULL);
    n = tb_graph_add_node(g, TB_OP_GEMM, "g", 3, I(a, b, c), 1);
    tb_node_set_int(g, n, "transA", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 7);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 2, D(2, 5));
    b = tb_graph_add_const(g, NULL, TB_F32, 2, D(5, 7), NULL);
    c = tb_graph_add_const(g, NULL, TB_F32, 1, D(3), NULL);
    tb_graph_add_node(g, TB_OP_GEMM, "g", 3, I(a, b, c), 1);
    EXPECT_ERROR(g, "does not broadcast to [2,7]");
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 2, D(2, 5));
    b = tb_graph_add_const(g, NULL, TB_F32, 2, D(4, 7), NULL);
    tb_graph_add_node(g, TB_OP_GEMM, "g", 2, I(a, b), 1);
    EXPECT_ERROR(g, "inner dimensions differ");
    tb_graph_free(g);

    /* MatMul: 1-D x 2-D, 2-D x 1-D, 1-D x 1-D, batch broadcasting */
    g = G(13);
    a = inp(g, TB_F32, 1, D(3));
    b = inp(g, TB_F32, 2, D(3, 4));
    int v = inp(g, TB_F32, 2, D(4, 3));
    int n1 = tb_graph_add_node(g, TB_OP_MATMUL, "m1", 2, I(a, b), 1);
    int n2 = tb_graph_add_node(g, TB_OP_MATMUL, "m2", 2, I(v, a), 1);
    int n3 = tb_graph_add_node(g, TB_OP_MATMUL, "m3", 2, I(a, a), 1);
    EXPECT(g, out(g, n1, 0), TB_F32, 4);
    EXPECT(g, out(g, n2, 0), TB_F32, 4);
    EXPECT_SCALAR(g, out(g, n3, 0), TB_F32);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 4, D(2, 1, 3, 4));
    b = inp(g, TB_F32, 3, D(5, 4, 6));
    n = tb_graph_add_node(g, TB_OP_MATMUL, "m", 2, I(a, b), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 5, 3, 6);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 3, D(2, 3, 4));
    b = inp(g, TB_F32, 3, D(3, 4, 6));
    tb_graph_add_node(g, TB_OP_MATMUL, "m", 2, I(a, b), 1);
    EXPECT_ERROR(g, "do not broadcast");
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 2, D(3, 4));
    b = inp(g, TB_F32, 2, D(5, 6));
    tb_graph_add_node(g, TB_OP_MATMUL, "m", 2, I(a, b), 1);
    EXPECT_ERROR(g, "inner dimensions differ");
    tb_graph_free(g);

    /* BatchNormalization */
    g = G(9);
    int x = inp(g, TB_F32, 4, D(1, 3, 5, 5));
    int p[4];
    for (int i = 0; i < 4; i++) p[i] = tb_graph_add_const(g, NULL, TB_F32, 1, D(3), NULL);
    n = tb_graph_add_node(g, TB_OP_BATCHNORM, "bn", 5, I(x, p[0], p[1], p[2], p[3]), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 3, 5, 5);
    tb_graph_free(g);

    g = G(9);
    x = inp(g, TB_F32, 4, D(1, 3, 5, 5));
    for (int i = 0; i < 4; i++) p[i] = tb_graph_add_const(g, NULL, TB_F32, 1, D(3), NULL);
    tb_graph_add_node(g, TB_OP_BATCHNORM, "bn", 5, I(x, p[0], p[1], p[2], p[3]), 3);
    EXPECT_ERROR(g, "training-mode outputs");
    tb_graph_free(g);

    g = G(9);
    x = inp(g, TB_F32, 4, D(1, 3, 5, 5));
    for (int i = 0; i < 4; i++) p[i] = tb_graph_add_const(g, NULL, TB_F32, 1, D(i == 2 ? 4 : 3), NULL);
    tb_graph_add_node(g, TB_OP_BATCHNORM, "bn", 5, I(x, p[0], p[1], p[2], p[3]), 1);
    EXPECT_ERROR(g, "input 3 has shape [4], expected [3]");
    tb_graph_free(g);
}

/* ---- elementwise ------------------------------------------------------------ */

static void test_elementwise(void) {
    tb_graph *g = G(13);
    int a = inp(g, TB_F32, 2, D(3, 1));
    int b = inp(g, TB_F32, 2, D(1, 4));
    int n = tb_graph_add_node(g, TB_OP_ADD, "add", 2, I(a, b), 1);
    int s = inp(g, TB_F32, 0, NULL);
    int c = inp(g, TB_F32, 3, D(2, 1, 4));
    int m = tb_graph_add_node(g, TB_OP_MUL, "mul", 2, I(out(g, n, 0), s), 1);
    int d = tb_graph_add_node(g, TB_OP_DIV, "div", 2, I(c, out(g, m, 0)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 3, 4);
    EXPECT(g, out(g, m, 0), TB_F32, 3, 4);
    EXPECT(g, out(g, d, 0), TB_F32, 2, 3, 4);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_I64, 1, D(4));
    b = tb_graph_add_const(g, NULL, TB_I64, 0, NULL, D(2));
    n = tb_graph_add_node(g, TB_OP_SUB, "sub", 2, I(a, b), 1);
    EXPECT(g, out(g, n, 0), TB_I64, 4);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_I32, 2, D(2, 2));
    b = inp(g, TB_I32, 1, D(2));
    n = tb_graph_add_node(g, TB_OP_ADD, "add", 2, I(a, b), 1);
    EXPECT(g, out(g, n, 0), TB_I32, 2, 2);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 2, D(3, 2));
    b = inp(g, TB_F32, 1, D(4));
    tb_graph_add_node(g, TB_OP_ADD, "add", 2, I(a, b), 1);
    EXPECT_ERROR(g, "[3,2] and [4] are not broadcast-compatible");
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 1, D(4));
    b = inp(g, TB_I64, 1, D(4));
    tb_graph_add_node(g, TB_OP_ADD, "add", 2, I(a, b), 1);
    EXPECT_ERROR(g, "input 1 has dtype i64 but input 0 has dtype f32");
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_BOOL, 1, D(4));
    b = inp(g, TB_BOOL, 1, D(4));
    tb_graph_add_node(g, TB_OP_MUL, "mul", 2, I(a, b), 1);
    EXPECT_ERROR(g, "input 0 has dtype bool, expected f32, u8, i8, u16, i16, i32, i64, f64, u32 or u64");
    tb_graph_free(g);

    /* unary */
    static const tb_op unary[] = {TB_OP_RELU,     TB_OP_SIGMOID, TB_OP_HARDSIGMOID, TB_OP_HARDSWISH, TB_OP_LEAKYRELU,
                                  TB_OP_TANH,     TB_OP_EXP,     TB_OP_LOG,         TB_OP_SQRT,      TB_OP_ABS,
                                  TB_OP_NEG,      TB_OP_RECIPROCAL, TB_OP_CLIP};
    for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++) {
        g = G(13);
        a = inp(g, TB_F32, 3, D(2, 3, 4));
        n = tb_graph_add_node(g, unary[i], "u", 1, I(a), 1);
        EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
        tb_graph_free(g);
    }
    g = G(13);
    a = inp(g, TB_I32, 1, D(5));
    n = tb_graph_add_node(g, TB_OP_ABS, "abs", 1, I(a), 1);
    m = tb_graph_add_node(g, TB_OP_NEG, "neg", 1, I(a), 1);
    EXPECT(g, out(g, n, 0), TB_I32, 5);
    EXPECT(g, out(g, m, 0), TB_I32, 5);
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_I32, 1, D(5));
    tb_graph_add_node(g, TB_OP_RELU, "relu", 1, I(a), 1);
    EXPECT_ERROR(g, "input 0 has dtype i32, expected f32");
    tb_graph_free(g);

    g = G(13);
    a = inp(g, TB_F32, 1, D(5));
    n = tb_graph_add_node(g, TB_OP_LEAKYRELU, "lr", 1, I(a), 1);
    tb_node_set_string(g, n, "alpha", "x");
    EXPECT_ERROR(g, "'alpha' must be a float");
    tb_graph_free(g);

    /* Clip before opset 11: attributes */
    tb_error err = {{0}};
    float lo, hi;
    g = G(10);
    a = inp(g, TB_F32, 2, D(2, 2));
    n = tb_graph_add_node(g, TB_OP_CLIP, "clip", 1, I(a), 1);
    tb_node_set_float(g, n, "min", 0.0f);
    tb_node_set_float(g, n, "max", 6.0f);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 2);
    CHECK(!tb_clip_resolve(g, n, &lo, &hi, &err) && lo == 0.0f && hi == 6.0f, "clip-6 bounds %g %g", lo, hi);
    tb_graph_free(g);

    /* Clip from opset 11: optional inputs (min omitted) */
    g = G(11);
    a = inp(g, TB_F32, 2, D(2, 2));
    n = tb_graph_add_node(g, TB_OP_CLIP, "clip", 3, I(a, -1, cf32(g, 6.0f)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 2);
    CHECK(!tb_clip_resolve(g, n, &lo, &hi, &err) && lo == -FLT_MAX && hi == 6.0f, "clip-11 bounds %g %g", lo, hi);
    tb_graph_free(g);

    /* a bound computed at run time: the shape is known, the resolver refuses */
    g = G(12);
    a = inp(g, TB_F32, 2, D(2, 2));
    b = inp(g, TB_F32, 0, NULL);
    n = tb_graph_add_node(g, TB_OP_CLIP, "clip", 2, I(a, b), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 2);
    CHECK(tb_clip_resolve(g, n, &lo, &hi, &err) && strstr(err.msg, "the 'min' input must be a constant"),
          "clip_resolve with a run-time bound: %s", err.msg);
    tb_graph_free(g);

    g = G(12);
    a = inp(g, TB_F32, 2, D(2, 2));
    b = inp(g, TB_F32, 1, D(2));
    tb_graph_add_node(g, TB_OP_CLIP, "clip", 2, I(a, b), 1);
    EXPECT_ERROR(g, "the 'min' input must be a scalar");
    tb_graph_free(g);

    g = G(11);
    a = inp(g, TB_F32, 2, D(2, 2));
    n = tb_graph_add_node(g, TB_OP_CLIP, "clip", 1, I(a), 1);
    tb_node_set_float(g, n, "min", 0.0f);
    EXPECT_ERROR(g, "attribute 'min' became an input in opset 11");
    tb_graph_free(g);
}

/* ---- reductions and normalisation --------------------------------------- */

static void test_reduce_softmax(void) {
    tb_error err = {{0}};
    tb_graph *g = G(13);
    int x = inp(g, TB_F32, 4, D(1, 8, 5, 5));
    int n1 = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r1", 1, I(x), 1);
    tb_node_set_ints(g, n1, "axes", 2, D(2, -1));
    int n2 = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r2", 1, I(x), 1);
    tb_node_set_ints(g, n2, "axes", 2, D(2, 3));
    tb_node_set_int(g, n2, "keepdims", 0);
    int n3 = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r3", 1, I(x), 1);
    EXPECT(g, out(g, n1, 0), TB_F32, 1, 8, 1, 1);
    EXPECT(g, out(g, n2, 0), TB_F32, 1, 8);
    EXPECT(g, out(g, n3, 0), TB_F32, 1, 1, 1, 1);
    int mask[8], keep;
    CHECK(!tb_reduce_axes(g, n2, mask, &keep, &err) && !mask[0] && !mask[1] && mask[2] && mask[3] && keep == 0,
          "reduce axes mask");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    int n = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r", 1, I(x), 1);
    tb_node_set_ints(g, n, "axes", 1, D(2));
    EXPECT_ERROR(g, "axis 2 is out of range for rank 2");
    tb_graph_free(g);

    /* Softmax before 13: axis 1, coerced to 2-D */
    int axis, c2;
    g = G(11);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    n = tb_graph_add_node(g, TB_OP_SOFTMAX, "s", 1, I(x), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    CHECK(!tb_softmax_axis(g, n, &axis, &c2, &err) && axis == 1 && c2 == 1, "softmax-11 axis %d coerce %d", axis, c2);
    tb_graph_free(g);

    /* Softmax from 13: axis -1, single axis */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    n = tb_graph_add_node(g, TB_OP_SOFTMAX, "s", 1, I(x), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    CHECK(!tb_softmax_axis(g, n, &axis, &c2, &err) && axis == 2 && c2 == 0, "softmax-13 axis %d coerce %d", axis, c2);
    tb_node_set_int(g, n, "axis", 1);
    CHECK(!tb_softmax_axis(g, n, &axis, &c2, &err) && axis == 1 && c2 == 0, "softmax-13 axis=1: %d %d", axis, c2);
    tb_node_set_int(g, n, "axis", 3);
    EXPECT_ERROR(g, "axis 3 is out of range for rank 3");
    tb_graph_free(g);
}

/* ---- data movement ------------------------------------------------------------ */

static void test_movement(void) {
    tb_error err = {{0}};
    /* Identity, Dropout (mask bool from opset 10, T before) */
    tb_graph *g = G(12);
    int x = inp(g, TB_F32, 2, D(2, 3));
    int n = tb_graph_add_node(g, TB_OP_IDENTITY, "id", 1, I(x), 1);
    int d = tb_graph_add_node(g, TB_OP_DROPOUT, "do", 1, I(x), 2);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3);
    EXPECT(g, out(g, d, 0), TB_F32, 2, 3);
    EXPECT(g, out(g, d, 1), TB_BOOL, 2, 3);
    tb_graph_free(g);

    g = G(7);
    x = inp(g, TB_F32, 2, D(2, 3));
    d = tb_graph_add_node(g, TB_OP_DROPOUT, "do", 1, I(x), 2);
    EXPECT(g, out(g, d, 1), TB_F32, 2, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    uint8_t t = 1;
    int tm = tb_graph_add_const(g, NULL, TB_BOOL, 0, NULL, &t);
    tb_graph_add_node(g, TB_OP_DROPOUT, "do", 3, I(x, -1, tm), 1);
    EXPECT_ERROR(g, "training_mode=true is not supported");
    tb_graph_free(g);

    /* Flatten */
    g = G(13);
    x = inp(g, TB_F32, 4, D(2, 3, 4, 5));
    int f1 = tb_graph_add_node(g, TB_OP_FLATTEN, "f1", 1, I(x), 1);
    int f2 = tb_graph_add_node(g, TB_OP_FLATTEN, "f2", 1, I(x), 1);
    tb_node_set_int(g, f2, "axis", -1);
    int f3 = tb_graph_add_node(g, TB_OP_FLATTEN, "f3", 1, I(x), 1);
    tb_node_set_int(g, f3, "axis", 0);
    int f4 = tb_graph_add_node(g, TB_OP_FLATTEN, "f4", 1, I(x), 1);
    tb_node_set_int(g, f4, "axis", 4);
    EXPECT(g, out(g, f1, 0), TB_F32, 2, 60);
    EXPECT(g, out(g, f2, 0), TB_F32, 24, 5);
    EXPECT(g, out(g, f3, 0), TB_F32, 1, 120);
    EXPECT(g, out(g, f4, 0), TB_F32, 120, 1);
    tb_node_set_int(g, f4, "axis", 5);
    EXPECT_ERROR(g, "axis 5 is out of range for rank 4");
    tb_graph_free(g);

    /* Reshape: 0 copies, -1 inferred; allowzero; errors */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    int r1 = tb_graph_add_node(g, TB_OP_RESHAPE, "r1", 2, I(x, CI64(g, 0, -1)), 1);
    int r2 = tb_graph_add_node(g, TB_OP_RESHAPE, "r2", 2, I(x, CI64(g, -1, 0, 2)), 1);
    EXPECT(g, out(g, r1, 0), TB_F32, 2, 12);
    EXPECT(g, out(g, r2, 0), TB_F32, 4, 3, 2);
    tb_graph_free(g);

    g = G(14);
    x = inp(g, TB_F32, 2, D(0, 4));
    n = tb_graph_add_node(g, TB_OP_RESHAPE, "r", 2, I(x, CI64(g, 4, 0)), 1);
    tb_node_set_int(g, n, "allowzero", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 4, 0);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    int shp = inp(g, TB_I64, 1, D(2));
    tb_graph_add_node(g, TB_OP_RESHAPE, "r", 2, I(x, shp), 1);
    EXPECT_ERROR(g, "the 'shape' input must be a constant (tyboxc needs static shapes)");
    tb_graph_free(g);

    /* a shape not yet folded is accepted only when the output already has a
     * shape (textual IR before const-fold), and that shape is checked */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    shp = inp(g, TB_I64, 1, D(2));
    n = tb_graph_add_node(g, TB_OP_RESHAPE, "r", 2, I(x, shp), 1);
    tb_value *yv = tb_graph_value(g, out(g, n, 0));
    yv->dtype = TB_F32;
    yv->rank = 2;
    yv->dims[0] = 6;
    yv->dims[1] = 4;
    EXPECT(g, out(g, n, 0), TB_F32, 6, 4);
    yv->dims[1] = 5;
    EXPECT_ERROR(g, "cannot reshape [2,3,4] into [6,5]");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    tb_graph_add_node(g, TB_OP_RESHAPE, "r", 2, I(x, CI64(g, 5, -1)), 1);
    EXPECT_ERROR(g, "cannot reshape [2,3,4]");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    tb_graph_add_node(g, TB_OP_RESHAPE, "r", 2, I(x, CI64(g, -1, -1)), 1);
    EXPECT_ERROR(g, "more than one -1");
    tb_graph_free(g);

    /* Squeeze / Unsqueeze: attribute before 13, input from 13 */
    g = G(11);
    x = inp(g, TB_F32, 4, D(1, 3, 1, 5));
    int s1 = tb_graph_add_node(g, TB_OP_SQUEEZE, "s1", 1, I(x), 1);
    tb_node_set_ints(g, s1, "axes", 1, D(-2));
    int s2 = tb_graph_add_node(g, TB_OP_SQUEEZE, "s2", 1, I(x), 1);
    int u1 = tb_graph_add_node(g, TB_OP_UNSQUEEZE, "u1", 1, I(x), 1);
    tb_node_set_ints(g, u1, "axes", 2, D(0, -1));
    EXPECT(g, out(g, s1, 0), TB_F32, 1, 3, 5);
    EXPECT(g, out(g, s2, 0), TB_F32, 3, 5);
    EXPECT(g, out(g, u1, 0), TB_F32, 1, 1, 3, 1, 5, 1);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 3, 1, 5));
    s1 = tb_graph_add_node(g, TB_OP_SQUEEZE, "s1", 2, I(x, CI64(g, 0)), 1);
    s2 = tb_graph_add_node(g, TB_OP_SQUEEZE, "s2", 1, I(x), 1);
    u1 = tb_graph_add_node(g, TB_OP_UNSQUEEZE, "u1", 2, I(x, CI64(g, 1, 3)), 1);
    EXPECT(g, out(g, s1, 0), TB_F32, 3, 1, 5);
    EXPECT(g, out(g, s2, 0), TB_F32, 3, 5);
    EXPECT(g, out(g, u1, 0), TB_F32, 1, 1, 3, 1, 1, 5);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(1, 3));
    tb_graph_add_node(g, TB_OP_SQUEEZE, "s", 2, I(x, CI64(g, 1)), 1);
    EXPECT_ERROR(g, "cannot squeeze axis 1 of size 3");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(1, 3));
    n = tb_graph_add_node(g, TB_OP_UNSQUEEZE, "u", 1, I(x), 1);
    tb_node_set_ints(g, n, "axes", 1, D(0));
    EXPECT_ERROR(g, "became an input in opset 13");
    tb_graph_free(g);

    g = G(11);
    x = inp(g, TB_F32, 2, D(1, 3));
    tb_graph_add_node(g, TB_OP_UNSQUEEZE, "u", 2, I(x, CI64(g, 0)), 1);
    EXPECT_ERROR(g, "expected 1 input, got 2");
    tb_graph_free(g);

    /* Transpose */
    int perm[8];
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    int t1 = tb_graph_add_node(g, TB_OP_TRANSPOSE, "t1", 1, I(x), 1);
    int t2 = tb_graph_add_node(g, TB_OP_TRANSPOSE, "t2", 1, I(x), 1);
    tb_node_set_ints(g, t2, "perm", 3, D(0, 2, 1));
    EXPECT(g, out(g, t1, 0), TB_F32, 4, 3, 2);
    EXPECT(g, out(g, t2, 0), TB_F32, 2, 4, 3);
    CHECK(!tb_transpose_perm(g, t1, perm, &err) && perm[0] == 2 && perm[1] == 1 && perm[2] == 0, "default perm");
    tb_node_set_ints(g, t2, "perm", 3, D(0, 2, 2));
    EXPECT_ERROR(g, "not a permutation");
    tb_graph_free(g);

    /* Concat */
    int axis;
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    int y = inp(g, TB_F32, 3, D(2, 3, 5));
    n = tb_graph_add_node(g, TB_OP_CONCAT, "c", 3, I(x, y, x), 1);
    tb_node_set_int(g, n, "axis", -1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 13);
    CHECK(!tb_concat_axis(g, n, &axis, &err) && axis == 2, "concat axis %d", axis);
    tb_node_set_int(g, n, "axis", 1);
    EXPECT_ERROR(g, "input 1 has dim 2 = 5, expected 4");
    tb_graph_free(g);

    /* Split: attribute before 13, input from 13, equal split */
    int64_t sizes[16];
    g = G(11);
    x = inp(g, TB_F32, 2, D(6, 4));
    n = tb_graph_add_node(g, TB_OP_SPLIT, "s", 1, I(x), 2);
    tb_node_set_ints(g, n, "split", 2, D(2, 4));
    EXPECT(g, out(g, n, 0), TB_F32, 2, 4);
    EXPECT(g, out(g, n, 1), TB_F32, 4, 4);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(6, 4));
    n = tb_graph_add_node(g, TB_OP_SPLIT, "s", 2, I(x, CI64(g, 1, 3)), 2);
    tb_node_set_int(g, n, "axis", -1);
    int m = tb_graph_add_node(g, TB_OP_SPLIT, "s2", 1, I(x), 3);
    EXPECT(g, out(g, n, 1), TB_F32, 6, 3);
    EXPECT(g, out(g, m, 2), TB_F32, 2, 4);
    CHECK(!tb_split_resolve(g, n, &axis, sizes, &err) && axis == 1 && sizes[0] == 1 && sizes[1] == 3, "split sizes");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(6, 4));
    tb_graph_add_node(g, TB_OP_SPLIT, "s", 1, I(x), 4);
    EXPECT_ERROR(g, "cannot be split equally into 4 outputs");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(6, 4));
    tb_graph_add_node(g, TB_OP_SPLIT, "s", 2, I(x, CI64(g, 1, 2)), 2);
    EXPECT_ERROR(g, "split sums to 3 but axis 0 has size 6");
    tb_graph_free(g);

    /* Gather */
    g = G(13);
    x = inp(g, TB_F32, 3, D(5, 6, 7));
    int idx = inp(g, TB_I64, 2, D(2, 3));
    n = tb_graph_add_node(g, TB_OP_GATHER, "g", 2, I(x, idx), 1);
    tb_node_set_int(g, n, "axis", 1);
    int sc = tb_graph_add_const(g, NULL, TB_I32, 0, NULL, (int32_t[]){-1});
    m = tb_graph_add_node(g, TB_OP_GATHER, "g0", 2, I(x, sc), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 5, 2, 3, 7);
    EXPECT(g, out(g, m, 0), TB_F32, 6, 7);
    CHECK(!tb_gather_axis(g, n, &axis, &err) && axis == 1, "gather axis");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(5, 6));
    tb_graph_add_node(g, TB_OP_GATHER, "g", 2, I(x, CI64(g, 0, 5)), 1);
    EXPECT_ERROR(g, "index 5 is out of range for axis 0 of size 5");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(5, 6));
    idx = inp(g, TB_F32, 1, D(2));
    tb_graph_add_node(g, TB_OP_GATHER, "g", 2, I(x, idx), 1);
    EXPECT_ERROR(g, "input 1 has dtype f32, expected i32 or i64");
    tb_graph_free(g);

    /* Expand */
    g = G(13);
    x = inp(g, TB_F32, 2, D(3, 1));
    n = tb_graph_add_node(g, TB_OP_EXPAND, "e", 2, I(x, CI64(g, 2, 1, 4)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    tb_graph_free(g);

    /* shape not yet constant: a recorded output must be a broadcast of the input */
    g = G(13);
    x = inp(g, TB_F32, 2, D(3, 1));
    n = tb_graph_add_node(g, TB_OP_EXPAND, "e", 2, I(x, inp(g, TB_I64, 1, D(3))), 1);
    yv = tb_graph_value(g, out(g, n, 0));
    yv->dtype = TB_F32;
    yv->rank = 3;
    memcpy(yv->dims, D(2, 3, 4), 3 * sizeof(int64_t));
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    yv->dims[1] = 4;
    EXPECT_ERROR(g, "cannot be expanded to [2,4,4]");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(3, 2));
    tb_graph_add_node(g, TB_OP_EXPAND, "e", 2, I(x, CI64(g, 3, 4)), 1);
    EXPECT_ERROR(g, "cannot be expanded to [3,4]");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(1));
    tb_graph_add_node(g, TB_OP_EXPAND, "e", 2, I(x, CI64(g, 65536, 65536)), 1);
    EXPECT_ERROR(g, "tensor too large");
    tb_graph_free(g);

    /* Cast */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    n = tb_graph_add_node(g, TB_OP_CAST, "c", 1, I(x), 1);
    tb_node_set_int(g, n, "to", 7);
    EXPECT(g, out(g, n, 0), TB_I64, 2, 3);
    tb_node_set_int(g, n, "to", 8); /* string */
    EXPECT_ERROR(g, "Cast to ONNX type 8 is not supported");
    tb_graph_free(g);
}

/* ---- Slice and Pad ------------------------------------------------------------ */

static void test_slice(void) {
    tb_error err = {{0}};
    int64_t start[8], step[8];
    /* Slice-1 attributes */
    tb_graph *g = G(9);
    int x = inp(g, TB_F32, 3, D(4, 10, 6));
    int n = tb_graph_add_node(g, TB_OP_SLICE, "s", 1, I(x), 1);
    tb_node_set_ints(g, n, "starts", 2, D(1, -3));
    tb_node_set_ints(g, n, "ends", 2, D(INT64_MAX, 2147483647));
    tb_node_set_ints(g, n, "axes", 2, D(0, 1));
    EXPECT(g, out(g, n, 0), TB_F32, 3, 3, 6);
    CHECK(!tb_slice_resolve(g, n, start, step, &err) && start[0] == 1 && start[1] == 7 && start[2] == 0 &&
              step[2] == 1,
          "slice-1 starts %lld %lld", (long long)start[0], (long long)start[1]);
    tb_graph_free(g);

    /* Slice-10 inputs: negative step reversing the whole axis (INT64_MIN end),
     * a step of 2 with INT64_MAX end, negative axis */
    g = G(13);
    x = inp(g, TB_F32, 3, D(4, 10, 6));
    n = tb_graph_add_node(g, TB_OP_SLICE, "s", 5,
                          I(x, CI64(g, -1, 1), CI64(g, INT64_MIN, INT64_MAX), CI64(g, 1, -1), CI64(g, -1, 2)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 4, 10, 3);
    CHECK(!tb_slice_resolve(g, n, start, step, &err) && start[1] == 9 && step[1] == -1 && start[2] == 1 &&
              step[2] == 2 && start[0] == 0 && step[0] == 1,
          "slice-10 resolve: start %lld %lld step %lld %lld", (long long)start[1], (long long)start[2],
          (long long)step[1], (long long)step[2]);
    tb_graph_free(g);

    /* negative step with explicit bounds: 8 down to (excluding) 2 step -3 -> 8, 5 */
    g = G(13);
    x = inp(g, TB_F32, 1, D(10));
    n = tb_graph_add_node(g, TB_OP_SLICE, "s", 5, I(x, CI64(g, 8), CI64(g, 2), CI64(g, 0), CI64(g, -3)), 1);
    int m = tb_graph_add_node(g, TB_OP_SLICE, "e", 3, I(x, CI64(g, 5), CI64(g, 3)), 1); /* empty */
    int k = tb_graph_add_node(g, TB_OP_SLICE, "k", 5, I(x, CI64(g, 100), CI64(g, -100), CI64(g, 0), CI64(g, -4)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2);
    EXPECT(g, out(g, m, 0), TB_F32, 0);
    EXPECT(g, out(g, k, 0), TB_F32, 3); /* 9, 5, 1 */
    CHECK(!tb_slice_resolve(g, k, start, step, &err) && start[0] == 9 && step[0] == -4, "slice clamp start %lld",
          (long long)start[0]);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(10));
    tb_graph_add_node(g, TB_OP_SLICE, "s", 5, I(x, CI64(g, 0), CI64(g, 5), CI64(g, 0), CI64(g, 0)), 1);
    EXPECT_ERROR(g, "steps[0] is 0");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(10));
    int st = inp(g, TB_I64, 1, D(1));
    tb_graph_add_node(g, TB_OP_SLICE, "s", 3, I(x, st, CI64(g, 5)), 1);
    EXPECT_ERROR(g, "the 'starts' input must be a constant");
    tb_graph_free(g);

    /* Pad-2 attributes */
    int64_t pads[16];
    int mode;
    double value;
    g = G(7);
    x = inp(g, TB_F32, 2, D(3, 4));
    n = tb_graph_add_node(g, TB_OP_PAD, "p", 1, I(x), 1);
    tb_node_set_ints(g, n, "pads", 4, D(1, 2, 3, 4));
    tb_node_set_float(g, n, "value", 1.5f);
    EXPECT(g, out(g, n, 0), TB_F32, 7, 10);
    CHECK(!tb_pad_resolve(g, n, pads, &mode, &value, &err) && mode == 0 && value == 1.5 && pads[1] == 2 &&
              pads[2] == 3,
          "pad-2 resolve");
    tb_graph_free(g);

    /* Pad-11 inputs, reflect */
    g = G(11);
    x = inp(g, TB_F32, 4, D(1, 3, 4, 4));
    n = tb_graph_add_node(g, TB_OP_PAD, "p", 2, I(x, CI64(g, 0, 0, 1, 2, 0, 0, 3, 1)), 1);
    tb_node_set_string(g, n, "mode", "reflect");
    m = tb_graph_add_node(g, TB_OP_PAD, "q", 3, I(x, CI64(g, 0, 0, 1, 1, 0, 0, 1, 1), cf32(g, -2.0f)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 3, 8, 7);
    EXPECT(g, out(g, m, 0), TB_F32, 1, 3, 6, 6);
    CHECK(!tb_pad_resolve(g, n, pads, &mode, &value, &err) && mode == 1 && value == 0, "pad reflect mode");
    CHECK(!tb_pad_resolve(g, m, pads, &mode, &value, &err) && mode == 0 && value == -2.0, "pad constant value");
    tb_graph_free(g);

    g = G(11);
    x = inp(g, TB_F32, 2, D(3, 4));
    tb_graph_add_node(g, TB_OP_PAD, "p", 2, I(x, CI64(g, 0, -1, 0, 0)), 1);
    EXPECT_ERROR(g, "negative pads are not supported");
    tb_graph_free(g);

    g = G(11);
    x = inp(g, TB_F32, 2, D(3, 4));
    tb_graph_add_node(g, TB_OP_PAD, "p", 2, I(x, CI64(g, 0, 0, 0)), 1);
    EXPECT_ERROR(g, "pads must have 4 values, got 3");
    tb_graph_free(g);

    g = G(11);
    x = inp(g, TB_F32, 2, D(3, 4));
    n = tb_graph_add_node(g, TB_OP_PAD, "p", 2, I(x, CI64(g, 3, 0, 0, 0)), 1);
    tb_node_set_string(g, n, "mode", "reflect");
    EXPECT_ERROR(g, "must be smaller than the dim");
    tb_graph_free(g);
}

/* ---- shape computation and folding --------------------------------------- */

static int n_folds;
static int count_fold(tb_graph *g, int node, tb_error *err) {
    (void)g, (void)node, (void)err;
    n_folds++;
    return 0;
}
static int failing_fold(tb_graph *g, int node, tb_error *err) {
    return tb_node_error(err, tb_graph_node(g, node), "fold failed");
}

static void test_shape_ops(void) {
    tb_error err = {{0}};
    /* Shape: constant output; Shape-15 start/end */
    tb_graph *g = G(15);
    int x = inp(g, TB_F32, 4, D(1, 3, 8, 9));
    int s = tb_graph_add_node(g, TB_OP_SHAPE, "s", 1, I(x), 1);
    int s2 = tb_graph_add_node(g, TB_OP_SHAPE, "s2", 1, I(x), 1);
    tb_node_set_int(g, s2, "start", 1);
    tb_node_set_int(g, s2, "end", -1);
    int ga = tb_graph_add_node(g, TB_OP_GATHER, "ga", 2, I(out(g, s, 0), CI64(g, 2)), 1);
    EXPECT(g, out(g, s, 0), TB_I64, 4);
    EXPECT(g, out(g, s2, 0), TB_I64, 2);
    EXPECT(g, out(g, ga, 0), TB_I64, 1);
    const int64_t *sd = tb_graph_value(g, out(g, s, 0))->data;
    CHECK(sd && sd[0] == 1 && sd[1] == 3 && sd[2] == 8 && sd[3] == 9, "Shape data not set");
    const int64_t *sd2 = tb_graph_value(g, out(g, s2, 0))->data;
    CHECK(sd2 && sd2[0] == 3 && sd2[1] == 8, "Shape-15 data not set");
    /* folding: Gather's inputs are constants; the two Shape nodes' outputs
     * are constants though their input is not: all three fold */
    n_folds = 0;
    CHECK(!tb_infer_shapes_folding(g, count_fold, &err) && n_folds == 3, "fold called %d times", n_folds);
    CHECK(tb_infer_shapes_folding(g, failing_fold, &err) && strstr(err.msg, "fold failed"), "fold failure lost");
    tb_graph_free(g);

    /* Reshape(y, Shape(x)) needs no folding: Shape's output is a constant */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    int y = inp(g, TB_F32, 2, D(4, 6));
    s = tb_graph_add_node(g, TB_OP_SHAPE, "s", 1, I(x), 1);
    int rs = tb_graph_add_node(g, TB_OP_RESHAPE, "rs", 2, I(y, out(g, s, 0)), 1);
    EXPECT(g, out(g, rs, 0), TB_F32, 2, 3, 4);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    s = tb_graph_add_node(g, TB_OP_SHAPE, "s", 1, I(x), 1);
    tb_node_set_int(g, s, "start", 1);
    EXPECT_ERROR(g, "'start' needs opset 15");
    tb_graph_free(g);

    /* ConstantOfShape */
    g = G(13);
    int c1 = tb_graph_add_node(g, TB_OP_CONSTANTOFSHAPE, "c1", 1, I(CI64(g, 2, 3)), 1);
    int c2 = tb_graph_add_node(g, TB_OP_CONSTANTOFSHAPE, "c2", 1, I(CI64(g, 4)), 1);
    tb_value t = {.name = "v", .dtype = TB_I64, .rank = 1, .dims = {1}, .data = D(7)};
    tb_node_set_tensor(g, c2, "value", &t);
    EXPECT(g, out(g, c1, 0), TB_F32, 2, 3);
    EXPECT(g, out(g, c2, 0), TB_I64, 4);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_I64, 1, D(2));
    tb_graph_add_node(g, TB_OP_CONSTANTOFSHAPE, "c", 1, I(x), 1);
    EXPECT_ERROR(g, "must be a constant");
    tb_graph_free(g);

    g = G(13);
    tb_graph_add_node(g, TB_OP_CONSTANTOFSHAPE, "c", 1, I(CI64(g, 65536, 32768)), 1);
    EXPECT_ERROR(g, "tensor too large");
    tb_graph_free(g);

    /* Range */
    g = G(13);
    int r1 = tb_graph_add_node(g, TB_OP_RANGE, "r1", 3, I(cf32(g, 0.5f), cf32(g, 3.0f), cf32(g, 0.5f)), 1);
    int64_t i0 = 10, i1 = 1, i2 = -3;
    int r2 = tb_graph_add_node(g, TB_OP_RANGE, "r2", 3,
                               I(tb_graph_add_const(g, NULL, TB_I64, 0, NULL, &i0),
                                 tb_graph_add_const(g, NULL, TB_I64, 0, NULL, &i1),
                                 tb_graph_add_const(g, NULL, TB_I64, 0, NULL, &i2)),
                               1);
    int r3 = tb_graph_add_node(g, TB_OP_RANGE, "r3", 3, I(cf32(g, 5.0f), cf32(g, 1.0f), cf32(g, 1.0f)), 1);
    EXPECT(g, out(g, r1, 0), TB_F32, 5);
    EXPECT(g, out(g, r2, 0), TB_I64, 3); /* 10, 7, 4 */
    EXPECT(g, out(g, r3, 0), TB_F32, 0);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 0, NULL);
    tb_graph_add_node(g, TB_OP_RANGE, "r", 3, I(cf32(g, 0), x, cf32(g, 1)), 1);
    EXPECT_ERROR(g, "the 'limit' input must be a constant");
    tb_graph_free(g);

    g = G(13);
    tb_graph_add_node(g, TB_OP_RANGE, "r", 3, I(cf32(g, 0), cf32(g, 1), cf32(g, 0)), 1);
    EXPECT_ERROR(g, "delta is 0");
    tb_graph_free(g);
}

/* ---- helpers and hostile input ----------------------------------------------- */

static void test_misc(void) {
    int r;
    int64_t d[8];
    CHECK(!tb_broadcast_shape(2, D(3, 1), 2, D(1, 4), &r, d) && r == 2 && d[0] == 3 && d[1] == 4, "broadcast");
    CHECK(!tb_broadcast_shape(0, NULL, 1, D(0), &r, d) && r == 1 && d[0] == 0, "broadcast scalar x [0]");
    CHECK(tb_broadcast_shape(1, D(2), 1, D(3), &r, d) == -1, "broadcast mismatch");
    int a;
    CHECK(!tb_norm_axis(-1, 4, &a) && a == 3, "norm_axis -1");
    CHECK(tb_norm_axis(4, 4, &a) == -1 && tb_norm_axis(-5, 4, &a) == -1, "norm_axis range");
    CHECK(tb_norm_axis(INT64_MIN, 4, &a) == -1, "norm_axis INT64_MIN");

    tb_graph *g = G(13);
    int64_t vals[4];
    int n;
    int c = CI64(g, 1, 2, 3);
    int in = inp(g, TB_I64, 1, D(3));
    int f = tb_graph_add_const(g, NULL, TB_F32, 1, D(2), NULL);
    int32_t i32[2] = {-5, 6};
    int c32 = tb_graph_add_const(g, NULL, TB_I32, 1, D(2), i32);
    CHECK(!tb_const_ints(g, c, vals, 4, &n) && n == 3 && vals[2] == 3, "const_ints i64");
    CHECK(!tb_const_ints(g, c32, vals, 4, &n) && n == 2 && vals[0] == -5, "const_ints i32");
    CHECK(tb_const_ints(g, in, vals, 4, &n) == -1, "const_ints non-constant");
    CHECK(tb_const_ints(g, f, vals, 4, &n) == -2, "const_ints f32");
    CHECK(tb_const_ints(g, c, vals, 2, &n) == -3, "const_ints too many");
    CHECK(tb_const_ints(g, 999, vals, 4, &n) == -2, "const_ints bad id");
    tb_graph_free(g);

    /* hostile: out-of-range input id, missing required input, dims too large */
    g = G(13);
    int x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    tb_graph_node(g, n)->inputs[0] = 12345;
    EXPECT_ERROR(g, "does not exist");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    tb_graph_add_node(g, TB_OP_ADD, "a", 2, I(x, -1), 1);
    EXPECT_ERROR(g, "input 1 is required but missing");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(65536, 65536));
    tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    EXPECT_ERROR(g, "tensor too large");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    int m = tb_graph_add_node(g, TB_OP_RELU, "r2", 1, I(out(g, n, 0)), 1);
    tb_graph_node(g, n)->inputs[0] = out(g, m, 0); /* not topological */
    EXPECT_ERROR(g, "has no known shape");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    tb_graph_node(g, n)->op = (tb_op)999;
    EXPECT_ERROR(g, "unknown operator");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    tb_graph_node(g, n)->outputs[0] = x;
    EXPECT_ERROR(g, "is a graph input or a constant");
    tb_graph_free(g);

    /* dead nodes are skipped */
    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_RESHAPE, "dead", 2, I(x, x), 1);
    tb_graph_node(g, n)->dead = 1;
    m = tb_graph_add_node(g, TB_OP_RELU, "r", 1, I(x), 1);
    EXPECT(g, out(g, m, 0), TB_F32, 4);
    tb_graph_free(g);

    /* Unsqueeze beyond the maximum rank */
    g = G(13);
    x = inp(g, TB_F32, 7, D(1, 1, 1, 1, 1, 1, 1));
    tb_graph_add_node(g, TB_OP_UNSQUEEZE, "u", 2, I(x, CI64(g, 0, 1)), 1);
    EXPECT_ERROR(g, "exceeds the supported maximum 8");
    tb_graph_free(g);

    /* a zero dim does not excuse huge dims: strides must fit in int32 */
    g = G(13);
    x = inp(g, TB_F32, 4, D(0, 2147483647, 2147483647, 2));
    n = tb_graph_add_node(g, TB_OP_FLATTEN, "f", 1, I(x), 1);
    EXPECT_ERROR(g, "tensor too large");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 3, D(0, 2147483647, 1));
    n = tb_graph_add_node(g, TB_OP_FLATTEN, "f", 1, I(x), 1);
    tb_node_set_int(g, n, "axis", 2);
    EXPECT(g, out(g, n, 0), TB_F32, 0, 1);
    tb_graph_free(g);
}

/* ---- rarer forms ------------------------------------------------------------ */

static void test_rare(void) {
    tb_error err = {{0}};
    /* ReduceMean-18: axes input; noop_with_empty_axes */
    tb_graph *g = G(18);
    int x = inp(g, TB_F32, 3, D(2, 3, 4));
    int n = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r", 2, I(x, CI64(g, 1)), 1);
    tb_node_set_int(g, n, "keepdims", 0);
    int m = tb_graph_add_node(g, TB_OP_REDUCEMEAN, "r0", 1, I(x), 1);
    tb_node_set_int(g, m, "noop_with_empty_axes", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 4);
    EXPECT(g, out(g, m, 0), TB_F32, 2, 3, 4);
    tb_graph_free(g);

    /* Pad edge */
    int64_t pads[16];
    int mode;
    double value;
    g = G(13);
    x = inp(g, TB_I64, 1, D(3));
    n = tb_graph_add_node(g, TB_OP_PAD, "p", 2, I(x, CI64(g, 5, 0)), 1);
    tb_node_set_string(g, n, "mode", "edge");
    EXPECT(g, out(g, n, 0), TB_I64, 8);
    CHECK(!tb_pad_resolve(g, n, pads, &mode, &value, &err) && mode == 2 && pads[0] == 5, "pad edge");
    tb_node_set_string(g, n, "mode", "wrap");
    EXPECT_ERROR(g, "mode 'wrap' is not supported");
    tb_graph_free(g);

    /* Range ascending ints: 0..10 step 3 -> 0,3,6,9 */
    g = G(13);
    int32_t a = 0, b = 10, c = 3;
    n = tb_graph_add_node(g, TB_OP_RANGE, "r", 3,
                          I(tb_graph_add_const(g, NULL, TB_I32, 0, NULL, &a),
                            tb_graph_add_const(g, NULL, TB_I32, 0, NULL, &b),
                            tb_graph_add_const(g, NULL, TB_I32, 0, NULL, &c)),
                          1);
    EXPECT(g, out(g, n, 0), TB_I32, 4);
    tb_graph_free(g);

    /* Slice of an empty axis, negative step */
    g = G(13);
    x = inp(g, TB_F32, 2, D(0, 3));
    n = tb_graph_add_node(g, TB_OP_SLICE, "s", 5, I(x, CI64(g, -1), CI64(g, INT64_MIN), CI64(g, 0), CI64(g, -1)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 0, 3);
    tb_graph_free(g);

    /* opset 0 (unset) reads as 17: Squeeze axes from the input */
    g = G(0);
    x = inp(g, TB_F32, 2, D(1, 3));
    n = tb_graph_add_node(g, TB_OP_SQUEEZE, "s", 2, I(x, CI64(g, 0)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 3);
    tb_graph_free(g);

    /* Dropout mask omitted (-1 output) and Split with an omitted output */
    g = G(13);
    x = inp(g, TB_F32, 1, D(4));
    n = tb_graph_add_node(g, TB_OP_DROPOUT, "d", 1, I(x), 2);
    tb_graph_node(g, n)->outputs[1] = -1;
    EXPECT(g, out(g, n, 0), TB_F32, 4);
    tb_graph_free(g);
}

/* The ops added for wider operator coverage: output shapes and dtypes, and
 * errors that name the problem. */
static void test_new_ops(void) {
    tb_graph *g;
    int x, y, c, n;

    /* comparisons give bool with broadcasting; Where broadcasts three ways */
    g = G(17);
    x = inp(g, TB_F32, 2, D(4, 1));
    y = inp(g, TB_F32, 1, D(3));
    n = tb_graph_add_node(g, TB_OP_GREATER, "gt", 2, I(x, y), 1);
    c = out(g, n, 0);
    EXPECT(g, c, TB_BOOL, 4, 3);
    n = tb_graph_add_node(g, TB_OP_WHERE, "w", 3, I(c, x, y), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 4, 3);
    tb_graph_free(g);

    g = G(17);
    x = inp(g, TB_F32, 1, D(3));
    y = inp(g, TB_F32, 1, D(3));
    tb_graph_add_node(g, TB_OP_WHERE, "w", 3, I(x, x, y), 1);
    EXPECT_ERROR(g, "input 0 has dtype f32, expected bool");
    tb_graph_free(g);

    /* variadic Max broadcasts every input */
    g = G(13);
    x = inp(g, TB_I32, 1, D(3));
    y = inp(g, TB_I32, 2, D(2, 1));
    c = inp(g, TB_I32, 0, NULL);
    n = tb_graph_add_node(g, TB_OP_MAX, "max", 3, I(x, y, c), 1);
    EXPECT(g, out(g, n, 0), TB_I32, 2, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(3));
    y = inp(g, TB_F32, 1, D(4));
    tb_graph_add_node(g, TB_OP_SUM, "sum", 2, I(x, y), 1);
    EXPECT_ERROR(g, "input 1 of shape [4] does not broadcast");
    tb_graph_free(g);

    /* Pow keeps the base's dtype; Mod on floats needs fmod = 1 */
    g = G(15);
    x = inp(g, TB_I32, 1, D(3));
    y = inp(g, TB_F32, 0, NULL);
    n = tb_graph_add_node(g, TB_OP_POW, "pow", 2, I(x, y), 1);
    EXPECT(g, out(g, n, 0), TB_I32, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 1, D(3));
    tb_graph_add_node(g, TB_OP_MOD, "mod", 2, I(x, x), 1);
    EXPECT_ERROR(g, "fmod must be 1 for floating-point inputs");
    tb_graph_free(g);

    /* PRelu: slope must broadcast to X */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    y = inp(g, TB_F32, 2, D(2, 4));
    tb_graph_add_node(g, TB_OP_PRELU, "prelu", 2, I(x, y), 1);
    EXPECT_ERROR(g, "slope of shape [2,4] does not broadcast to X's shape [2,3]");
    tb_graph_free(g);

    /* ArgMax: int64, keepdims */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    n = tb_graph_add_node(g, TB_OP_ARGMAX, "am", 1, I(x), 1);
    tb_node_set_int(g, n, "axis", -1);
    EXPECT(g, out(g, n, 0), TB_I64, 2, 3, 1);
    tb_graph_free(g);

    /* ReduceSum takes axes as an input from opset 13 */
    g = G(13);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    n = tb_graph_add_node(g, TB_OP_REDUCESUM, "rs", 2, I(x, CI64(g, 1)), 1);
    tb_node_set_int(g, n, "keepdims", 0);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 4);
    tb_graph_free(g);

    g = G(12);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    tb_graph_add_node(g, TB_OP_REDUCEMAX, "rm", 2, I(x, CI64(g, 1)), 1);
    EXPECT_ERROR(g, "axes is an attribute before opset 18, but the node has 2 inputs");
    tb_graph_free(g);

    /* Tile, DepthToSpace, SpaceToDepth */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    n = tb_graph_add_node(g, TB_OP_TILE, "tile", 2, I(x, CI64(g, 2, 1)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 4, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    tb_graph_add_node(g, TB_OP_TILE, "tile", 2, I(x, CI64(g, 2)), 1);
    EXPECT_ERROR(g, "repeats has 1 values, expected 2");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 8, 2, 3));
    n = tb_graph_add_node(g, TB_OP_DEPTHTOSPACE, "d2s", 1, I(x), 1);
    tb_node_set_int(g, n, "blocksize", 2);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 4, 6);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 6, 2, 3));
    n = tb_graph_add_node(g, TB_OP_DEPTHTOSPACE, "d2s", 1, I(x), 1);
    tb_node_set_int(g, n, "blocksize", 2);
    EXPECT_ERROR(g, "channels (6) are not divisible by blocksize^2 (4)");
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 2, 4, 3));
    n = tb_graph_add_node(g, TB_OP_SPACETODEPTH, "s2d", 1, I(x), 1);
    tb_node_set_int(g, n, "blocksize", 2);
    EXPECT_ERROR(g, "spatial dims 4x3 are not divisible by blocksize 2");
    tb_graph_free(g);

    /* LayerNormalization: Mean / InvStdDev keep the leading dims */
    g = G(17);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    y = inp(g, TB_F32, 2, D(3, 4));
    n = tb_graph_add_node(g, TB_OP_LAYERNORM, "ln", 2, I(x, y), 3);
    tb_node_set_int(g, n, "axis", 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    EXPECT(g, out(g, n, 2), TB_F32, 2, 1, 1);
    tb_graph_free(g);

    g = G(17);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    y = inp(g, TB_F32, 1, D(3));
    tb_graph_add_node(g, TB_OP_LAYERNORM, "ln", 2, I(x, y), 1);
    EXPECT_ERROR(g, "input 1 (Scale) has shape [3], expected [4]");
    tb_graph_free(g);

    /* IsInf: bool out; GatherElements: the indices' shape, checked ranks */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    n = tb_graph_add_node(g, TB_OP_ISINF, "isinf", 1, I(x), 1);
    EXPECT(g, out(g, n, 0), TB_BOOL, 2, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    y = inp(g, TB_I64, 1, D(3));
    tb_graph_add_node(g, TB_OP_GATHERELEMENTS, "ge", 2, I(x, y), 1);
    EXPECT_ERROR(g, "indices have rank 1, expected 2");
    tb_graph_free(g);
}

/* ---- quantized ops (issue 5) ---------------------------------------------- */

static int cq(tb_graph *g, tb_dtype t, int32_t v) {
    int8_t b = (int8_t)v;
    uint8_t u = (uint8_t)v;
    return tb_graph_add_const(g, NULL, t, 0, NULL, t == TB_U8 ? (const void *)&u : (const void *)&b);
}

static void test_quant_ops(void) {
    tb_graph *g;
    int x, w, n, s, z, zu;
    float sc3[3] = {0.1f, 0.2f, 0.3f};
    int8_t z3[3] = {0, 0, 0};

    /* QuantizeLinear: the zero point's dtype, u8 without one; per axis */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    s = cf32(g, 0.5f);
    n = tb_graph_add_node(g, TB_OP_QUANTIZELINEAR, "q", 3, I(x, s, cq(g, TB_I8, -3)), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 2, 3);
    n = tb_graph_add_node(g, TB_OP_QUANTIZELINEAR, "q2", 2, I(x, s), 1);
    EXPECT(g, out(g, n, 0), TB_U8, 2, 3);
    int s3 = tb_graph_add_const(g, NULL, TB_F32, 1, D(3), sc3), z3v = tb_graph_add_const(g, NULL, TB_I8, 1, D(3), z3);
    n = tb_graph_add_node(g, TB_OP_QUANTIZELINEAR, "q3", 3, I(x, s3, z3v), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 2, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    s = tb_graph_add_const(g, NULL, TB_F32, 1, D(3), sc3);
    n = tb_graph_add_node(g, TB_OP_QUANTIZELINEAR, "q", 2, I(x, s), 1);
    tb_node_set_int(g, n, "axis", 0);
    EXPECT_ERROR(g, "input 1 (scale) has shape [3], expected one value or [2] (one per channel)");
    tb_graph_free(g);

    /* DequantizeLinear: zero point of the input's dtype */
    g = G(13);
    x = inp(g, TB_I8, 1, D(5));
    n = tb_graph_add_node(g, TB_OP_DEQUANTIZELINEAR, "dq", 3, I(x, cf32(g, 0.5f), cq(g, TB_U8, 3)), 1);
    EXPECT_ERROR(g, "input 2 has dtype u8, expected i8");
    tb_graph_free(g);

    /* QLinearConv: per-channel weights, padding, output dtype of y_zero_point */
    g = G(13);
    x = inp(g, TB_U8, 4, D(1, 2, 5, 5));
    w = tb_graph_add_const(g, NULL, TB_I8, 4, D(3, 2, 3, 3), NULL);
    s = cf32(g, 0.1f);
    zu = cq(g, TB_U8, 128);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QLINEARCONV, "qc", 8,
                          I(x, s, zu, w, tb_graph_add_const(g, NULL, TB_F32, 1, D(3), sc3),
                            tb_graph_add_const(g, NULL, TB_I8, 1, D(3), z3), s, z),
                          1);
    tb_node_set_ints(g, n, "pads", 4, D(1, 1, 1, 1));
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_I8, 1, 3, 3, 3);
    EXPECT_INTS(g, n, "kernel_shape", 3, 3);
    tb_graph_free(g);

    g = G(13);
    x = inp(g, TB_I8, 4, D(1, 2, 5, 5));
    w = tb_graph_add_const(g, NULL, TB_I8, 4, D(3, 2, 3, 3), NULL);
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    tb_graph_add_node(g, TB_OP_QLINEARCONV, "qc", 8, I(x, s, cq(g, TB_U8, 1), w, s, z, s, z), 1);
    EXPECT_ERROR(g, "input 2 has dtype u8, expected i8");
    tb_graph_free(g);

    /* ConvInteger and MatMulInteger give int32 */
    g = G(13);
    x = inp(g, TB_U8, 4, D(1, 1, 4, 4));
    w = inp(g, TB_U8, 4, D(2, 1, 2, 2));
    n = tb_graph_add_node(g, TB_OP_CONVINTEGER, "ci", 3, I(x, w, cq(g, TB_U8, 1)), 1);
    EXPECT(g, out(g, n, 0), TB_I32, 1, 2, 3, 3);
    n = tb_graph_add_node(g, TB_OP_MATMULINTEGER, "mi", 2, I(inp(g, TB_I8, 3, D(2, 3, 4)), inp(g, TB_I8, 2, D(4, 5))),
                          1);
    EXPECT(g, out(g, n, 0), TB_I32, 2, 3, 5);
    tb_graph_free(g);

    /* QLinearMatMul: per-column b scale */
    g = G(13);
    x = inp(g, TB_I8, 2, D(2, 4));
    w = tb_graph_add_const(g, NULL, TB_I8, 2, D(4, 3), NULL);
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QLINEARMATMUL, "qm", 8,
                          I(x, s, z, w, tb_graph_add_const(g, NULL, TB_F32, 1, D(3), sc3),
                            tb_graph_add_const(g, NULL, TB_I8, 1, D(3), z3), s, z), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 2, 3);
    /* a zero point must match its scale */
    n = tb_graph_add_node(g, TB_OP_QLINEARMATMUL, "qm2", 8,
                          I(x, s, z, w, tb_graph_add_const(g, NULL, TB_F32, 1, D(3), sc3), z, s, z), 1);
    EXPECT_ERROR(g, "node 'qm2' (QLinearMatMul): input 5 (zero point) has shape [] but its scale (input 4) has shape [3]");
    tb_graph_free(g);

    /* QGemm: transB, optional C omitted in the middle; y_scale required */
    g = G(13);
    x = inp(g, TB_I8, 2, D(2, 4));
    w = tb_graph_add_const(g, NULL, TB_I8, 2, D(3, 4), NULL);
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QGEMM, "qg", 9, I(x, s, z, w, s, z, -1, s, z), 1);
    tb_node_set_int(g, n, "transB", 1);
    EXPECT(g, out(g, n, 0), TB_I8, 2, 3);
    n = tb_graph_add_node(g, TB_OP_QGEMM, "qg2", 6, I(x, s, z, w, s, z), 1);
    tb_node_set_int(g, n, "transB", 1);
    EXPECT_ERROR(g, "node 'qg2' (QGemm): input 7 (y_scale) is required");
    tb_graph_free(g);

    /* QLinearAdd broadcasts, zero points may be omitted */
    g = G(13);
    x = inp(g, TB_I8, 4, D(1, 4, 3, 3));
    w = inp(g, TB_I8, 4, D(1, 4, 1, 1));
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QLINEARADD, "qa", 8, I(x, s, -1, w, s, z, s, z), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 1, 4, 3, 3);
    n = tb_graph_add_node(g, TB_OP_QLINEARADD, "qa2", 8, I(x, s, z, w, -1, z, s, z), 1);
    EXPECT_ERROR(g, "node 'qa2' (QLinearAdd): input 4 is required but missing");
    tb_graph_free(g);

    /* QLinearConcat: triples after Y's parameters */
    g = G(13);
    x = inp(g, TB_I8, 3, D(2, 2, 3));
    w = inp(g, TB_I8, 3, D(2, 5, 3));
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QLINEARCONCAT, "qcat", 8, I(s, z, x, s, z, w, s, z), 1);
    tb_node_set_int(g, n, "axis", 1);
    EXPECT(g, out(g, n, 0), TB_I8, 2, 7, 3);
    n = tb_graph_add_node(g, TB_OP_QLINEARCONCAT, "qcat2", 7, I(s, z, x, s, z, w, s), 1);
    tb_node_set_int(g, n, "axis", 1);
    EXPECT_ERROR(g, "expected Y_scale, Y_zero_point and (X, X_scale, X_zero_point) triples, got 7 inputs");
    tb_graph_free(g);

    /* pooling, sigmoid and MaxPool on int8 */
    g = G(13);
    x = inp(g, TB_I8, 4, D(1, 3, 7, 6));
    s = cf32(g, 0.1f);
    z = cq(g, TB_I8, 0);
    n = tb_graph_add_node(g, TB_OP_QLINEARGLOBALAVGPOOL, "gap", 5, I(x, s, z, s, z), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 1, 3, 1, 1);
    n = tb_graph_add_node(g, TB_OP_QLINEARAVGPOOL, "ap", 5, I(x, s, z, s, z), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(3, 3));
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_I8, 1, 3, 3, 2);
    n = tb_graph_add_node(g, TB_OP_QLINEARSIGMOID, "sg", 5, I(x, s, z, s, z), 1);
    EXPECT(g, out(g, n, 0), TB_I8, 1, 3, 7, 6);
    n = tb_graph_add_node(g, TB_OP_MAXPOOL, "mp", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(2, 2));
    EXPECT(g, out(g, n, 0), TB_I8, 1, 3, 6, 5);
    n = tb_graph_add_node(g, TB_OP_QLINEARSIGMOID, "sg2", 5, I(x, s, z, s, z), 1);
    tb_node_set_int(g, n, "channels_last", 1);
    EXPECT_ERROR(g, "node 'sg2' (QLinearSigmoid): channels_last=1 is not supported");
    tb_graph_free(g);

    /* AveragePool stays float-only */
    g = G(13);
    x = inp(g, TB_I8, 4, D(1, 3, 7, 6));
    n = tb_graph_add_node(g, TB_OP_AVGPOOL, "avg", 1, I(x), 1);
    tb_node_set_ints(g, n, "kernel_shape", 2, D(2, 2));
    EXPECT_ERROR(g, "input 0 has dtype i8, expected f32");
    tb_graph_free(g);
}

/* ---- ops3: Resize, ConvTranspose, Size, MVN, TopK, Einsum, recurrent ----- */

static int cf32s(tb_graph *g, int n, const float *v) {
    return tb_graph_add_const(g, NULL, TB_F32, 1, (int64_t[]){n}, v);
}

static void test_ops3(void) {
    tb_graph *g;
    int x, w, s, n;

    /* Resize-13 with scales: the output truncates in * scale */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 2, 4));
    s = cf32s(g, 4, (float[]){1, 1, 0.6f, 0.6f});
    n = tb_graph_add_node(g, TB_OP_RESIZE, "r", 3, I(x, -1, s), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 1, 2);
    tb_graph_free(g);

    /* sizes; scales and sizes together are an error */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 2, 2));
    n = tb_graph_add_node(g, TB_OP_RESIZE, "r", 4, I(x, -1, -1, CI64(g, 1, 1, 3, 5)), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 1, 1, 3, 5);
    tb_graph_free(g);
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 2, 2));
    s = cf32s(g, 4, (float[]){1, 1, 2, 2});
    tb_graph_add_node(g, TB_OP_RESIZE, "r", 4, I(x, -1, s, CI64(g, 1, 1, 3, 5)), 1);
    EXPECT_ERROR(g, "only one of 'scales' and 'sizes' may be given");
    tb_graph_free(g);

    /* Upsample-7 reads its scales attribute */
    g = G(7);
    x = inp(g, TB_F32, 4, D(1, 2, 2, 3));
    n = tb_graph_add_node(g, TB_OP_UPSAMPLE, "u", 1, I(x), 1);
    tb_node_set_floats(g, n, "scales", 4, (float[]){1, 1, 2, 3});
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 4, 9);
    tb_graph_free(g);

    /* ConvTranspose: stride, output_padding; output_shape gives the pads */
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 3, 3));
    w = inp(g, TB_F32, 4, D(1, 2, 3, 3));
    n = tb_graph_add_node(g, TB_OP_CONVTRANSPOSE, "ct", 2, I(x, w), 1);
    tb_node_set_ints(g, n, "strides", 2, D(3, 2));
    tb_node_set_ints(g, n, "output_padding", 2, D(1, 1));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 10, 8);
    EXPECT_INTS(g, n, "pads", 0, 0, 0, 0);
    tb_graph_free(g);
    g = G(13);
    x = inp(g, TB_F32, 4, D(1, 1, 3, 3));
    w = inp(g, TB_F32, 4, D(1, 2, 3, 3));
    n = tb_graph_add_node(g, TB_OP_CONVTRANSPOSE, "ct", 2, I(x, w), 1);
    tb_node_set_ints(g, n, "strides", 2, D(2, 2));
    tb_node_set_ints(g, n, "output_shape", 2, D(5, 6));
    EXPECT(g, out(g, n, 0), TB_F32, 1, 2, 5, 6);
    EXPECT_INTS(g, n, "pads", 1, 1, 1, 0); /* totals 2 and 1, the larger half first */
    CHECK(!tb_node_attr(tb_graph_node(g, n), "output_shape"), "output_shape should be gone after inference");
    tb_graph_free(g);

    /* Size is a scalar i64 constant after inference */
    g = G(13);
    x = inp(g, TB_F32, 3, D(3, 4, 5));
    n = tb_graph_add_node(g, TB_OP_SIZE, "sz", 1, I(x), 1);
    EXPECT_SCALAR(g, out(g, n, 0), TB_I64);
    CHECK(tb_graph_value(g, out(g, n, 0))->data && *(int64_t *)tb_graph_value(g, out(g, n, 0))->data == 60,
          "Size should hold 60");
    tb_graph_free(g);

    /* TopK: values and indices; MVN keeps the shape */
    g = G(13);
    x = inp(g, TB_F32, 2, D(3, 4));
    n = tb_graph_add_node(g, TB_OP_TOPK, "t", 2, I(x, CI64(g, 2)), 2);
    EXPECT(g, out(g, n, 0), TB_F32, 3, 2);
    EXPECT(g, out(g, n, 1), TB_I64, 3, 2);
    tb_graph_free(g);

    /* Einsum: the implicit output sorts the labels used once */
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    w = inp(g, TB_F32, 2, D(3, 4));
    n = tb_graph_add_node(g, TB_OP_EINSUM, "e", 2, I(x, w), 1);
    tb_node_set_string(g, n, "equation", "ij,jk");
    EXPECT(g, out(g, n, 0), TB_F32, 2, 4);
    tb_graph_free(g);
    g = G(13);
    x = inp(g, TB_F32, 2, D(2, 3));
    w = inp(g, TB_F32, 2, D(4, 4));
    n = tb_graph_add_node(g, TB_OP_EINSUM, "e", 2, I(x, w), 1);
    tb_node_set_string(g, n, "equation", "ij,jk->ik");
    EXPECT_ERROR(g, "label sizes 3 and 4 differ");
    tb_graph_free(g);

    /* PRelu-6: a 1-D slope of the channel count is per channel */
    g = G(6);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    w = inp(g, TB_F32, 1, D(3));
    n = tb_graph_add_node(g, TB_OP_PRELU, "p", 2, I(x, w), 1);
    EXPECT(g, out(g, n, 0), TB_F32, 2, 3, 4);
    CHECK(tb_prelu_per_channel(g, n), "PRelu-6 slope [3] on [2,3,4] should be per channel");
    tb_graph_free(g);
    g = G(7);
    x = inp(g, TB_F32, 3, D(2, 3, 4));
    w = inp(g, TB_F32, 1, D(3));
    tb_graph_add_node(g, TB_OP_PRELU, "p", 2, I(x, w), 1);
    EXPECT_ERROR(g, "slope of shape [3] does not broadcast to X's shape [2,3,4]");
    tb_graph_free(g);

    /* LSTM with only Y_h: inference adds Y and Y_c */
    g = G(14);
    x = inp(g, TB_F32, 3, D(5, 2, 3));
    w = inp(g, TB_F32, 3, D(2, 16, 3));
    s = inp(g, TB_F32, 3, D(2, 16, 4));
    n = tb_graph_add_node(g, TB_OP_LSTM, "l", 3, I(x, w, s), 2);
    tb_graph_node(g, n)->outputs[0] = -1;
    tb_node_set_int(g, n, "hidden_size", 4);
    tb_node_set_string(g, n, "direction", "bidirectional");
    EXPECT(g, out(g, n, 1), TB_F32, 2, 2, 4);
    CHECK(tb_graph_node(g, n)->n_outputs == 3 && out(g, n, 0) >= 0 && out(g, n, 2) >= 0, "LSTM outputs not added");
    EXPECT(g, out(g, n, 0), TB_F32, 5, 2, 2, 4);
    EXPECT(g, out(g, n, 2), TB_F32, 2, 2, 4);
    tb_graph_free(g);
    g = G(14);
    x = inp(g, TB_F32, 3, D(5, 2, 3));
    w = inp(g, TB_F32, 3, D(1, 16, 3));
    s = inp(g, TB_F32, 3, D(1, 12, 4));
    n = tb_graph_add_node(g, TB_OP_GRU, "gr", 3, I(x, w, s), 1);
    tb_node_set_int(g, n, "hidden_size", 4);
    EXPECT_ERROR(g, "node 'gr' (GRU): input 1 (W) has shape [1,16,3], expected [1,12,3]");
    tb_graph_free(g);
}

int main(void) {
    test_conv();
    test_pool();
    test_dense();
    test_elementwise();
    test_reduce_softmax();
    test_movement();
    test_slice();
    test_shape_ops();
    test_misc();
    test_rare();
    test_new_ops();
    test_quant_ops();
    test_ops3();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
