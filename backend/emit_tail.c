/* emit_tail.c - the trainable classifier tail of --train-tail: <prefix>_tail.c
 * and its declarations, appended to <prefix>.h.
 *
 * <prefix>_run() (emit_c.c) is the frozen feature extractor phi_f, x -> psi.
 * The tail file holds phi_c: its pretrained weights as const arrays (flash),
 * RAM copies of the trainable ones, momentum, the activations backprop needs,
 * the sample buffer and its policy state, all static and sized at compile
 * time (tail_split.c computed every byte). The kernels are runtime/train.c.
 */
#include "backend.h"
#include "tail_split.h"
#include "tb_train.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a, the same the generated code checks state blobs with. */
static uint32_t fnv1a(uint32_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void emit_floats(FILE *out, const char *name, const float *v, size_t n) {
    fprintf(out, "static const union { uint32_t bits[%zu]; float v[%zu]; } %s = {{", n, n, name);
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i], 4);
        fprintf(out, "%s0x%08" PRIx32 "%s", i % 8 ? " " : "\n    ", b, i + 1 < n ? "," : "");
    }
    fputs("\n}};\n", out);
}

static const char *float_lit(char *buf, size_t cap, float f) {
    if (f == INFINITY) return "INFINITY";
    if (f == -INFINITY) return "-INFINITY";
    snprintf(buf, cap, "%.9gf", f);
    if (!strpbrk(buf, ".en")) { /* 0f is not a literal */
        size_t len = strlen(buf);
        snprintf(buf + len - 1, cap - len + 1, ".0f");
    }
    return buf;
}

/* The model.h written by tb_emit_model ends with "#endif\n": the tail's
 * declarations go in front of it. */
static int append_header(const tb_tail *t, const char *prefix, const char *P, const char *dir, tb_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.h", dir, prefix);
    FILE *f = fopen(path, "r+");
    if (!f) return tb_error_set(err, "cannot open '%s': %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    const char *tailmark = "#endif\n";
    long at = len - (long)strlen(tailmark);
    char check[8] = {0};
    if (at < 0 || fseek(f, at, SEEK_SET) || fread(check, 1, strlen(tailmark), f) != strlen(tailmark) ||
        strcmp(check, tailmark)) {
        fclose(f);
        return tb_error_set(err, "'%s' does not end with #endif", path);
    }
    fseek(f, at, SEEK_SET);
    const char *ft = t->feature_int8 ? "int8_t" : "float";
    fprintf(f, "/* ---- the trainable tail (tyboxc --train-tail) ------------------------------\n"
               " * %s_run(x, feature) above is the frozen feature extractor phi_f: it writes\n"
               " * the feature vector psi ('%s'%s). The classifier phi_c\n"
               " * after it is float, in RAM, and learns on the device:\n"
               " *   %s_predict(x, probs)       class index (probs may be NULL)\n"
               " *   %s_push_sample(x, label)   runs phi_f once, stores psi + label in the buffer\n"
               " *   %s_train(epochs)           epochs passes over the buffer in index order,\n"
               " *                             batch 1, SGD (+ momentum), softmax cross-entropy\n"
               " *   %s_learn(x, label)         push, then train(%s_get_epochs())\n"
               " * Classes >= %s_PRETRAINED_CLASSES start masked out of the softmax (zero rows)\n"
               " * and join when a sample of them is first pushed. Nothing allocates; nothing is\n"
               " * reentrant. %s_RAM_BYTES is every static byte the model uses (the stack aside).\n"
               " * Return codes: */\n",
            prefix, t->feature, t->feature_int8 ? ", int8: x = (q - zero point) * scale" : "", prefix, prefix, prefix,
            prefix, prefix, P, P);
    fprintf(f, "#define %s_OK 0\n"
               "#define %s_DROPPED 1          /* push: the reservoir policy did not keep the sample */\n"
               "#define %s_ERR_LABEL (-1)     /* label outside [0, %s_NUM_CLASSES) */\n"
               "#define %s_ERR_ARG (-2)       /* NULL pointer, or a setting out of range */\n"
               "#define %s_ERR_SIZE (-3)      /* state buffer smaller than %s_tail_state_size() */\n"
               "#define %s_ERR_FORMAT (-4)    /* not a saved tail state (bad magic) */\n"
               "#define %s_ERR_MODEL (-5)     /* a tail state of another model (layout differs) */\n"
               "#define %s_ERR_CORRUPT (-6)   /* checksum mismatch */\n\n",
            P, P, P, P, P, P, prefix, P, P, P);
    fprintf(f, "typedef %s %s_feature_t;\n", ft, prefix);
    fprintf(f, "#define %s_FEATURE_SIZE %d\n#define %s_FEATURE_INT8 %d\n", P, t->feature_size, P, t->feature_int8);
    if (t->feature_int8) {
        char b[48];
        fprintf(f, "#define %s_FEATURE_SCALE %s\n#define %s_FEATURE_ZERO_POINT %d\n", P,
                float_lit(b, sizeof b, t->scale), P, (int)t->zero_point);
    }
    fprintf(f, "#define %s_NUM_CLASSES %d\n#define %s_PRETRAINED_CLASSES %d\n", P, t->max_classes, P, t->n_classes);
    fprintf(f, "#define %s_TAIL_LAYERS %d\n", P, t->n_layers);
    fprintf(f, "#define %s_BUFFER_CAPACITY %d\n#define %s_BUFFER_ENTRY_BYTES %zu\n", P, t->capacity, P, t->entry_bytes);
    fprintf(f, "#define %s_POLICY_FIFO %d\n#define %s_POLICY_RESERVOIR %d\n#define %s_POLICY_CLASS_BALANCED %d\n"
               "#define %s_POLICY_LATEST %d\n",
            P, TB_POLICY_FIFO, P, TB_POLICY_RESERVOIR, P, TB_POLICY_CLASS_BALANCED, P, TB_POLICY_LATEST);
    fprintf(f, "/* RAM per part, bytes: the sum is %s_RAM_BYTES */\n", P);
    fprintf(f, "#define %s_RAM_ARENA_BYTES %zu\n", P, t->arena);
    fprintf(f, "#define %s_RAM_FEATURE_BYTES %zu\n", P, t->feature_bytes);
    fprintf(f, "#define %s_RAM_TAIL_WEIGHT_BYTES %zu\n", P, t->weights);
    fprintf(f, "#define %s_RAM_MOMENTUM_BYTES %zu\n", P, t->momentum);
    fprintf(f, "#define %s_RAM_SCRATCH_BYTES %zu\n", P, t->scratch);
    fprintf(f, "#define %s_RAM_BUFFER_BYTES %zu\n", P, t->buffer);
    fprintf(f, "#define %s_RAM_STATE_BYTES %zu\n", P, t->state);
    fprintf(f, "#define %s_RAM_BYTES %zu\n", P, t->total);
    fprintf(f, "#define %s_MEMORY_BUDGET %zu /* 0: none given */\n\n", P, t->opt.budget);
    fprintf(f, "#include <stddef.h>\n\n");
    fprintf(f, "int %s_predict(const float *x, float *probs);\n", prefix);
    fprintf(f, "int %s_predict_feature(const %s_feature_t *feature, float *probs);\n", prefix, prefix);
    fprintf(f, "int %s_push_sample(const float *x, int label);\n", prefix);
    fprintf(f, "int %s_push_feature(const %s_feature_t *feature, int label);\n", prefix, prefix);
    fprintf(f, "int %s_train(int epochs);\n", prefix);
    fprintf(f, "int %s_learn(const float *x, int label);\n", prefix);
    fprintf(f, "/* Pretrained weights, classes and an empty buffer; the settings stay. */\n");
    fprintf(f, "void %s_reset_tail(void);\n", prefix);
    fprintf(f, "int %s_buffer_count(void);\n", prefix);
    fprintf(f, "/* The learned state (trainable weights and biases, which classes are known)\n"
               " * as a blob with a checked header: size, magic, model layout, checksum. Load\n"
               " * changes nothing unless it returns %s_OK. */\n", P);
    fprintf(f, "size_t %s_tail_state_size(void);\n", prefix);
    fprintf(f, "int %s_save_tail(void *buf, size_t size);\n", prefix);
    fprintf(f, "int %s_load_tail(const void *buf, size_t size);\n", prefix);
    fprintf(f, "/* Run-time settings (compile-time defaults from --lr, --momentum, --epochs,\n"
               " * --buffer-policy). Momentum needs --momentum != 0 at compile time (its\n"
               " * buffers exist only then); changing the policy empties the buffer. */\n");
    fprintf(f, "int %s_set_lr(float lr);\nint %s_set_momentum(float momentum);\n", prefix, prefix);
    fprintf(f, "int %s_set_epochs(int epochs);\nint %s_set_policy(int policy);\n", prefix, prefix);
    fprintf(f, "float %s_get_lr(void);\nfloat %s_get_momentum(void);\n", prefix, prefix);
    fprintf(f, "int %s_get_epochs(void);\nint %s_get_policy(void);\n\n#endif\n", prefix, prefix);
    int bad = ferror(f);
    if (fclose(f) || bad) return tb_error_set(err, "error writing '%s'", path);
    return 0;
}

int tb_emit_tail(const tb_tail *t, const tb_emit_options *o, const char *dir, tb_error *err) {
    const char *p = o->prefix;
    char P[200], name[256], path[4096], b1[48], b2[48];
    size_t i = 0;
    for (; p[i] && i + 1 < sizeof P; i++) P[i] = (char)toupper((unsigned char)p[i]);
    P[i] = 0;
    if (append_header(t, p, P, dir, err)) return 1;
    snprintf(name, sizeof name, "%s_tail.c", p);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    if (!out) return tb_error_set(err, "cannot write '%s': %s", path, strerror(errno));

    int L = t->n_layers, K = t->max_classes, F = t->feature_size;
    int learn_from = 0;
    while (learn_from < L && !t->layers[learn_from].trainable) learn_from++;
    int widest = 0;
    for (int l = learn_from; l < L; l++)
        if (t->layers[l].n_out > widest) widest = t->layers[l].n_out;
    int two_deltas = L - learn_from > 1, has_momentum = t->opt.momentum != 0.0f;
    const char *ft = t->feature_int8 ? "int8_t" : "float";

    /* what a saved state must match: the shapes of everything it holds */
    uint32_t layout = fnv1a(2166136261u, "tyboxc-tail-1", 13);
    int32_t shape[4] = {F, K, t->feature_int8, L};
    layout = fnv1a(layout, shape, sizeof shape);
    size_t payload = (size_t)K;
    for (int l = 0; l < L; l++) {
        const tb_tail_layer *y = &t->layers[l];
        int32_t s[3] = {y->n_in, y->n_out, y->trainable};
        layout = fnv1a(layout, s, sizeof s);
        if (y->trainable) payload += ((size_t)y->n_in * y->n_out + y->n_out) * sizeof(float);
    }

    fprintf(out, "/* %s - generated by tyboxc: the trainable tail (phi_c) of ", name);
    for (const char *s = o->source_name; *s; s++) fputc(s[0] == '*' && s[1] == '/' ? '?' : *s, out);
    fprintf(out, ". Do not edit.\n * %d dense layer%s after '%s'; buffer of %d entries, policy %s at start.\n"
                 " * RAM %zu bytes: arena %zu, feature %zu, weights %zu, momentum %zu, scratch %zu,\n"
                 " * buffer %zu, state %zu. */\n",
            L, L > 1 ? "s" : "", t->feature, t->capacity, tb_tail_policy_name(t->opt.policy), t->total, t->arena,
            t->feature_bytes, t->weights, t->momentum, t->scratch, t->buffer, t->state);
    fprintf(out, "#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n"
                 "#include \"%s.h\"\n#include \"tb_train.h\"\n\n", p);

    /* layers */
    for (int l = 0; l < L; l++) {
        const tb_tail_layer *y = &t->layers[l];
        size_t nw = (size_t)y->n_in * y->n_out;
        fprintf(out, "/* '");
        for (const char *s = y->name; *s; s++) fputc(s[0] == '*' && s[1] == '/' ? '?' : *s, out);
        fprintf(out, "' (%s): %d -> %d, %s */\n", y->op, y->n_in, y->n_out, y->trainable ? "trainable" : "frozen");
        snprintf(name, sizeof name, "w%d_init", l);
        emit_floats(out, name, y->w, nw);
        snprintf(name, sizeof name, "b%d_init", l);
        emit_floats(out, name, y->b, (size_t)y->n_out);
        if (y->trainable) {
            fprintf(out, "static float w%d[%zu], b%d[%d];\n", l, nw, l, y->n_out);
            if (has_momentum) fprintf(out, "static float vw%d[%zu], vb%d[%d];\n", l, nw, l, y->n_out);
        }
        fprintf(out, "static float act%d[%d];\n\n", l, y->n_out);
    }
    fputs("typedef struct {\n    int32_t n_in, n_out;\n    float act_min, act_max;\n"
          "    const float *w_init, *b_init;\n    float *w, *b, *vw, *vb; /* NULL: frozen / no momentum */\n"
          "    float *y;\n} tail_layer;\n\n", out);
    fprintf(out, "static const tail_layer layers[%d] = {\n", L);
    for (int l = 0; l < L; l++) {
        const tb_tail_layer *y = &t->layers[l];
        fprintf(out, "    {%d, %d, %s, %s, w%d_init.v, b%d_init.v, ", y->n_in, y->n_out,
                float_lit(b1, sizeof b1, y->act_min), float_lit(b2, sizeof b2, y->act_max), l, l);
        if (y->trainable) fprintf(out, "w%d, b%d, ", l, l);
        else fputs("NULL, NULL, ", out);
        if (y->trainable && has_momentum) fprintf(out, "vw%d, vb%d, ", l, l);
        else fputs("NULL, NULL, ", out);
        fprintf(out, "act%d},\n", l);
    }
    fputs("};\n\n", out);

    fprintf(out, "#define LAYERS %d\n#define LEARN_FROM %d /* layers below it stay frozen */\n"
                 "#define K %d\n#define F %d\n#define CAPACITY %d\n#define PAYLOAD_BYTES %zu\n"
                 "#define LAYOUT 0x%08" PRIx32 "u\n#define SEED 2463534242u\n\n",
            L, learn_from, K, F, t->capacity, payload, layout);
    fprintf(out, "static float probs_s[K];\nstatic float delta0[%d];\n", widest);
    if (two_deltas) fprintf(out, "static float delta1[%d];\n", widest);
    if (t->feature_int8) fputs("static float x0[F]; /* psi dequantized */\n", out);
    fprintf(out, "static %s feature[F];\n", ft);
    fprintf(out, "static %s buf_feat[CAPACITY][F];\nstatic uint8_t buf_label[CAPACITY];\n", ft);
    fputs("static tb_buffer_state buf_state;\nstatic int32_t class_count[K];\nstatic uint8_t class_seen[K];\n", out);
    fprintf(out, "static float lr = %s, momentum = %s;\n", float_lit(b1, sizeof b1, t->opt.lr),
            float_lit(b2, sizeof b2, t->opt.momentum));
    fprintf(out, "static int32_t epochs = %d, policy = %d, ready;\n\n", t->opt.epochs, t->opt.policy);

    fprintf(out, "void %s_reset_tail(void) {\n"
                 "    int32_t l, j;\n"
                 "    for (l = 0; l < LAYERS; l++) {\n"
                 "        const tail_layer *t = &layers[l];\n"
                 "        if (t->w) {\n"
                 "            memcpy(t->w, t->w_init, sizeof(float) * (size_t)t->n_in * (size_t)t->n_out);\n"
                 "            memcpy(t->b, t->b_init, sizeof(float) * (size_t)t->n_out);\n"
                 "        }\n"
                 "        if (t->vw) {\n"
                 "            memset(t->vw, 0, sizeof(float) * (size_t)t->n_in * (size_t)t->n_out);\n"
                 "            memset(t->vb, 0, sizeof(float) * (size_t)t->n_out);\n"
                 "        }\n"
                 "    }\n"
                 "    for (j = 0; j < K; j++) {\n"
                 "        class_seen[j] = j < %s_PRETRAINED_CLASSES;\n"
                 "        class_count[j] = 0;\n"
                 "    }\n"
                 "    tb_buffer_reset(&buf_state, policy == TB_POLICY_LATEST ? 1 : CAPACITY, SEED);\n"
                 "    ready = 1;\n"
                 "}\n\n", p, P);
    fprintf(out, "#define READY() do { if (!ready) %s_reset_tail(); } while (0)\n\n", p);

    fputs("/* Runs the tail on psi: activations in layers[].y, probabilities in probs_s.\n"
          " * Returns the tail's input as floats; *best gets the most probable known class. */\n", out);
    fprintf(out, "static const float *forward(const %s *f, int32_t *best) {\n    int32_t l, j;\n", ft);
    if (t->feature_int8) {
        char b3[48];
        fprintf(out, "    for (j = 0; j < F; j++)\n        x0[j] = ((float)f[j] - (float)%d) * %s;\n",
                (int)t->zero_point, float_lit(b3, sizeof b3, t->scale));
        fputs("    const float *in = x0, *x = x0;\n", out);
    } else {
        fputs("    const float *in = f, *x = f;\n", out);
    }
    fputs("    for (l = 0; l < LAYERS; l++) {\n"
          "        const tail_layer *t = &layers[l];\n"
          "        tb_dense_forward_f32(t->n_in, t->n_out, t->w ? t->w : t->w_init, t->b ? t->b : t->b_init,\n"
          "                             t->act_min, t->act_max, x, t->y);\n"
          "        x = t->y;\n"
          "    }\n"
          "    tb_softmax_masked_f32(K, x, class_seen, probs_s);\n"
          "    *best = -1;\n"
          "    for (j = 0; j < K; j++)\n"
          "        if (class_seen[j] && (*best < 0 || probs_s[j] > probs_s[*best]))\n"
          "            *best = j;\n"
          "    return in;\n"
          "}\n\n", out);

    fprintf(out, "/* One SGD step on one sample: backprop from the cross-entropy delta p - onehot. */\n"
                 "static void train_one(const %s *f, int32_t label) {\n"
                 "    int32_t l, j, best;\n"
                 "    float *d = delta0, *dn = %s, *swap;\n"
                 "    const float *in = forward(f, &best);\n"
                 "    for (j = 0; j < K; j++)\n"
                 "        d[j] = probs_s[j] - (j == label ? 1.0f : 0.0f);\n"
                 "    for (l = LAYERS - 1; l >= LEARN_FROM; l--) {\n"
                 "        const tail_layer *t = &layers[l];\n"
                 "        const float *x = l ? layers[l - 1].y : in;\n"
                 "        tb_dense_backward_f32(t->n_in, t->n_out, t->w, t->act_min, t->act_max, t->y, d,\n"
                 "                              l > LEARN_FROM ? dn : NULL);\n"
                 "        tb_dense_sgd_f32(t->n_in, t->n_out, t->w, t->b, t->vw, t->vb, x, d, lr, momentum);\n"
                 "        swap = d, d = dn, dn = swap;\n"
                 "    }\n"
                 "    (void)best;\n"
                 "}\n\n", ft, two_deltas ? "delta1" : "NULL");

    fprintf(out, "int %s_predict_feature(const %s_feature_t *f, float *probs) {\n"
                 "    int32_t best;\n"
                 "    READY();\n"
                 "    if (!f)\n        return %s_ERR_ARG;\n"
                 "    forward(f, &best);\n"
                 "    if (probs)\n        memcpy(probs, probs_s, sizeof probs_s);\n"
                 "    return best;\n"
                 "}\n\n", p, p, P);
    fprintf(out, "int %s_predict(const float *x, float *probs) {\n"
                 "    if (!x)\n        return %s_ERR_ARG;\n"
                 "    %s_run(x, feature);\n"
                 "    return %s_predict_feature(feature, probs);\n"
                 "}\n\n", p, P, p, p);
    fprintf(out, "int %s_push_feature(const %s_feature_t *f, int label) {\n"
                 "    int32_t slot;\n"
                 "    READY();\n"
                 "    if (!f)\n        return %s_ERR_ARG;\n"
                 "    if (label < 0 || label >= K)\n        return %s_ERR_LABEL;\n"
                 "    class_seen[label] = 1; /* a new class joins the softmax */\n"
                 "    slot = tb_buffer_slot(&buf_state, policy, buf_label, class_count, K, label);\n"
                 "    if (slot < 0)\n        return %s_DROPPED;\n"
                 "    memcpy(buf_feat[slot], f, sizeof buf_feat[slot]);\n"
                 "    buf_label[slot] = (uint8_t)label;\n"
                 "    return %s_OK;\n"
                 "}\n\n", p, p, P, P, P, P);
    fprintf(out, "int %s_push_sample(const float *x, int label) {\n"
                 "    if (!x)\n        return %s_ERR_ARG;\n"
                 "    if (label < 0 || label >= K)\n        return %s_ERR_LABEL;\n"
                 "    %s_run(x, feature);\n"
                 "    return %s_push_feature(feature, label);\n"
                 "}\n\n", p, P, P, p, p);
    fprintf(out, "int %s_train(int n_epochs) {\n"
                 "    int e;\n    uint32_t i, n;\n"
                 "    READY();\n"
                 "    if (n_epochs < 0)\n        return %s_ERR_ARG;\n"
                 "    n = policy == TB_POLICY_LATEST && buf_state.count > 1 ? 1 : buf_state.count;\n"
                 "    for (e = 0; e < n_epochs; e++)\n"
                 "        for (i = 0; i < n; i++)\n"
                 "            train_one(buf_feat[i], buf_label[i]);\n"
                 "    return %s_OK;\n"
                 "}\n\n", p, P, P);
    fprintf(out, "int %s_learn(const float *x, int label) {\n"
                 "    int rc = %s_push_sample(x, label);\n"
                 "    if (rc < 0)\n        return rc;\n"
                 "    return %s_train(epochs);\n"
                 "}\n\n", p, p, p);
    fprintf(out, "int %s_buffer_count(void) {\n    READY();\n"
                 "    return policy == TB_POLICY_LATEST && buf_state.count > 1 ? 1 : (int)buf_state.count;\n}\n\n", p);

    /* settings */
    fprintf(out, "int %s_set_lr(float v) {\n"
                 "    if (!(v >= 0.0f && v < INFINITY))\n        return %s_ERR_ARG;\n"
                 "    lr = v;\n    return %s_OK;\n}\n\n", p, P, P);
    fprintf(out, "int %s_set_momentum(float v) {\n"
                 "    if (!(v >= 0.0f && v < 1.0f) || (v != 0.0f && !%d))\n        return %s_ERR_ARG;\n"
                 "    momentum = v;\n    return %s_OK;\n}\n\n", p, has_momentum, P, P);
    fprintf(out, "int %s_set_epochs(int v) {\n"
                 "    if (v < 0)\n        return %s_ERR_ARG;\n"
                 "    epochs = v;\n    return %s_OK;\n}\n\n", p, P, P);
    fprintf(out, "int %s_set_policy(int v) {\n"
                 "    int32_t j;\n"
                 "    READY();\n"
                 "    if (v < 0 || v >= TB_POLICY_COUNT)\n        return %s_ERR_ARG;\n"
                 "    policy = v;\n"
                 "    for (j = 0; j < K; j++)\n        class_count[j] = 0;\n"
                 "    tb_buffer_reset(&buf_state, policy == TB_POLICY_LATEST ? 1 : CAPACITY, SEED);\n"
                 "    return %s_OK;\n}\n\n", p, P, P);
    fprintf(out, "float %s_get_lr(void) { return lr; }\nfloat %s_get_momentum(void) { return momentum; }\n"
                 "int %s_get_epochs(void) { return epochs; }\nint %s_get_policy(void) { return policy; }\n\n",
            p, p, p, p);

    /* state blob */
    fputs("/* The blob: \"TBT1\", layout, payload bytes, FNV-1a of the payload (uint32\n"
          " * little-endian each), then the trainable weights and biases layer by layer\n"
          " * and class_seen. */\n"
          "#define HEADER_BYTES 16\n\n"
          "static uint32_t fnv1a(const uint8_t *q, size_t n) {\n"
          "    uint32_t h = 2166136261u;\n"
          "    size_t i;\n"
          "    for (i = 0; i < n; i++)\n        h = (h ^ q[i]) * 16777619u;\n"
          "    return h;\n}\n\n"
          "static void put_u32(uint8_t *q, uint32_t v) {\n"
          "    q[0] = (uint8_t)v, q[1] = (uint8_t)(v >> 8), q[2] = (uint8_t)(v >> 16), q[3] = (uint8_t)(v >> 24);\n}\n\n"
          "static uint32_t get_u32(const uint8_t *q) {\n"
          "    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;\n}\n\n", out);
    fprintf(out, "size_t %s_tail_state_size(void) { return HEADER_BYTES + PAYLOAD_BYTES; }\n\n", p);
    fprintf(out, "int %s_save_tail(void *buf, size_t size) {\n"
                 "    uint8_t *q = buf, *at;\n"
                 "    int32_t l;\n"
                 "    READY();\n"
                 "    if (!buf)\n        return %s_ERR_ARG;\n"
                 "    if (size < HEADER_BYTES + PAYLOAD_BYTES)\n        return %s_ERR_SIZE;\n"
                 "    at = q + HEADER_BYTES;\n"
                 "    for (l = LEARN_FROM; l < LAYERS; l++) {\n"
                 "        size_t nw = sizeof(float) * (size_t)layers[l].n_in * (size_t)layers[l].n_out;\n"
                 "        memcpy(at, layers[l].w, nw), at += nw;\n"
                 "        memcpy(at, layers[l].b, sizeof(float) * (size_t)layers[l].n_out), at += sizeof(float) * (size_t)layers[l].n_out;\n"
                 "    }\n"
                 "    memcpy(at, class_seen, K);\n"
                 "    q[0] = 'T', q[1] = 'B', q[2] = 'T', q[3] = '1';\n"
                 "    put_u32(q + 4, LAYOUT);\n"
                 "    put_u32(q + 8, PAYLOAD_BYTES);\n"
                 "    put_u32(q + 12, fnv1a(q + HEADER_BYTES, PAYLOAD_BYTES));\n"
                 "    return %s_OK;\n}\n\n", p, P, P, P);
    fprintf(out, "int %s_load_tail(const void *buf, size_t size) {\n"
                 "    const uint8_t *q = buf, *at;\n"
                 "    int32_t l;\n"
                 "    READY();\n"
                 "    if (!buf)\n        return %s_ERR_ARG;\n"
                 "    if (size < HEADER_BYTES)\n        return %s_ERR_SIZE;\n"
                 "    if (q[0] != 'T' || q[1] != 'B' || q[2] != 'T' || q[3] != '1')\n        return %s_ERR_FORMAT;\n"
                 "    if (get_u32(q + 4) != LAYOUT || get_u32(q + 8) != PAYLOAD_BYTES)\n        return %s_ERR_MODEL;\n"
                 "    if (size < HEADER_BYTES + PAYLOAD_BYTES)\n        return %s_ERR_SIZE;\n"
                 "    if (get_u32(q + 12) != fnv1a(q + HEADER_BYTES, PAYLOAD_BYTES))\n        return %s_ERR_CORRUPT;\n"
                 "    at = q + HEADER_BYTES;\n"
                 "    for (l = LEARN_FROM; l < LAYERS; l++) {\n"
                 "        size_t nw = sizeof(float) * (size_t)layers[l].n_in * (size_t)layers[l].n_out;\n"
                 "        memcpy(layers[l].w, at, nw), at += nw;\n"
                 "        memcpy(layers[l].b, at, sizeof(float) * (size_t)layers[l].n_out), at += sizeof(float) * (size_t)layers[l].n_out;\n"
                 "    }\n"
                 "    memcpy(class_seen, at, K);\n"
                 "    return %s_OK;\n}\n", p, P, P, P, P, P, P, P);
    int bad = ferror(out);
    if (fclose(out) || bad) return tb_error_set(err, "error writing '%s'", path);
    return 0;
}
