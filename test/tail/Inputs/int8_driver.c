/* int8_driver.c - checks the int8 buffer of a generated tail (written by
 * test_emit_int8): the extractor below outputs q = round(x); the buffer must
 * keep q, and every read must use (q - zero_point) * scale. The weights after
 * two epochs over two samples are compared with the same SGD in double. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "model.h"

/* a stand-in int8 feature extractor */
int model_run(const float *in0, int8_t *out0) {
    int i;
    for (i = 0; i < 4; i++)
        out0[i] = (int8_t)lrintf(in0[i]);
    return 0;
}

int main(void) {
    static const float xs[2][4] = {{3, -1, 0, 5}, {-4, 2, 7, 1}};
    static const int labels[2] = {2, 0};
    double W[3][4] = {{0.5, -0.25, 0.125, 1.0}, {-0.5, 0.75, 0.0, 0.25}, {0.3f, 0.2f, -0.1f, -0.4f}};
    double B[3] = {0.1f, -0.2f, 0.05f};
    unsigned char blob[256];
    float got[15];
    double err = 0;
    int e, s, i, j, fail = 0;

    if (!MODEL_FEATURE_INT8 || MODEL_FEATURE_ZERO_POINT != -2 || sizeof(model_feature_t) != 1) {
        printf("FAIL: model.h does not declare an int8 feature\n");
        return 1;
    }
    for (s = 0; s < 2; s++)
        if (model_push_sample(xs[s], labels[s]) != MODEL_OK) fail = 1;
    if (model_train(2) != MODEL_OK) fail = 1;
    for (e = 0; e < 2; e++)
        for (s = 0; s < 2; s++) {
            double x[4], z[3], p[3], max = -1e30, sum = 0;
            for (i = 0; i < 4; i++)
                x[i] = (lrint(xs[s][i]) - MODEL_FEATURE_ZERO_POINT) * (double)MODEL_FEATURE_SCALE;
            for (j = 0; j < 3; j++) {
                z[j] = B[j];
                for (i = 0; i < 4; i++) z[j] += W[j][i] * x[i];
                if (z[j] > max) max = z[j];
            }
            for (j = 0; j < 3; j++) sum += p[j] = exp(z[j] - max);
            for (j = 0; j < 3; j++) {
                double d = p[j] / sum - (j == labels[s]);
                for (i = 0; i < 4; i++) W[j][i] -= 0.1 * d * x[i];
                B[j] -= 0.1 * d;
            }
        }
    if (model_save_tail(blob, sizeof blob) != MODEL_OK || model_tail_state_size() != 16 + 15 * 4 + 3) fail = 1;
    memcpy(got, blob + 16, sizeof got);
    for (j = 0; j < 3; j++) {
        for (i = 0; i < 4; i++) err = fmax(err, fabs(got[j * 4 + i] - W[j][i]));
        err = fmax(err, fabs(got[12 + j] - B[j]));
    }
    if (err > 1e-5) fail = 1;
    printf("%s int8 buffer: max |C - double| = %.3g\n", fail ? "FAIL" : "PASS", err);
    return fail;
}
