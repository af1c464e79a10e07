/* calibrate.h - the float range of every activation, observed on samples.
 *
 * Runs the float graph over representative inputs with the compiler's own
 * kernels (tb_interp_node, the code the device runs) and reduces what each
 * f32 value holds to one range [lo, hi] per tensor:
 *   minmax      the smallest and largest value seen;
 *   percentile  cut each tail at 0.01% of the elements (a histogram);
 *   mse         the range whose int8 quantization (clipping plus rounding)
 *               has the least squared error over the histogram.
 *
 *   tb_calib_range *r = calloc(g->n_values, sizeof *r);
 *   int n;
 *   if (tb_calibrate(g, "samples.npy", TB_CALIB_MSE, stderr, r, &n, &err)) ...;
 *   if (r[v].seen) use(r[v].lo, r[v].hi);
 *
 * Samples: raw float32, one sample after the other, each the graph's f32
 * inputs back to back in order; or a float32 C-order .npy of shape
 * [N, ...input shape] or [N, input size] (one-input graphs).
 */
#ifndef TYBOXC_CALIBRATE_H
#define TYBOXC_CALIBRATE_H

#include "ir.h"

typedef enum { TB_CALIB_MINMAX, TB_CALIB_PERCENTILE, TB_CALIB_MSE } tb_calib_method;

/* The default, measured on the Fashion-MNIST CNN (docs/quantization.md). */
#define TB_CALIB_DEFAULT_METHOD "minmax"

/* 0 and *m set when name is "minmax", "percentile" or "mse"; 1 otherwise. */
int tb_calib_method_parse(const char *name, tb_calib_method *m);

typedef struct {
    int seen;        /* the value is an f32 activation the samples reached */
    float lo, hi;    /* the observed range; lo <= hi */
} tb_calib_range;

/* Fills ranges[v] for every f32 graph input and node output v (ranges has
 * g->n_values entries). progress: where "calibrating: i/N samples" goes, or
 * NULL. Errors name the file: unreadable, empty, wrong size, NaN/Inf. */
int tb_calibrate(tb_graph *g, const char *path, tb_calib_method method, FILE *progress,
                 tb_calib_range *ranges, int *n_samples, tb_error *err);

#endif
