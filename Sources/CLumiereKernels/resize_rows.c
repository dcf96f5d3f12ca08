// Bilinear / bicubic resize that computes each needed horizontally-resampled source row once per
// plane (ncnn's row cache): upscaling by k reuses a row pair for k output rows instead of
// resampling it again for each. Same arithmetic and summation order as lk_resize_separable.
#include "lumiere_kernels.h"

#include <stdlib.h>

#include "lk_resample_row.h"

int lk_resize_separable_cached(const float *input, int c, int h, int w, float *output, int outh, int outw,
                               int taps, const int *xofs, const float *alpha, const int *yofs, const float *beta) {
    const int first = taps == 4 ? -1 : 0;
    float *storage = malloc(sizeof(float) * 4 * (size_t)outw);
    if (!storage) return -1;
    for (int q = 0; q < c; q++) {
        const float *plane = input + (size_t)q * h * w;
        float *rows[4] = {storage, storage + outw, storage + 2 * (size_t)outw, storage + 3 * (size_t)outw};
        int cached = -1000000;  // source row of rows[0]
        for (int dy = 0; dy < outh; dy++) {
            const int sy = yofs[dy] + first;
            const int shift = sy - cached;
            if (shift != 0) {
                // Keep the rows still needed (moved to the front), resample the rest.
                int keep = 0;
                if (shift > 0 && shift < taps) {
                    float *old[4] = {rows[0], rows[1], rows[2], rows[3]};
                    for (int k = 0; k < taps; k++) rows[k] = old[(k + shift) % taps];
                    keep = taps - shift;
                }
                for (int k = keep; k < taps; k++)
                    lk_resample_row(plane + (size_t)(sy + k) * w, outw, taps, xofs, alpha, rows[k]);
                cached = sy;
            }
            float *d = output + ((size_t)q * outh + dy) * outw;
            if (taps == 2) {
                const float b0 = beta[dy * 2], b1 = beta[dy * 2 + 1];
                const float *r0 = rows[0], *r1 = rows[1];
                for (int dx = 0; dx < outw; dx++) d[dx] = r0[dx] * b0 + r1[dx] * b1;
            } else {
                const float *b = beta + dy * 4;
                const float *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
                for (int dx = 0; dx < outw; dx++) d[dx] = r0[dx] * b[0] + r1[dx] * b[1] + r2[dx] * b[2] + r3[dx] * b[3];
            }
        }
    }
    free(storage);
    return 0;
}
