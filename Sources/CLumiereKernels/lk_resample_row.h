// One horizontal resampling pass of a source row (2 taps: bilinear, 4 taps: bicubic), shared by the
// plain and the row-caching separable resize so both sum in the same order (ncnn's) and agree bit for bit.
#pragma once

static inline void lk_resample_row(const float *s, int outw, int taps, const int *xofs, const float *alpha, float *r) {
    if (taps == 2) {
        for (int dx = 0; dx < outw; dx++) {
            const float *sp = s + xofs[dx];
            r[dx] = sp[0] * alpha[dx * 2] + sp[1] * alpha[dx * 2 + 1];
        }
    } else {
        for (int dx = 0; dx < outw; dx++) {
            const float *sp = s + xofs[dx];
            const float *al = alpha + dx * 4;
            r[dx] = sp[-1] * al[0] + sp[0] * al[1] + sp[1] * al[2] + sp[2] * al[3];
        }
    }
}
