/* calibrate.c - observe activation ranges on calibration samples.
 *
 * The samples stream from the file one at a time; each runs through the
 * float graph node by node with tb_interp_node, a buffer per value that lives
 * from its producer to its last reader. Every f32 value then updates its
 * observer: min/max always, and for the histogram methods two histograms of
 * HIST_BINS bins anchored at 0, one for |x| of the negatives and one for the
 * positives (exact zeros counted apart: they quantize without error). A
 * histogram whose range a new value exceeds doubles its bin width by merging
 * bin pairs, so one pass over the samples suffices and the bins stay exact.
 */
#include "calibrate.h"
#include "lower.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_BINS 2048
#define PERCENTILE 99.99     /* percentile: each tail keeps (100 - this)% */
#define MSE_STEPS 128        /* mse: candidate ends per side, max * k / MSE_STEPS */

int tb_calib_method_parse(const char *name, tb_calib_method *m) {
    if (!strcmp(name, "minmax")) *m = TB_CALIB_MINMAX;
    else if (!strcmp(name, "percentile")) *m = TB_CALIB_PERCENTILE;
    else if (!strcmp(name, "mse")) *m = TB_CALIB_MSE;
    else return 1;
    return 0;
}

/* ---- samples ---------------------------------------------------------------- */

typedef struct {
    FILE *f;
    const char *path;
    int64_t numel;    /* floats per sample (all f32 inputs) */
    int n;            /* samples in the file */
} sample_file;

/* Parses a .npy header: checks '<f4', C order, and a shape [N, ...] whose
 * tail is the input shape or its element count. */
static int read_npy_header(tb_graph *g, sample_file *s, long size, tb_error *err) {
    unsigned char pre[12];
    if (fread(pre, 1, 10, s->f) != 10) return tb_error_set(err, "calib file '%s': truncated .npy header", s->path);
    size_t hl = (size_t)pre[8] | (size_t)pre[9] << 8, off = 10;
    if (pre[6] >= 2) {
        if (fread(pre + 10, 1, 2, s->f) != 2) return tb_error_set(err, "calib file '%s': truncated .npy header", s->path);
        hl |= (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        off = 12;
    }
    if (hl > 65536) return tb_error_set(err, "calib file '%s': .npy header too long", s->path);
    char *h = calloc(hl + 1, 1);
    TB_ASSERT(h);
    if (fread(h, 1, hl, s->f) != hl) {
        free(h);
        return tb_error_set(err, "calib file '%s': truncated .npy header", s->path);
    }
    int ok = strstr(h, "'descr': '<f4'") && strstr(h, "'fortran_order': False");
    const char *sh = strstr(h, "'shape': (");
    int64_t dims[TB_MAX_RANK + 1];
    int rank = 0;
    if (sh) {
        for (const char *p = sh + 10; ok && *p && *p != ')';) {
            char *end;
            long long d = strtoll(p, &end, 10);
            if (end == p || d < 0 || rank == TB_MAX_RANK + 1) ok = 0;
            else dims[rank++] = d;
            p = end;
            while (*p == ',' || *p == ' ') p++;
        }
    }
    free(h);
    if (!ok || !sh) return tb_error_set(err, "calib file '%s' is not a float32 C-order .npy", s->path);
    if (g->n_inputs != 1)
        return tb_error_set(err, "calib file '%s': a .npy needs a graph with one input (use raw float32 samples)", s->path);
    const tb_value *x = &g->values[g->inputs[0]];
    int same = rank == x->rank + 1;
    for (int i = 0; same && i < x->rank; i++) same = dims[i + 1] == x->dims[i];
    if (!(same || (rank == 2 && dims[1] == s->numel))) {
        char got[128] = "", want[128] = "";
        for (int i = 0; i < rank; i++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)dims[i]);
        for (int i = 0; i < x->rank; i++) snprintf(want + strlen(want), sizeof want - strlen(want), ",%lld", (long long)x->dims[i]);
        return tb_error_set(err, "calib file '%s': .npy shape [%s] is not [N%s] or [N,%lld]", s->path, got, want,
                            (long long)s->numel);
    }
    if (rank == 0 || dims[0] == 0) return tb_error_set(err, "calib file '%s' holds no samples", s->path);
    long need = (long)(off + hl) + (long)(dims[0] * s->numel * 4);
    if (size < need) return tb_error_set(err, "calib file '%s': .npy data is shorter than its shape says", s->path);
    s->n = (int)dims[0];
    return 0;
}

static int open_samples(tb_graph *g, const char *path, sample_file *s, tb_error *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    for (int k = 0; k < g->n_inputs; k++) {
        const tb_value *x = &g->values[g->inputs[k]];
        if (x->dtype != TB_F32)
            return tb_error_set(err, "calibration needs f32 graph inputs; '%s' is %s", x->name, tb_dtype_name(x->dtype));
        s->numel += tb_value_numel(x);
    }
    if (!s->numel) return tb_error_set(err, "calibration needs a graph with an f32 input");
    s->f = fopen(path, "rb");
    if (!s->f) return tb_error_set(err, "cannot read calib file '%s': %s", path, strerror(errno));
    fseek(s->f, 0, SEEK_END);
    long size = ftell(s->f);
    fseek(s->f, 0, SEEK_SET);
    if (size <= 0) return tb_error_set(err, "calib file '%s' is empty", path);
    char magic[6] = {0};
    size_t got = fread(magic, 1, 6, s->f);
    fseek(s->f, 0, SEEK_SET);
    if (got == 6 && !memcmp(magic, "\x93NUMPY", 6)) return read_npy_header(g, s, size, err);
    long per = (long)(s->numel * 4);
    if (size % per)
        return tb_error_set(err, "calib file '%s' holds %ld bytes, not a multiple of one sample (%ld bytes: %lld float32)",
                            path, size, per, (long long)s->numel);
    s->n = (int)(size / per);
    return 0;
}

/* Reads sample i into the input buffers. */
static int read_sample(tb_graph *g, sample_file *s, int i, void *const *ptr, tb_error *err) {
    for (int k = 0; k < g->n_inputs; k++) {
        const tb_value *x = &g->values[g->inputs[k]];
        int64_t n = tb_value_numel(x);
        float *dst = ptr[g->inputs[k]];
        if (fread(dst, 4, (size_t)n, s->f) != (size_t)n)
            return tb_error_set(err, "calib file '%s': cannot read sample %d", s->path, i);
        for (int64_t j = 0; j < n; j++)
            if (!isfinite(dst[j]))
                return tb_error_set(err, "calib file '%s': sample %d has %s at element %lld of input '%s'", s->path, i,
                                    isnan(dst[j]) ? "NaN" : "Inf", (long long)j, x->name);
    }
    return 0;
}

/* ---- observers ---------------------------------------------------------------- */

typedef struct {
    float lo, hi;
    int64_t zeros;
    double w[2];           /* bin width: [0] negatives (|x|), [1] positives */
    int64_t *bins[2];      /* HIST_BINS each, NULL until used */
} observer;

/* Widens side k until its last bin holds m. */
static void widen(observer *o, int k, double m) {
    if (o->w[k] == 0) o->w[k] = m / (HIST_BINS - 1);
    while (m >= o->w[k] * HIST_BINS) {
        int64_t *b = o->bins[k];
        for (int i = 0; i < HIST_BINS / 2; i++) b[i] = b[2 * i] + b[2 * i + 1];
        memset(b + HIST_BINS / 2, 0, HIST_BINS / 2 * sizeof *b);
        o->w[k] *= 2;
    }
}

static void observe(observer *o, const float *x, int64_t n, int hist, int first) {
    float lo = first ? x[0] : o->lo, hi = first ? x[0] : o->hi;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    o->lo = lo;
    o->hi = hi;
    if (!hist) return;
    for (int k = 0; k < 2; k++) {
        double m = k ? hi : -lo;
        if (m <= 0) continue;
        if (!o->bins[k]) {
            o->bins[k] = calloc(HIST_BINS, sizeof *o->bins[k]);
            TB_ASSERT(o->bins[k]);
        }
        widen(o, k, m);
    }
    for (int64_t i = 0; i < n; i++) {
        if (x[i] == 0) {
            o->zeros++;
            continue;
        }
        int k = x[i] > 0;
        int b = (int)(fabs((double)x[i]) / o->w[k]);
        o->bins[k][b < HIST_BINS ? b : HIST_BINS - 1]++;
    }
}

/* The end of side k past which at most `tail` elements lie. */
static double percentile_end(const observer *o, int k, double tail) {
    if (!o->bins[k]) return 0;
    double above = 0;
    for (int b = HIST_BINS - 1; b >= 0; b--) {
        above += (double)o->bins[k][b];
        if (above > tail) return (b + 1) * o->w[k];
    }
    return o->w[k];
}

/* Squared error over the histogram of quantizing to int8 with range [lo, hi]
 * (lo <= 0 <= hi): bins count at their centres, zeros are exact. */
static double quant_mse(const observer *o, double lo, double hi) {
    double s = (hi - lo) / 255;
    if (s <= 0) s = 1;
    double z = round(-128 - lo / s);
    double e = 0;
    for (int k = 0; k < 2; k++) {
        if (!o->bins[k]) continue;
        for (int b = 0; b < HIST_BINS; b++) {
            if (!o->bins[k][b]) continue;
            double c = (b + 0.5) * o->w[k] * (k ? 1 : -1);
            double q = round(c / s) + z;
            q = q < -128 ? -128 : q > 127 ? 127 : q;
            double d = (q - z) * s - c;
            e += (double)o->bins[k][b] * d * d;
        }
    }
    return e;
}

/* Coordinate descent over the two ends, each from max * k / MSE_STEPS. */
static void mse_range(const observer *o, double *lo, double *hi) {
    double max_lo = *lo, max_hi = *hi;
    for (int round_ = 0; round_ < 2; round_++) {
        for (int side = 1; side >= 0; side--) {
            double max = side ? max_hi : -max_lo;
            if (max <= 0) continue;
            double best = INFINITY, best_end = max;
            for (int k = 1; k <= MSE_STEPS; k++) {
                double end = max * k / MSE_STEPS;
                double e = side ? quant_mse(o, *lo, end) : quant_mse(o, -end, *hi);
                if (e < best) best = e, best_end = end;
            }
            if (side) *hi = best_end;
            else *lo = -best_end;
        }
    }
}

static void finish(const observer *o, tb_calib_method method, tb_calib_range *r) {
    double lo = o->lo < 0 ? o->lo : 0, hi = o->hi > 0 ? o->hi : 0;
    if (method == TB_CALIB_PERCENTILE) {
        double total = (double)o->zeros;
        for (int k = 0; k < 2; k++)
            for (int b = 0; o->bins[k] && b < HIST_BINS; b++) total += (double)o->bins[k][b];
        double tail = total * (100 - PERCENTILE) / 100;
        if (lo < 0) lo = fmax(lo, -percentile_end(o, 0, tail));
        if (hi > 0) hi = fmin(hi, percentile_end(o, 1, tail));
    } else if (method == TB_CALIB_MSE) {
        mse_range(o, &lo, &hi);
    }
    r->seen = 1;
    r->lo = (float)lo;
    r->hi = (float)hi;
}

/* ---- the run ------------------------------------------------------------------ */

static void show_progress(FILE *out, int done, int total, int tty) {
    if (!out) return;
    if (tty) {
        fprintf(out, "\rcalibrating: %d/%d samples", done, total);
        if (done == total) fputc('\n', out);
        fflush(out);
    } else if (done == total || (int64_t)done * 4 / total != (int64_t)(done - 1) * 4 / total) {
        fprintf(out, "calibrating: %d/%d samples\n", done, total);
    }
}

int tb_calibrate(tb_graph *g, const char *path, tb_calib_method method, FILE *progress,
                 tb_calib_range *ranges, int *n_samples, tb_error *err) {
    sample_file s;
    int rc = open_samples(g, path, &s, err);
    /* Lowering in tb_interp_node may add derived constants: the arrays cover
     * the values there are now, and nothing past nv is ever looked up. */
    const int nv = g->n_values;
    void **ptr = calloc((size_t)nv + 1, sizeof *ptr);
    int *last_use = calloc((size_t)nv + 1, sizeof *last_use);
    observer *obs = calloc((size_t)nv + 1, sizeof *obs);
    TB_ASSERT(ptr && last_use && obs);
    /* A value's buffer goes after its last reader; graph inputs and outputs
     * live through the whole sample (last use n_nodes). */
    for (int v = 0; v < g->n_values; v++) last_use[v] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0) last_use[g->nodes[i].inputs[k]] = i;
    for (int k = 0; k < g->n_outputs; k++) last_use[g->outputs[k]] = g->n_nodes;
    for (int k = 0; k < g->n_inputs; k++) last_use[g->inputs[k]] = g->n_nodes;
    for (int v = 0; v < g->n_values; v++) ptr[v] = g->values[v].data;
    for (int k = 0; !rc && k < g->n_inputs; k++) {
        ptr[g->inputs[k]] = malloc(tb_value_bytes(&g->values[g->inputs[k]]) + 1);
        TB_ASSERT(ptr[g->inputs[k]]);
    }
    int hist = method != TB_CALIB_MINMAX;
    int tty = progress && isatty(fileno(progress));
    for (int i = 0; !rc && i < s.n; i++) {
        rc = read_sample(g, &s, i, ptr, err);
        for (int k = 0; !rc && k < g->n_inputs; k++) {
            const tb_value *x = &g->values[g->inputs[k]];
            observe(&obs[g->inputs[k]], ptr[g->inputs[k]], tb_value_numel(x), hist, i == 0);
        }
        for (int ni = 0; !rc && ni < g->n_nodes; ni++) {
            tb_node *n = &g->nodes[ni];
            if (n->dead) continue;
            for (int k = 0; k < n->n_outputs; k++) {
                const tb_value *y = &g->values[n->outputs[k]];
                if (!ptr[n->outputs[k]]) ptr[n->outputs[k]] = malloc(tb_value_bytes(y) + 1);
                TB_ASSERT(ptr[n->outputs[k]]);
            }
            if ((rc = tb_interp_node(g, ni, ptr, err))) break;
            n = &g->nodes[ni]; /* lowering may add derived constants */
            for (int k = 0; k < n->n_outputs; k++) {
                const tb_value *y = &g->values[n->outputs[k]];
                if (y->dtype == TB_F32 && tb_value_numel(y))
                    observe(&obs[n->outputs[k]], ptr[n->outputs[k]], tb_value_numel(y), hist, i == 0);
            }
            /* Free what no later node reads (outputs nobody reads too). */
            for (int k = 0; k < n->n_inputs + n->n_outputs; k++) {
                int v = k < n->n_inputs ? n->inputs[k] : n->outputs[k - n->n_inputs];
                if (v >= 0 && !g->values[v].data && last_use[v] <= ni && ptr[v]) {
                    free(ptr[v]);
                    ptr[v] = NULL;
                }
            }
        }
        for (int k = 0; k < g->n_outputs; k++) {
            int v = g->outputs[k];
            if (!g->values[v].data && !tb_value_is_graph_input(g, v)) free(ptr[v]), ptr[v] = NULL;
        }
        if (!rc) show_progress(progress, i + 1, s.n, tty);
    }
    if (!rc) {
        for (int k = 0; k < g->n_inputs; k++) finish(&obs[g->inputs[k]], method, &ranges[g->inputs[k]]);
        for (int ni = 0; ni < g->n_nodes; ni++) {
            const tb_node *n = &g->nodes[ni];
            if (n->dead) continue;
            for (int k = 0; k < n->n_outputs; k++) {
                const tb_value *y = &g->values[n->outputs[k]];
                if (y->dtype == TB_F32 && tb_value_numel(y) && !y->data) finish(&obs[n->outputs[k]], method, &ranges[n->outputs[k]]);
            }
        }
        *n_samples = s.n;
    }
    for (int v = 0; v < nv; v++) {
        if (ptr[v] && !g->values[v].data) free(ptr[v]);
        free(obs[v].bins[0]);
        free(obs[v].bins[1]);
    }
    free(ptr);
    free(last_use);
    free(obs);
    if (s.f) fclose(s.f);
    return rc;
}
