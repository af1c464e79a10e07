/* verify.c - the IR verifier: structural invariants, then shapes.
 *
 * tb_verify checks, and reports the first violation naming the node or value:
 *   - every count and id is in range (ops, dtypes, ranks, value ids, -1 only
 *     as an omitted node input);
 *   - value names are present and unique;
 *   - graph inputs are distinct, have no producer and no data; constants
 *     (data != NULL) have no producer and a known shape and element type;
 *   - each value is output by at most one live node, and the value's producer
 *     field names that node; a producer field naming a live node lists the
 *     value among its outputs; no node output is a graph input or constant;
 *   - live nodes are in topological order: each input is a graph input, a
 *     constant, or an output of an earlier live node (never of a dead one);
 *   - graph outputs are defined; every value read has a dtype and rank >= 0;
 *   - shapes: tb_infer_node on each live node reproduces its output types.
 *     The node, its attributes and its output values are saved before and
 *     restored after, so verification never changes the graph (inference
 *     normalises attributes; a caller that wants that runs tb_infer_shapes).
 * Everything is linear in the size of the graph.
 */
#include "ir.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* A live Shape or Size node's output may carry its data (see tb_verify). */
static int is_shape_output(const tb_graph *g, const tb_value *v) {
    return v->producer >= 0 && v->producer < g->n_nodes &&
           (g->nodes[v->producer].op == TB_OP_SHAPE || g->nodes[v->producer].op == TB_OP_SIZE) &&
           !g->nodes[v->producer].dead;
}

/* ---- messages ------------------------------------------------------------- */

static const char *op_name(tb_op op) {
    return (int)op > TB_OP_NONE && op < TB_OP_COUNT ? tb_op_name(op) : "invalid op";
}

/* "node 'conv0' (Conv): ..." or, for an unnamed node, "node #3 (Conv): ...". */
static int __attribute__((format(printf, 4, 5)))
node_err(tb_error *err, const tb_graph *g, int node, const char *fmt, ...) {
    const tb_node *n = &g->nodes[node];
    int k;
    if (n->name && *n->name)
        k = snprintf(err->msg, sizeof err->msg, "node '%s' (%s): ", n->name, op_name(n->op));
    else
        k = snprintf(err->msg, sizeof err->msg, "node #%d (%s): ", node, op_name(n->op));
    if (k < 0 || (size_t)k >= sizeof err->msg) return 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
    va_end(ap);
    return 1;
}

/* "node 'conv0'" or "node #3"; "no node" for -1. */
static const char *node_ref(const tb_graph *g, int node, char *buf, size_t cap) {
    if (node < 0 || node >= g->n_nodes)
        snprintf(buf, cap, node == -1 ? "no node" : "invalid node %d", node);
    else if (g->nodes[node].name && *g->nodes[node].name)
        snprintf(buf, cap, "node '%s'", g->nodes[node].name);
    else
        snprintf(buf, cap, "node #%d", node);
    return buf;
}

static const char *vname(const tb_graph *g, int id) {
    const char *s = g->values[id].name;
    return s ? s : "";
}

/* "f32[1,2,3]", "f32[?]" */
static const char *type_str(char *buf, size_t cap, tb_dtype dtype, int rank, const int64_t *dims) {
    const char *dt = (int)dtype >= 0 && dtype < TB_DTYPE_COUNT ? tb_dtype_name(dtype) : "invalid";
    size_t k = (size_t)snprintf(buf, cap, "%s[", dt);
    if (rank < 0 || rank > TB_MAX_RANK) {
        snprintf(buf + k, cap - k, "?]");
        return buf;
    }
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%" PRId64, i ? "," : "", dims[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
    return buf;
}

/* ---- name uniqueness: open addressing over value ids ---------------------- */

static uint64_t hash_str(const char *s) {
    uint64_t h = UINT64_C(14695981039346656037);
    for (; *s; s++) h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

/* Returns the id of an earlier value with the same name as id, or -1. */
static int names_insert(const tb_graph *g, int *tab, size_t cap, int id) {
    const char *name = g->values[id].name;
    for (size_t i = (size_t)hash_str(name) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (tab[i] < 0) {
            tab[i] = id;
            return -1;
        }
        if (!strcmp(g->values[tab[i]].name, name)) return tab[i];
    }
}

/* ---- structure ----------------------------------------------------------------- */

enum { DEF_NO = 0, DEF_INPUT = 1, DEF_CONST = 2, DEF_NODE = 3 };

static int check_values(const tb_graph *g, tb_error *err) {
    for (int i = 0; i < g->n_values; i++) {
        const tb_value *v = &g->values[i];
        if (!v->name || !*v->name) return tb_error_set(err, "value %d has no name", i);
        if ((int)v->dtype < 0 || v->dtype >= TB_DTYPE_COUNT)
            return tb_error_set(err, "value '%s' has an invalid dtype %d", v->name, (int)v->dtype);
        if (v->rank < -1 || v->rank > TB_MAX_RANK)
            return tb_error_set(err, "value '%s' has an invalid rank %d", v->name, v->rank);
        int64_t numel = 1;
        for (int k = 0; k < v->rank; k++) {
            if (v->dims[k] < 0)
                return tb_error_set(err, "value '%s' has a negative dim %" PRId64, v->name, v->dims[k]);
            /* tb_value_numel's product, with room for the element size */
            if (v->dims[k] && numel > (INT64_MAX / 16) / v->dims[k])
                return tb_error_set(err, "value '%s' has too many elements", v->name);
            numel *= v->dims[k];
        }
        if (v->producer < -1 || v->producer >= g->n_nodes)
            return tb_error_set(err, "value '%s' has an invalid producer %d", v->name, v->producer);
        if (v->data) {
            /* Static shapes make a Shape node's result known: inference
             * records it on the output, and const-fold removes the node. */
            if (v->producer >= 0 && !is_shape_output(g, v))
                return tb_error_set(err, "value '%s' is a constant but is produced by a node", v->name);
            if (v->rank < 0) return tb_error_set(err, "constant '%s' has an unknown shape", v->name);
            if (v->dtype == TB_DTYPE_NONE) return tb_error_set(err, "constant '%s' has no element type", v->name);
        }
    }
    size_t cap = 16;
    while (cap < (size_t)g->n_values * 2) cap *= 2;
    int *tab = malloc(cap * sizeof *tab);
    if (!tab) tb_die(__FILE__, __LINE__, "out of memory");
    memset(tab, 0xff, cap * sizeof *tab); /* all -1 */
    for (int i = 0; i < g->n_values; i++) {
        int other = names_insert(g, tab, cap, i);
        if (other >= 0) {
            free(tab);
            return tb_error_set(err, "value name '%s' is used by values %d and %d", vname(g, i), other, i);
        }
    }
    free(tab);
    return 0;
}

static int check_nodes(const tb_graph *g, tb_error *err) {
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if ((int)n->op <= TB_OP_NONE || n->op >= TB_OP_COUNT)
            return node_err(err, g, i, "invalid op %d", (int)n->op);
        if (n->n_inputs < 0 || n->n_inputs > TB_MAX_IO || n->n_outputs < 0 || n->n_outputs > TB_MAX_IO)
            return node_err(err, g, i, "invalid input or output count %d / %d", n->n_inputs, n->n_outputs);
        if (n->n_attrs < 0 || (n->n_attrs && !n->attrs)) return node_err(err, g, i, "invalid attribute list");
        for (int k = 0; k < n->n_attrs; k++) {
            const tb_attr *a = &n->attrs[k];
            int ok = a->name != NULL;
            switch (a->kind) {
            case TB_ATTR_INT:
            case TB_ATTR_FLOAT: break;
            case TB_ATTR_STRING: ok = ok && a->s; break;
            case TB_ATTR_INTS: ok = ok && a->n >= 0 && (!a->n || a->ints); break;
            case TB_ATTR_FLOATS: ok = ok && a->n >= 0 && (!a->n || a->floats); break;
            case TB_ATTR_TENSOR:
                ok = ok && a->t && a->t->data && a->t->rank >= 0 && a->t->rank <= TB_MAX_RANK &&
                     (int)a->t->dtype > TB_DTYPE_NONE && a->t->dtype < TB_DTYPE_COUNT;
                break;
            default: ok = 0; break;
            }
            if (!ok) return node_err(err, g, i, "attribute %d '%s' is malformed", k, a->name ? a->name : "");
        }
        for (int k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] < -1 || n->inputs[k] >= g->n_values)
                return node_err(err, g, i, "input %d has an invalid value id %d", k, n->inputs[k]);
        for (int k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] < 0 || n->outputs[k] >= g->n_values)
                return node_err(err, g, i, "output %d has an invalid value id %d", k, n->outputs[k]);
    }
    return 0;
}

/* Graph inputs, producers and topological order. def[v] says how value v is
 * defined once every live node has been walked. */
static int check_dataflow(const tb_graph *g, char *def, int *live_producer, tb_error *err) {
    char nb[320];
    for (int i = 0; i < g->n_values; i++) live_producer[i] = -1;
    for (int k = 0; k < g->n_inputs; k++) {
        int id = g->inputs[k];
        if (id < 0 || id >= g->n_values) return tb_error_set(err, "graph input %d has an invalid value id %d", k, id);
        const tb_value *v = &g->values[id];
        if (def[id]) return tb_error_set(err, "value '%s' is listed twice as a graph input", v->name);
        if (v->data) return tb_error_set(err, "graph input '%s' is also a constant", v->name);
        if (v->producer >= 0)
            return tb_error_set(err, "graph input '%s' has a producer node %d", v->name, v->producer);
        def[id] = DEF_INPUT;
    }
    for (int i = 0; i < g->n_values; i++)
        if (g->values[i].data && !is_shape_output(g, &g->values[i])) def[i] = DEF_CONST;

    /* producers of live nodes */
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_outputs; k++) {
            int id = n->outputs[k];
            const tb_value *v = &g->values[id];
            if (def[id] == DEF_INPUT) return node_err(err, g, i, "output %d '%s' is a graph input", k, v->name);
            if (def[id] == DEF_CONST) return node_err(err, g, i, "output %d '%s' is a constant", k, v->name);
            if (live_producer[id] >= 0)
                return node_err(err, g, i, "output %d '%s' is also an output of %s", k, v->name,
                                node_ref(g, live_producer[id], nb, sizeof nb));
            if (v->producer != i)
                return node_err(err, g, i, "output %d '%s' records %s as its producer", k, v->name,
                                node_ref(g, v->producer, nb, sizeof nb));
            live_producer[id] = i;
        }
    }
    for (int i = 0; i < g->n_values; i++) {
        int pr = g->values[i].producer;
        if (pr >= 0 && !g->nodes[pr].dead && live_producer[i] != pr)
            return tb_error_set(err, "value '%s' records %s as its producer, which does not output it",
                                vname(g, i), node_ref(g, pr, nb, sizeof nb));
    }

    /* topological order */
    for (int i = 0; i < g->n_nodes; i++) {
        const tb_node *n = &g->nodes[i];
        if (n->dead) continue;
        for (int k = 0; k < n->n_inputs; k++) {
            int id = n->inputs[k];
            if (id < 0) continue;
            const tb_value *v = &g->values[id];
            if (!def[id]) {
                if (live_producer[id] >= 0)
                    return node_err(err, g, i, "input %d '%s' is produced by later %s (not in topological order)",
                                    k, v->name, node_ref(g, live_producer[id], nb, sizeof nb));
                if (v->producer >= 0)
                    return node_err(err, g, i, "input %d '%s' is an output of dead %s", k, v->name,
                                    node_ref(g, v->producer, nb, sizeof nb));
                return node_err(err, g, i, "input %d '%s' is not defined (no producer, not a graph input, no data)",
                                k, v->name);
            }
            if (v->dtype == TB_DTYPE_NONE) return node_err(err, g, i, "input %d '%s' has no element type", k, v->name);
            if (v->rank < 0) return node_err(err, g, i, "input %d '%s' has an unknown shape", k, v->name);
        }
        for (int k = 0; k < n->n_outputs; k++) def[n->outputs[k]] = DEF_NODE;
    }

    for (int k = 0; k < g->n_outputs; k++) {
        int id = g->outputs[k];
        if (id < 0 || id >= g->n_values) return tb_error_set(err, "graph output %d has an invalid value id %d", k, id);
        const tb_value *v = &g->values[id];
        if (!def[id]) {
            if (v->producer >= 0)
                return tb_error_set(err, "graph output '%s' is an output of dead %s", v->name,
                                    node_ref(g, v->producer, nb, sizeof nb));
            return tb_error_set(err, "graph output '%s' is not defined (no producer, not a graph input, no data)",
                                v->name);
        }
        if (v->dtype == TB_DTYPE_NONE) return tb_error_set(err, "graph output '%s' has no element type", v->name);
        if (v->rank < 0) return tb_error_set(err, "graph output '%s' has an unknown shape", v->name);
    }
    return 0;
}

/* ---- shapes ------------------------------------------------------------------- */

static int same_type(const tb_value *a, const tb_value *b) {
    if (a->dtype != b->dtype || a->rank != b->rank) return 0;
    for (int k = 0; k < a->rank && k < TB_MAX_RANK; k++)
        if (a->dims[k] != b->dims[k]) return 0;
    return 1;
}

/* Runs tb_infer_node on every live node and compares the output types. The
 * graph is left as it was: inference also normalises attributes (explicit
 * strides, pads, ...), so the node and its attribute structs are saved and
 * put back, as are the output values. */
static int check_shapes(tb_graph *g, tb_error *err) {
    tb_attr *attrs = NULL;
    int attrs_cap = 0, rc = 0;
    for (int i = 0; i < g->n_nodes && !rc; i++) {
        if (g->nodes[i].dead) continue;
        tb_node node = g->nodes[i];
        if (node.n_attrs > attrs_cap) {
            attrs_cap = node.n_attrs;
            attrs = realloc(attrs, (size_t)attrs_cap * sizeof *attrs);
            if (!attrs) tb_die(__FILE__, __LINE__, "out of memory");
        }
        if (node.n_attrs) memcpy(attrs, node.attrs, (size_t)node.n_attrs * sizeof *attrs);
        tb_value saved[TB_MAX_IO];
        for (int k = 0; k < node.n_outputs; k++) saved[k] = g->values[node.outputs[k]];

        tb_error ierr;
        ierr.msg[0] = 0;
        int failed = tb_infer_node(g, i, &ierr);
        int bad = -1;
        char want[128], got[128];
        for (int k = 0; k < node.n_outputs && bad < 0 && !failed; k++) {
            const tb_value *v = &g->values[node.outputs[k]];
            if (!same_type(&saved[k], v)) {
                bad = k;
                type_str(got, sizeof got, v->dtype, v->rank, v->dims);
                type_str(want, sizeof want, saved[k].dtype, saved[k].rank, saved[k].dims);
            }
        }

        g->nodes[i] = node;
        if (node.n_attrs) memcpy(node.attrs, attrs, (size_t)node.n_attrs * sizeof *attrs);
        for (int k = 0; k < node.n_outputs; k++) g->values[node.outputs[k]] = saved[k];

        if (failed) {
            if (ierr.msg[0])
                *err = ierr;
            else
                node_err(err, g, i, "shape inference failed");
            rc = 1;
        } else if (bad >= 0) {
            rc = node_err(err, g, i, "output %d has type %s but inference gives %s", bad, want, got);
        }
    }
    free(attrs);
    return rc;
}

int tb_verify(tb_graph *g, tb_error *err) {
    if (g->n_values < 0 || g->n_nodes < 0 || g->n_inputs < 0 || g->n_outputs < 0 ||
        (g->n_values && !g->values) || (g->n_nodes && !g->nodes) || (g->n_inputs && !g->inputs) ||
        (g->n_outputs && !g->outputs))
        return tb_error_set(err, "graph '%s': invalid counts or arrays", g->name ? g->name : "");
    if (check_values(g, err) || check_nodes(g, err)) return 1;
    size_t nv = (size_t)g->n_values + 1;
    char *def = calloc(nv, 1);
    int *live_producer = malloc(nv * sizeof *live_producer);
    if (!def || !live_producer) tb_die(__FILE__, __LINE__, "out of memory");
    int rc = check_dataflow(g, def, live_producer, err);
    free(def);
    free(live_producer);
    if (rc) return 1;
    return check_shapes(g, err);
}
