/* driver.c - loading models and committing output folders for the drivers. */
#include "driver.h"
#include "frontend.h"
#include "passes.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tb_read_file(const char *path, size_t *len, tb_error *err) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        tb_error_set(err, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) free(buf);
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || bad) {
        free(buf);
        tb_error_set(err, "cannot read: %s", bad ? strerror(errno) : "out of memory");
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ---- resource limits ------------------------------------------------------- */

int tb_parse_bytes(const char *text, size_t *out) {
    size_t n = 0;
    const char *p = text;
    if (*p < '0' || *p > '9') return 1; /* strtoull would take "-1" and " 1" */
    for (; *p >= '0' && *p <= '9'; p++) {
        size_t digit = (size_t)(*p - '0');
        if (n > (SIZE_MAX - digit) / 10) return 1;
        n = n * 10 + digit;
    }
    size_t unit = 1;
    if (*p == 'K' || *p == 'k') unit = 1024, p++;
    else if (*p == 'M' || *p == 'm') unit = 1024 * 1024, p++;
    if (*p || (n && n > SIZE_MAX / unit)) return 1;
    *out = n * unit;
    return 0;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

tb_graph *tb_driver_load(const char *path, tb_error *err) {
    tb_graph *g;
    if (ends_with(path, ".tir") || !strcmp(path, "-")) {
        size_t len;
        char *text = tb_read_file(path, &len, err);
        if (!text) return NULL;
        g = tb_parse_graph(text, len, err);
        free(text);
        if (!g) return NULL;
    } else {
        g = tb_onnx_load_file(path, err);
        if (!g) return NULL;
        /* Static shapes need the exporter's shape arithmetic evaluated as
         * shapes are inferred; const-fold then takes the Shape nodes. */
        tb_pass_context ctx = {0};
        if (tb_infer_shapes_folding(g, tb_fold_node, err) || tb_pass_const_fold(g, &ctx, err)) {
            tb_graph_free(g);
            return NULL;
        }
        tb_graph_compact(g);
    }
    /* Verify the types as written, then infer again: that also writes the
     * canonical attributes (explicit pads, strides) the backend reads. */
    if (tb_verify(g, err) || tb_infer_shapes(g, err)) {
        tb_graph_free(g);
        return NULL;
    }
    return g;
}

/* ---- output folders ------------------------------------------------------ */

int tb_output_begin(const char *dir, char *tmp, size_t cap, tb_error *err) {
    struct stat st;
    if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
        return tb_error_set(err, "'%s' exists and is not a directory", dir);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    if ((size_t)snprintf(tmp, cap, "%.*s.tmp-XXXXXX", (int)len, dir) >= cap)
        return tb_error_set(err, "output path too long");
    if (!mkdtemp(tmp)) return tb_error_set(err, "cannot create a folder beside '%s': %s", dir, strerror(errno));
    return 0;
}

void tb_output_abort(const char *tmp) {
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *e;
        char path[4096];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", tmp, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    rmdir(tmp);
}

int tb_output_commit(const char *tmp, const char *dir, tb_error *err) {
    /* A new folder appears whole with one rename. */
    if (rename(tmp, dir) == 0) return 0;
    if (errno != EEXIST && errno != ENOTEMPTY) {
        tb_error_set(err, "cannot create '%s': %s", dir, strerror(errno));
        tb_output_abort(tmp);
        return 1;
    }
    /* An existing folder keeps what else it holds (a built model_run, say);
     * each generated file is replaced by rename, never rewritten in place. */
    DIR *d = opendir(tmp);
    if (!d) {
        tb_error_set(err, "cannot read '%s': %s", tmp, strerror(errno));
        tb_output_abort(tmp);
        return 1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && !rc) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char from[4096], to[4096];
        snprintf(from, sizeof from, "%s/%s", tmp, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        if (rename(from, to)) rc = tb_error_set(err, "cannot write '%s': %s", to, strerror(errno));
    }
    closedir(d);
    tb_output_abort(tmp);
    return rc;
}
