/* onnx_load.c - the ONNX frontend: a serialized ModelProto becomes a tb_graph.
 *
 * What it does, one function per proto message kind:
 *   load_model        default-domain opset (absent: 1), then the graph
 *   load_graph        initializers, inputs, nodes in file order, outputs
 *   load_initializer  a TensorProto becomes a constant value
 *   load_input        a ValueInfoProto becomes a graph input (static shape)
 *   load_node         a NodeProto becomes a tb_node; Constant nodes become
 *                     constant values instead (load_constant)
 *   load_attribute    an AttributeProto becomes a tb_attr
 *   tensor_check/fill decode a TensorProto (initializers, Constant values,
 *                     TENSOR attributes alike)
 * Node outputs get the ONNX names; their shapes are left unknown for the
 * caller's shape inference.
 *
 * What it rejects, and why: tyboxc emits static C for microcontrollers, so
 * everything must be known at compile time and live inside the model file.
 *   - dynamic or unknown input dimensions (no dynamic shapes at run time);
 *   - external or segmented tensor data (the weights must be in the model);
 *   - element types without a tb_dtype (float16, bfloat16, string, complex);
 *   - ops outside ops.def, nodes of any domain but the default one (and
 *     com.microsoft for the quantized ops onnxruntime writes: ms_domain_op), and
 *     GRAPH / SPARSE_TENSOR / TYPE_PROTO / STRINGS / TENSORS attributes
 *     (no control flow, no custom kernels);
 *   - anything structurally broken: names used before they are defined (which
 *     also catches cycles: ONNX requires topological order), names defined
 *     twice, inconsistent tensor sizes, out-of-range values.
 * The input is untrusted (fuzzed): every size is checked before use, and the
 * protobuf nesting depth is checked before protobuf-c (which recurses without
 * a limit) sees the bytes. Errors go to err->msg and name the tensor or the
 * node ("node 'conv_3' (Conv): ..."); a failed load frees everything.
 */
#include "frontend.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

#define MAX_PROTO_DEPTH 100        /* protobuf message nesting; real models use < 20 */
#define MAX_NODE_ATTRS 64          /* real ops have at most ~10 */
#define MAX_GRAPH_ITEMS (1 << 24)  /* nodes, values, inputs, outputs */
#define MAX_GRAPH_NAME 48          /* the graph name becomes a C identifier prefix */

typedef struct {
    tb_graph *g;
    tb_error *err;
    /* Every ONNX name defined so far -> value id: open addressing, slot holds
     * id + 1 (0 = empty). Kept here rather than tb_graph_find_value, which is
     * a linear scan. */
    int *slots;
    size_t cap, count;
} loader;

/* A node before (or instead of) its tb_node exists: enough to name it. */
typedef struct {
    const char *name;
    const char *op_type;
} node_ref;

static const char *str(const char *s) { return s ? s : ""; }

/* Same format as tb_node_error, for nodes that have no tb_node (unknown op,
 * Constant) or not yet (inputs are resolved before the node is created). */
__attribute__((format(printf, 3, 4)))
static int node_fail(tb_error *err, const node_ref *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tb_node_verror(err, n->name, n->op_type, fmt, ap);
    va_end(ap);
    return 1;
}

static const char *onnx_dtype_name(int t, char buf[32]) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
        "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
        "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"};
    if (t >= 0 && (size_t)t < sizeof names / sizeof *names) return names[t];
    snprintf(buf, 32, "%d", t);
    return buf;
}

static const char *attr_type_name(int t, char buf[32]) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
        "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS",
        "TYPE_PROTO", "TYPE_PROTOS"};
    if (t >= 0 && (size_t)t < sizeof names / sizeof *names) return names[t];
    snprintf(buf, 32, "%d", t);
    return buf;
}

static void format_dims(char *buf, size_t cap, int rank, const int64_t *dims) {
    size_t k = 0;
    buf[0] = 0;
    k += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

/* ---- names ---------------------------------------------------------------- */
static size_t hash_name(const char *s) {
    uint64_t h = 14695981039346656037u;  /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

static int names_find(const loader *L, const char *name) {
    if (!L->cap) return -1;
    size_t mask = L->cap - 1;
    for (size_t i = hash_name(name) & mask;; i = (i + 1) & mask) {
        int s = L->slots[i];
        if (!s) return -1;
        if (!strcmp(L->g->values[s - 1].name, name)) return s - 1;
    }
}

static void names_put(int *slots, size_t cap, const tb_graph *g, int id) {
    size_t mask = cap - 1;
    size_t i = hash_name(g->values[id].name) & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = id + 1;
}

/* Records value id (whose name is not yet in the table) under its name. */
static int names_add(loader *L, int id) {
    if ((L->count + 1) * 2 > L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        int *slots = calloc(cap, sizeof *slots);
        if (!slots) return tb_error_set(L->err, "out of memory");
        for (size_t i = 0; i < L->cap; i++)
            if (L->slots[i]) names_put(slots, cap, L->g, L->slots[i] - 1);
        free(L->slots);
        L->slots = slots;
        L->cap = cap;
    }
    names_put(L->slots, L->cap, L->g, id);
    L->count++;
    return 0;
}

/* Nameless values (omitted optional node outputs) are named last, once every
 * ONNX name is known, so that a generated name cannot take an ONNX name that
 * appears later in the file. Same scheme as tb_graph_add_value: "<id>". */
static int name_anonymous_values(loader *L) {
    for (int id = 0; id < L->g->n_values; id++) {
        if (L->g->values[id].name) continue;
        char buf[48];
        snprintf(buf, sizeof buf, "%d", id);
        for (int k = 1; names_find(L, buf) >= 0; k++) snprintf(buf, sizeof buf, "%d_%d", id, k);
        L->g->values[id].name = tb_strdup(L->g->pool, buf);
        if (names_add(L, id)) return 1;
    }
    return 0;
}

/* The graph name prefixes C identifiers: keep [A-Za-z0-9_], start with a letter. */
static int sanitize_name(const char *s, char *out, size_t cap) {
    size_t k = 0;
    if (!s || !*s) return 0;
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) {
        out[k++] = 'g';
        out[k++] = '_';
    }
    for (; *s && k + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[k++] = ok ? c : '_';
    }
    out[k] = 0;
    return 1;
}

/* ---- protobuf wire pre-check ----------------------------------------------- */
static int read_varint(const uint8_t *p, size_t len, size_t *i, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*i >= len) return 0;
        uint8_t b = p[(*i)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 1;
        }
    }
    return 0;  /* more than 10 bytes */
}

/* Walks the wire format of one message, descending into the fields the schema
 * declares as sub-messages. Fails on malformed framing and on nesting deeper
 * than MAX_PROTO_DEPTH: protobuf-c unpacks recursively without a limit, so a
 * few MB of nested TypeProtos would otherwise overflow the stack. */
static int wire_ok(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d, int depth) {
    if (depth > MAX_PROTO_DEPTH) return 0;
    size_t i = 0;
    while (i < len) {
        uint64_t key, n;
        if (!read_varint(p, len, &i, &key)) return 0;
        uint64_t field = key >> 3;
        if (field == 0 || field > 0x1fffffff) return 0;
        switch (key & 7) {
        case 0: /* varint */
            if (!read_varint(p, len, &i, &n)) return 0;
            break;
        case 1: /* 64-bit */
            if (len - i < 8) return 0;
            i += 8;
            break;
        case 5: /* 32-bit */
            if (len - i < 4) return 0;
            i += 4;
            break;
        case 2: { /* length-delimited: bytes, string, packed or a sub-message */
            if (!read_varint(p, len, &i, &n) || n > len - i) return 0;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)field);
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !wire_ok(p + i, (size_t)n, f->descriptor, depth + 1))
                return 0;
            i += (size_t)n;
            break;
        }
        default: /* groups (3, 4) are unsupported by protobuf-c too */
            return 0;
        }
    }
    return 1;
}

/* ---- tensors ---------------------------------------------------------------- */
typedef struct {
    tb_dtype dtype;
    int rank;
    int64_t dims[TB_MAX_RANK];
    size_t numel, bytes;
} tensor_shape;

/* Checks rank, dims and size; what names the tensor in messages. Besides
 * the element count, the product of the non-zero dims must fit, so that no
 * partial product over the dims can overflow anywhere in the compiler. */
static int check_dims(tb_error *err, const char *what, tb_dtype dtype, size_t rank,
                      const int64_t *dims, tensor_shape *ts) {
    if (rank > TB_MAX_RANK)
        return tb_error_set(err, "%s has rank %zu; tyboxc supports at most %d", what, rank,
                            TB_MAX_RANK);
    size_t size = tb_dtype_size(dtype);
    uint64_t limit = (uint64_t)INT64_MAX < (uint64_t)SIZE_MAX ? (uint64_t)INT64_MAX
                                                             : (uint64_t)SIZE_MAX;
    limit /= size;
    uint64_t nonzero = 1;
    int zero = 0;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return tb_error_set(err, "%s has a negative dimension (%lld at axis %zu)", what,
                                (long long)dims[i], i);
        if (dims[i] == 0) {
            zero = 1;
            continue;
        }
        if ((uint64_t)dims[i] > limit / nonzero) {
            char shape[256];
            format_dims(shape, sizeof shape, (int)rank, dims);
            return tb_error_set(err, "%s is too large (shape %s of %s)", what, shape,
                                tb_dtype_name(dtype));
        }
        nonzero *= (uint64_t)dims[i];
    }
    ts->dtype = dtype;
    ts->rank = (int)rank;
    for (size_t i = 0; i < rank; i++) ts->dims[i] = dims[i];
    ts->numel = zero ? 0 : (size_t)nonzero;
    ts->bytes = ts->numel * size;
    return 0;
}

/* Where ONNX stores each type when raw_data is not used. */
enum { F_FLOAT, F_INT32, F_INT64, F_DOUBLE, F_UINT64, F_STRING, N_FIELDS };
static const char *const field_names[N_FIELDS] = {
    "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"};

static int typed_field(tb_dtype t) {
    switch (t) {
    case TB_F32: return F_FLOAT;
    case TB_I64: return F_INT64;
    case TB_F64: return F_DOUBLE;
    case TB_U32: case TB_U64: return F_UINT64;
    default: return F_INT32;  /* INT32, INT16, INT8, UINT16, UINT8, BOOL */
    }
}

/* Validates a TensorProto (type, shape, where and how much data) into ts. */
static int tensor_check(const Onnx__TensorProto *t, const char *what, tensor_shape *ts,
                        tb_error *err) {
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data) {
        const char *loc = NULL;
        for (size_t i = 0; i < t->n_external_data; i++)
            if (t->external_data[i] && !strcmp(str(t->external_data[i]->key), "location"))
                loc = str(t->external_data[i]->value);
        char where[300];
        if (loc) snprintf(where, sizeof where, "file '%s'", loc);
        else snprintf(where, sizeof where, "data_location EXTERNAL");
        return tb_error_set(err,
                            "%s uses external data (%s): not supported; re-export with the "
                            "weights inside the model", what, where);
    }
    if (t->segment)
        return tb_error_set(err, "%s is a segment of a larger tensor: not supported", what);
    tb_dtype dtype = tb_dtype_from_onnx(t->data_type);
    if (dtype == TB_DTYPE_NONE) {
        char buf[32];
        return tb_error_set(err, "%s has element type %s, which tyboxc does not support", what,
                            onnx_dtype_name(t->data_type, buf));
    }
    if (check_dims(err, what, dtype, t->n_dims, t->dims, ts)) return 1;

    char shape[256];
    format_dims(shape, sizeof shape, ts->rank, ts->dims);
    size_t counts[N_FIELDS] = {t->n_float_data, t->n_int32_data, t->n_int64_data,
                               t->n_double_data, t->n_uint64_data, t->n_string_data};
    if (t->has_raw_data || t->raw_data.len) {
        for (int f = 0; f < N_FIELDS; f++)
            if (counts[f])
                return tb_error_set(err, "%s has both raw_data and %s", what, field_names[f]);
        if (t->raw_data.len != ts->bytes)
            return tb_error_set(err, "%s has %zu bytes of raw_data, but shape %s of %s needs %zu",
                                what, t->raw_data.len, shape, tb_dtype_name(dtype), ts->bytes);
        return 0;
    }
    int want = typed_field(dtype);
    for (int f = 0; f < N_FIELDS; f++)
        if (f != want && counts[f])
            return tb_error_set(err, "%s of %s stores its data in %s; ONNX uses %s", what,
                                tb_dtype_name(dtype), field_names[f], field_names[want]);
    if (counts[want] != ts->numel)
        return tb_error_set(err, "%s has %zu elements in %s, but shape %s needs %zu", what,
                            counts[want], field_names[want], shape, ts->numel);
    return 0;
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* Narrows an int32_data element into a smaller type, range-checked. */
static int store_narrow(tb_dtype t, int32_t v, void *dst, size_t i) {
    switch (t) {
    case TB_I32: ((int32_t *)dst)[i] = v; return 1;
    case TB_I16: if (v < INT16_MIN || v > INT16_MAX) return 0; ((int16_t *)dst)[i] = (int16_t)v; return 1;
    case TB_I8: if (v < INT8_MIN || v > INT8_MAX) return 0; ((int8_t *)dst)[i] = (int8_t)v; return 1;
    case TB_U16: if (v < 0 || v > UINT16_MAX) return 0; ((uint16_t *)dst)[i] = (uint16_t)v; return 1;
    case TB_U8: if (v < 0 || v > UINT8_MAX) return 0; ((uint8_t *)dst)[i] = (uint8_t)v; return 1;
    case TB_BOOL: if (v < 0 || v > 1) return 0; ((uint8_t *)dst)[i] = (uint8_t)v; return 1;
    default: return 0;
    }
}

/* Copies the data of a tensor that passed tensor_check into dst (ts->bytes,
 * dense row-major, host byte order). Fails only on out-of-range values. */
static int tensor_fill(const Onnx__TensorProto *t, const char *what, const tensor_shape *ts,
                       void *dst, tb_error *err) {
    size_t n = ts->numel, size = tb_dtype_size(ts->dtype);
    if (!n) return 0;
    if (t->has_raw_data || t->raw_data.len) {
        const uint8_t *src = t->raw_data.data;
        if (size == 1 || host_is_little_endian()) {
            memcpy(dst, src, ts->bytes);
        } else {
            uint8_t *d = dst;
            for (size_t i = 0; i < n; i++)
                for (size_t b = 0; b < size; b++) d[i * size + b] = src[i * size + size - 1 - b];
        }
        if (ts->dtype == TB_BOOL)
            for (size_t i = 0; i < n; i++)
                if (src[i] > 1)
                    return tb_error_set(err, "%s: bool value %u at index %zu is not 0 or 1", what,
                                        src[i], i);
        return 0;
    }
    switch (ts->dtype) {
    case TB_F32: memcpy(dst, t->float_data, n * sizeof(float)); return 0;
    case TB_F64: memcpy(dst, t->double_data, n * sizeof(double)); return 0;
    case TB_I64: memcpy(dst, t->int64_data, n * sizeof(int64_t)); return 0;
    case TB_U64: memcpy(dst, t->uint64_data, n * sizeof(uint64_t)); return 0;
    case TB_U32:
        for (size_t i = 0; i < n; i++) {
            if (t->uint64_data[i] > UINT32_MAX)
                return tb_error_set(err, "%s: value %llu at index %zu is out of range for u32",
                                    what, (unsigned long long)t->uint64_data[i], i);
            ((uint32_t *)dst)[i] = (uint32_t)t->uint64_data[i];
        }
        return 0;
    default:
        for (size_t i = 0; i < n; i++)
            if (!store_narrow(ts->dtype, t->int32_data[i], dst, i))
                return tb_error_set(err, "%s: value %d at index %zu is out of range for %s", what,
                                    (int)t->int32_data[i], i, tb_dtype_name(ts->dtype));
        return 0;
    }
}

/* Frees the data of a tensor once the graph holds its copy, so that the
 * weights are not held twice (in the unpacked model and in the graph) while
 * the rest loads. free_unpacked skips the emptied fields. */
static void release_tensor_data(Onnx__TensorProto *t) {
    free(t->raw_data.data);
    t->raw_data.data = NULL;
    t->raw_data.len = 0;
    t->has_raw_data = 0;
    free(t->float_data);
    t->float_data = NULL;
    t->n_float_data = 0;
    free(t->int32_data);
    t->int32_data = NULL;
    t->n_int32_data = 0;
    free(t->int64_data);
    t->int64_data = NULL;
    t->n_int64_data = 0;
    free(t->double_data);
    t->double_data = NULL;
    t->n_double_data = 0;
    free(t->uint64_data);
    t->uint64_data = NULL;
    t->n_uint64_data = 0;
}

/* An initializer: a named constant. */
static int load_initializer(loader *L, Onnx__TensorProto *t, size_t index) {
    const char *name = str(t->name);
    if (!*name) return tb_error_set(L->err, "initializer %zu has no name", index);
    if (names_find(L, name) >= 0)
        return tb_error_set(L->err, "tensor '%s': value '%s' is defined twice", name, name);
    char what[320];
    snprintf(what, sizeof what, "tensor '%s'", name);
    tensor_shape ts;
    if (tensor_check(t, what, &ts, L->err)) return 1;
    int id = tb_graph_add_const(L->g, name, ts.dtype, ts.rank, ts.dims, NULL);
    if (tensor_fill(t, what, &ts, L->g->values[id].data, L->err)) return 1;
    release_tensor_data(t);
    return names_add(L, id);
}

/* ---- graph inputs ------------------------------------------------------------ */
static int load_input(loader *L, const Onnx__ValueInfoProto *vi, size_t index) {
    const char *name = str(vi->name);
    if (!*name) return tb_error_set(L->err, "graph input %zu has no name", index);
    int prev = names_find(L, name);
    if (prev >= 0) {
        /* IR < 4 lists initializers among the inputs: the initializer wins. */
        if (L->g->values[prev].data) return 0;
        return tb_error_set(L->err, "input '%s': value '%s' is defined twice", name, name);
    }
    const Onnx__TypeProto *type = vi->type;
    if (!type) return tb_error_set(L->err, "input '%s' has no type", name);
    if (type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !type->tensor_type)
        return tb_error_set(L->err, "input '%s' is not a tensor (sequence, map, optional and "
                            "sparse inputs are not supported)", name);
    const Onnx__TypeProto__Tensor *tt = type->tensor_type;
    tb_dtype dtype = tb_dtype_from_onnx(tt->elem_type);
    if (dtype == TB_DTYPE_NONE) {
        char buf[32];
        return tb_error_set(L->err, "input '%s' has element type %s, which tyboxc does not support",
                            name, onnx_dtype_name(tt->elem_type, buf));
    }
    if (!tt->shape)
        return tb_error_set(L->err, "input '%s' has no shape: tyboxc needs static shapes", name);
    if (tt->shape->n_dim > TB_MAX_RANK)
        return tb_error_set(L->err, "input '%s' has rank %zu; tyboxc supports at most %d", name,
                            tt->shape->n_dim, TB_MAX_RANK);
    int64_t dims[TB_MAX_RANK];
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return tb_error_set(L->err, "input '%s': dimension %zu is negative (%lld)", name, i,
                                    (long long)d->dim_value);
            dims[i] = d->dim_value;
        } else if (d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            return tb_error_set(L->err,
                                "input '%s': dimension %zu is dynamic ('%s'): tyboxc needs static "
                                "shapes", name, i, str(d->dim_param));
        } else {
            return tb_error_set(L->err,
                                "input '%s': dimension %zu is dynamic (no value): tyboxc needs "
                                "static shapes", name, i);
        }
    }
    char what[320];
    snprintf(what, sizeof what, "input '%s'", name);
    tensor_shape ts;
    if (check_dims(L->err, what, dtype, tt->shape->n_dim, dims, &ts)) return 1;
    int id = tb_graph_add_input(L->g, name, dtype, ts.rank, ts.dims);
    return names_add(L, id);
}

/* ---- attributes ----------------------------------------------------------- */
/* The attribute's type; old exporters omit the type field, then it is the one
 * value field that is set. */
static int attr_type(const loader *L, const node_ref *nr, const Onnx__AttributeProto *a,
                     int *type) {
    const char *name = str(a->name);
    if (*str(a->ref_attr_name))
        return node_fail(L->err, nr, "attribute '%s' refers to function attribute '%s', which is "
                         "only valid inside a function", name, a->ref_attr_name);
    if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) {
        *type = a->type;
        return 0;
    }
    const struct { int set, type; } fields[] = {
        {a->has_f, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
        {a->has_i, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
        {a->has_s, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING},
        {a->t != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR},
        {a->g != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH},
        {a->sparse_tensor != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR},
        {a->tp != NULL, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO},
        {a->n_floats > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS},
        {a->n_ints > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
        {a->n_strings > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS},
        {a->n_tensors > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS},
        {a->n_graphs > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS},
        {a->n_sparse_tensors > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS},
        {a->n_type_protos > 0, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i].set) {
            *type = fields[i].type;
            found++;
        }
    if (found != 1)
        return node_fail(L->err, nr, "attribute '%s' has no type and %s value", name,
                         found ? "more than one" : "no");
    return 0;
}

/* Attribute counts become ints in tb_attr. */
static int attr_count(const loader *L, const node_ref *nr, const char *name, size_t n) {
    if (n > INT_MAX) return node_fail(L->err, nr, "attribute '%s' has too many values", name);
    return 0;
}

static int load_attribute(loader *L, int node, const node_ref *nr, const Onnx__AttributeProto *a,
                          size_t index) {
    tb_graph *g = L->g;
    const char *name = str(a->name);
    if (!*name) return node_fail(L->err, nr, "attribute %zu has no name", index);
    if (tb_node_attr(tb_graph_node(g, node), name))
        return node_fail(L->err, nr, "attribute '%s' is given twice", name);
    int type;
    if (attr_type(L, nr, a, &type)) return 1;
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        tb_node_set_float(g, node, name, a->f);
        return 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        tb_node_set_int(g, node, name, a->i);
        return 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        if (a->s.len && memchr(a->s.data, 0, a->s.len))
            return node_fail(L->err, nr, "attribute '%s' contains a NUL byte", name);
        tb_node_set_string(g, node, name,
                           a->s.len ? tb_strndup(g->pool, (const char *)a->s.data, a->s.len) : "");
        return 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        if (attr_count(L, nr, name, a->n_ints)) return 1;
        tb_node_set_ints(g, node, name, (int)a->n_ints, a->ints);
        return 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        if (attr_count(L, nr, name, a->n_floats)) return 1;
        tb_node_set_floats(g, node, name, (int)a->n_floats, a->floats);
        return 0;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        if (!a->t) return node_fail(L->err, nr, "attribute '%s' of type TENSOR has no tensor", name);
        char what[600];
        snprintf(what, sizeof what, "node '%s' (%s): attribute '%s'", nr->name, nr->op_type, name);
        tensor_shape ts;
        if (tensor_check(a->t, what, &ts, L->err)) return 1;
        tb_value v = {.name = name, .dtype = ts.dtype, .rank = ts.rank, .producer = -1};
        memcpy(v.dims, ts.dims, sizeof v.dims);
        v.data = malloc(ts.bytes ? ts.bytes : 1);
        if (!v.data) return tb_error_set(L->err, "out of memory");
        int bad = tensor_fill(a->t, what, &ts, v.data, L->err);
        if (!bad) tb_node_set_tensor(g, node, name, &v);
        free(v.data);
        return bad;
    }
    default: {
        char buf[32];
        return node_fail(L->err, nr, "attribute '%s' of type %s is not supported", name,
                         attr_type_name(type, buf));
    }
    }
}

/* ---- nodes -------------------------------------------------------------------- */
/* A Constant node becomes a constant value named after its output. */
static int load_constant(loader *L, const Onnx__NodeProto *np, const node_ref *nr) {
    tb_graph *g = L->g;
    for (size_t i = 0; i < np->n_input; i++)
        if (*str(np->input[i])) return node_fail(L->err, nr, "Constant takes no inputs");
    if (np->n_output != 1 || !*str(np->output[0]))
        return node_fail(L->err, nr, "Constant must have exactly one named output");
    const char *out = np->output[0];
    if (names_find(L, out) >= 0) return node_fail(L->err, nr, "value '%s' is defined twice", out);
    if (np->n_attribute == 0) return node_fail(L->err, nr, "Constant without a value");
    if (np->n_attribute > 1)
        return node_fail(L->err, nr, "Constant has %zu attributes; ONNX allows exactly one value",
                         np->n_attribute);
    const Onnx__AttributeProto *a = np->attribute[0];
    const char *aname = str(a->name);
    int type, id;
    if (attr_type(L, nr, a, &type)) return 1;
    static const struct { const char *name; int type; } kinds[] = {
        {"value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR},
        {"value_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT},
        {"value_floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS},
        {"value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT},
        {"value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS},
    };
    size_t k = 0;
    while (k < sizeof kinds / sizeof *kinds && strcmp(kinds[k].name, aname)) k++;
    if (k == sizeof kinds / sizeof *kinds) {
        if (!strcmp(aname, "value_string") || !strcmp(aname, "value_strings"))
            return node_fail(L->err, nr, "Constant with %s is not supported (no string tensors)",
                             aname);
        if (!strcmp(aname, "sparse_value"))
            return node_fail(L->err, nr, "Constant with sparse_value is not supported");
        return node_fail(L->err, nr, "Constant has unknown attribute '%s'", aname);
    }
    if (type != kinds[k].type) {
        char b1[32], b2[32];
        return node_fail(L->err, nr, "attribute '%s' has type %s, expected %s", aname,
                         attr_type_name(type, b1), attr_type_name(kinds[k].type, b2));
    }
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        if (!a->t) return node_fail(L->err, nr, "attribute 'value' has no tensor");
        char what[600];
        snprintf(what, sizeof what, "node '%s' (Constant): tensor '%s'", nr->name, out);
        tensor_shape ts;
        if (tensor_check(a->t, what, &ts, L->err)) return 1;
        id = tb_graph_add_const(g, out, ts.dtype, ts.rank, ts.dims, NULL);
        if (tensor_fill(a->t, what, &ts, g->values[id].data, L->err)) return 1;
        release_tensor_data(a->t);
        break;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        id = tb_graph_add_const(g, out, TB_F32, 0, NULL, &a->f);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        id = tb_graph_add_const(g, out, TB_I64, 0, NULL, &a->i);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        id = tb_graph_add_const(g, out, TB_F32, 1, (int64_t[]){(int64_t)a->n_floats}, a->floats);
        break;
    default: /* INTS */
        id = tb_graph_add_const(g, out, TB_I64, 1, (int64_t[]){(int64_t)a->n_ints}, a->ints);
        break;
    }
    return names_add(L, id);
}

/* The com.microsoft contrib ops tyboxc runs; they exist in that domain only. */
static int ms_domain_op(tb_op op) {
    switch (op) {
    case TB_OP_QGEMM: case TB_OP_QLINEARADD: case TB_OP_QLINEARCONCAT:
    case TB_OP_QLINEARGLOBALAVGPOOL: case TB_OP_QLINEARAVGPOOL: case TB_OP_QLINEARSIGMOID:
        return 1;
    default:
        return 0;
    }
}

static int load_node(loader *L, const Onnx__NodeProto *np, size_t index) {
    tb_graph *g = L->g;
    const char *op_type = str(np->op_type);
    node_ref nr = {str(np->name), op_type};
    if (!*nr.name) {
        /* Every diagnostic names the node: make up "<op>_<index>". */
        size_t len = strlen(op_type) + 32;
        char *gen = tb_alloc(g->pool, len);
        snprintf(gen, len, "%s_%zu", *op_type ? op_type : "node", index);
        nr.name = gen;
    }
    if (!*op_type) return node_fail(L->err, &nr, "node has no op_type");
    const char *domain = str(np->domain);
    int ms = !strcmp(domain, "com.microsoft");
    if (*domain && strcmp(domain, "ai.onnx") && !ms)
        return node_fail(L->err, &nr, "unsupported domain '%s'", domain);
    if (!ms && !strcmp(op_type, "Constant")) return load_constant(L, np, &nr);
    tb_op op = tb_op_from_name(op_type, strlen(op_type));
    if (ms && !ms_domain_op(op))
        return node_fail(L->err, &nr, "unsupported op '%s' in domain 'com.microsoft'", op_type);
    if (op == TB_OP_NONE) return node_fail(L->err, &nr, "unsupported op '%s'", op_type);
    if (!ms && ms_domain_op(op))
        return node_fail(L->err, &nr, "op '%s' is in domain 'com.microsoft', not the default domain", op_type);

    /* Inputs: "" is an omitted optional input (-1); trailing ones are dropped. */
    size_t n_in = np->n_input;
    while (n_in && !*str(np->input[n_in - 1])) n_in--;
    if (n_in > TB_MAX_IO)
        return node_fail(L->err, &nr, "%zu inputs; tyboxc supports at most %d", n_in, TB_MAX_IO);
    if (np->n_output > TB_MAX_IO)
        return node_fail(L->err, &nr, "%zu outputs; tyboxc supports at most %d", np->n_output,
                         TB_MAX_IO);
    if (np->n_attribute > MAX_NODE_ATTRS)
        return node_fail(L->err, &nr, "%zu attributes; tyboxc supports at most %d",
                         np->n_attribute, MAX_NODE_ATTRS);
    int inputs[TB_MAX_IO];
    for (size_t i = 0; i < n_in; i++) {
        const char *in = str(np->input[i]);
        inputs[i] = *in ? names_find(L, in) : -1;
        if (*in && inputs[i] < 0)
            return node_fail(L->err, &nr, "input '%s' is not defined before use", in);
    }

    /* Outputs are created here rather than by tb_graph_add_node, whose fresh
     * names cost a linear search each; unnamed ones are named at the end. */
    int node = tb_graph_add_node(g, op, nr.name, (int)n_in, inputs, 0);
    nr.name = tb_graph_node(g, node)->name;
    for (size_t k = 0; k < np->n_output; k++) {
        const char *out = str(np->output[k]);
        if (*out && names_find(L, out) >= 0)
            return node_fail(L->err, &nr, "value '%s' is defined twice", out);
        int v = tb_graph_add_value(g, *out ? out : "-", TB_DTYPE_NONE);
        g->values[v].producer = node;
        tb_node *n = tb_graph_node(g, node);
        n->outputs[k] = v;
        n->n_outputs = (int)k + 1;
        if (!*out) g->values[v].name = NULL;
        else if (names_add(L, v)) return 1;
    }
    for (size_t k = 0; k < np->n_attribute; k++)
        if (load_attribute(L, node, &nr, np->attribute[k], k)) return 1;
    return 0;
}

/* ---- graph and model ---------------------------------------------------------- */
static int load_outputs(loader *L, const Onnx__GraphProto *gp) {
    if (!gp->n_output) return tb_error_set(L->err, "graph has no outputs");
    char *listed = calloc((size_t)L->g->n_values + 1, 1);
    if (!listed) return tb_error_set(L->err, "out of memory");
    int bad = 0;
    for (size_t i = 0; i < gp->n_output && !bad; i++) {
        const char *name = str(gp->output[i]->name);
        int id = *name ? names_find(L, name) : -1;
        if (!*name)
            bad = tb_error_set(L->err, "graph output %zu has no name", i);
        else if (id < 0)
            bad = tb_error_set(L->err, "graph output '%s' is not defined by any node, input or "
                               "initializer", name);
        else if (listed[id])
            bad = tb_error_set(L->err, "graph output '%s' is listed twice", name);
        else {
            listed[id] = 1;
            tb_graph_mark_output(L->g, id);
        }
    }
    free(listed);
    return bad;
}

static int load_graph(loader *L, const Onnx__GraphProto *gp) {
    size_t items = gp->n_initializer + gp->n_input + gp->n_output;
    for (size_t i = 0; i < gp->n_node && items <= MAX_GRAPH_ITEMS; i++)
        items += 1 + gp->node[i]->n_output;
    if (items > MAX_GRAPH_ITEMS)
        return tb_error_set(L->err, "graph too large: tyboxc supports at most %d nodes and values",
                            MAX_GRAPH_ITEMS);
    if (gp->n_sparse_initializer) {
        const Onnx__SparseTensorProto *s = gp->sparse_initializer[0];
        return tb_error_set(L->err, "sparse initializer '%s' is not supported",
                            s->values ? str(s->values->name) : "");
    }
    for (size_t i = 0; i < gp->n_initializer; i++)
        if (load_initializer(L, gp->initializer[i], i)) return 1;
    for (size_t i = 0; i < gp->n_input; i++)
        if (load_input(L, gp->input[i], i)) return 1;
    for (size_t i = 0; i < gp->n_node; i++)
        if (load_node(L, gp->node[i], i)) return 1;
    if (load_outputs(L, gp)) return 1;
    return name_anonymous_values(L);
}

static int load_model(loader *L, const Onnx__ModelProto *m) {
    int found = 0;
    L->g->opset = 1;  /* IR < 3 models have no opset_import: opset 1 */
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = m->opset_import[i];
        const char *d = str(os->domain);
        if (*d && strcmp(d, "ai.onnx")) continue;
        if (found++) return tb_error_set(L->err, "model imports the default opset twice");
        if (os->version < 1 || os->version > INT_MAX)
            return tb_error_set(L->err, "default opset version %lld is out of range",
                                (long long)os->version);
        L->g->opset = (int)os->version;
    }
    return load_graph(L, m->graph);
}

/* The checked, unpacked model (which copies every byte field out of data);
 * NULL and err on failure. */
static Onnx__ModelProto *unpack_model(const uint8_t *data, size_t len, tb_error *err) {
    static const uint8_t empty[1];
    if (!data) {
        if (len) {
            tb_error_set(err, "not a valid ONNX model (no data)");
            return NULL;
        }
        data = empty;
    }
    if (!wire_ok(data, len, &onnx__model_proto__descriptor, 0)) {
        tb_error_set(err, "not a valid ONNX model (protobuf parse failed)");
        return NULL;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, data);
    if (!m) tb_error_set(err, "not a valid ONNX model (protobuf parse failed)");
    return m;
}

/* Loads an unpacked model into a graph and frees the model. */
static tb_graph *load_unpacked(Onnx__ModelProto *m, const char *graph_name_hint, tb_error *err) {
    if (!m->graph) {
        onnx__model_proto__free_unpacked(m, NULL);
        tb_error_set(err, "not a valid ONNX model: model has no graph");
        return NULL;
    }
    char name[MAX_GRAPH_NAME + 1];
    if (!sanitize_name(m->graph->name, name, sizeof name) &&
        !sanitize_name(graph_name_hint, name, sizeof name))
        strcpy(name, "graph");
    loader L = {.g = tb_graph_new(name), .err = err};
    int bad = load_model(&L, m);
    free(L.slots);
    onnx__model_proto__free_unpacked(m, NULL);
    if (bad) {
        tb_graph_free(L.g);
        return NULL;
    }
    return L.g;
}

tb_graph *tb_onnx_load_buffer(const uint8_t *data, size_t len, const char *graph_name_hint,
                              tb_error *err) {
    Onnx__ModelProto *m = unpack_model(data, len, err);
    return m ? load_unpacked(m, graph_name_hint, err) : NULL;
}

/* Reads the whole file; works for pipes too (no seeking). */
static uint8_t *read_file(const char *path, size_t *len, tb_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        tb_error_set(err, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            tb_error_set(err, "cannot read '%s': out of memory", path);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;  /* end of file or error */
        uint8_t *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
        if (!bigger) free(buf);
        buf = bigger;
        cap *= 2;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        tb_error_set(err, "cannot read '%s': %s", path, strerror(e));
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

tb_graph *tb_onnx_load_file(const char *path, tb_error *err) {
    size_t len;
    uint8_t *data = read_file(path, &len, err);
    if (!data) return NULL;
    /* Peak memory: the file is freed once unpacked, and each tensor of the
     * unpacked model once the graph has it, so the weights are never held
     * more than twice. */
    Onnx__ModelProto *m = unpack_model(data, len, err);
    free(data);
    if (!m) return NULL;
    /* Name hint: the file name without directory and extension. */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char hint[MAX_GRAPH_NAME + 1];
    size_t k = 0;
    while (base[k] && base[k] != '.' && k < MAX_GRAPH_NAME) {
        hint[k] = base[k];
        k++;
    }
    hint[k] = 0;
    return load_unpacked(m, hint, err);
}
