/* pass_manager.c - the table of passes and the pipeline runner. */
#include "passes.h"

#include <string.h>

#define MAX_PASSES 128

static tb_pass_info table[MAX_PASSES] = {
#define PASS(name, fn, summary) {name, summary, fn},
#include "passes.def"
#undef PASS
};
static int n_passes = 0
#define PASS(name, fn, summary) +1
#include "passes.def"
#undef PASS
    ;

/* Pass names are kebab-case words, as on the command line. */
static int valid_name(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-')) return 0;
    return 1;
}

int tb_pass_register(const char *name, const char *summary, tb_pass_fn run) {
    if (!name || !run || !valid_name(name) || tb_pass_find(name, strlen(name)) || n_passes == MAX_PASSES)
        return 1;
    table[n_passes++] = (tb_pass_info){name, summary ? summary : "", run};
    return 0;
}

const tb_pass_info *tb_pass_find(const char *name, size_t len) {
    for (int i = 0; i < n_passes; i++)
        if (strlen(table[i].name) == len && !memcmp(table[i].name, name, len)) return &table[i];
    return NULL;
}

int tb_pass_count(void) { return n_passes; }
const tb_pass_info *tb_pass_at(int i) { return i >= 0 && i < n_passes ? &table[i] : NULL; }

static int listed(const char *list, const char *name) {
    if (!list) return 0;
    if (!strcmp(list, "all")) return 1;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && !memcmp(p, name, len)) return 1;
        p += l + (e != NULL);
    }
    return 0;
}

/* The value part of "key=value" when the key matches, else NULL. */
static const char *option_value(const char *kv, const char *key) {
    size_t n = strlen(key);
    return !strncmp(kv, key, n) && kv[n] == '=' ? kv + n + 1 : NULL;
}

int tb_pass_options(const tb_pass_context *ctx, const char *key, const char **values, int max) {
    int n = 0;
    for (int i = 0; i < ctx->n_options; i++) {
        const char *v = option_value(ctx->options[i], key);
        if (v && n < max) values[n++] = v;
    }
    return n;
}

const char *tb_pass_option(const tb_pass_context *ctx, const char *key, const char *dflt) {
    const char *v = dflt;
    for (int i = 0; i < ctx->n_options; i++)
        if (option_value(ctx->options[i], key)) v = option_value(ctx->options[i], key);
    return v;
}

int tb_pass_add_option(tb_pass_context *ctx, const char *key_value) {
    const char *eq = strchr(key_value, '=');
    if (!eq || eq == key_value || ctx->n_options == TB_MAX_PASS_OPTIONS) return 1;
    ctx->options[ctx->n_options++] = key_value;
    return 0;
}

int tb_run_pipeline(tb_graph *g, const char *pipeline, tb_pass_context *ctx, tb_error *err) {
    const tb_pass_info *todo[MAX_PASSES];
    int n = 0;
    /* Resolve every name first: a typo must not leave a half-run pipeline. */
    for (const char *p = pipeline; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) {
            const tb_pass_info *info = tb_pass_find(p, l);
            if (!info) return tb_error_set(err, "unknown pass '%.*s' (tyboxc-opt --list-passes shows them)", (int)l, p);
            if (n == MAX_PASSES) return tb_error_set(err, "pipeline is too long");
            todo[n++] = info;
        }
        p += l + (e != NULL);
    }
    for (int i = 0; i < n; i++) {
        if (todo[i]->run(g, ctx, err)) return 1;
        tb_graph_compact(g);
        if (ctx->verify_each && tb_verify(g, err)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return tb_error_set(err, "IR invalid after pass '%s': %s", todo[i]->name, msg);
        }
        if (listed(ctx->print_after, todo[i]->name)) {
            FILE *out = ctx->print_out ? ctx->print_out : stderr;
            fprintf(out, "// -----// IR after %s //----- //\n", todo[i]->name);
            tb_print_graph(out, g);
        }
    }
    return 0;
}
