// Element-wise operations, resampling and data movement (memory-bound loops).
#include "lumiere_kernels.h"
#include "lk_resample_row.h"

#include <math.h>
#include <string.h>

void lk_fp16_to_fp32(const uint16_t *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        const uint32_t h = src[i];
        const uint32_t sign = (h & 0x8000u) << 16;
        uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
        if (exp == 0) {
            if (mant == 0) {
                bits = sign;
            } else {  // subnormal: normalise
                exp = 127 - 15 + 1;
                while ((mant & 0x400) == 0) { mant <<= 1; exp--; }
                mant &= 0x3ff;
                bits = sign | (exp << 23) | (mant << 13);
            }
        } else if (exp == 0x1f) {
            bits = sign | 0x7f800000u | (mant << 13);
        } else {
            bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
        }
        memcpy(dst + i, &bits, 4);
    }
}

static inline float lk_binary(float x, float y, int op) {
    switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return x > y ? x : y;
    case 5: return x < y ? x : y;
    case 6: return powf(x, y);
    case 7: return y - x;
    case 8: return y / x;
    case 9: return powf(y, x);
    default: return 0.f;
    }
}

#define LK_BINARY_LOOP(EXPR)                                                                    \
    for (int c = 0; c < oc; c++)                                                                \
        for (int y = 0; y < oh; y++) {                                                          \
            const float *pa = a + ((size_t)(ac == 1 ? 0 : c) * ah + (ah == 1 ? 0 : y)) * aw;    \
            const float *pb = b + ((size_t)(bc == 1 ? 0 : c) * bh + (bh == 1 ? 0 : y)) * bw;    \
            float *po = out + ((size_t)c * oh + y) * ow;                                        \
            if (aw == ow && bw == ow)                                                           \
                for (int x = 0; x < ow; x++) { float xa = pa[x], xb = pb[x]; po[x] = EXPR; }    \
            else if (aw == ow)                                                                  \
                for (int x = 0; x < ow; x++) { float xa = pa[x], xb = pb[0]; po[x] = EXPR; }    \
            else if (bw == ow)                                                                  \
                for (int x = 0; x < ow; x++) { float xa = pa[0], xb = pb[x]; po[x] = EXPR; }    \
            else                                                                                \
                for (int x = 0; x < ow; x++) { float xa = pa[0], xb = pb[0]; po[x] = EXPR; }    \
        }

void lk_binary_broadcast(const float *a, int ac, int ah, int aw, const float *b, int bc, int bh, int bw,
                         float *out, int oc, int oh, int ow, int op) {
    switch (op) {  // the common ones get their own vectorisable loops
    case 0: LK_BINARY_LOOP(xa + xb); break;
    case 1: LK_BINARY_LOOP(xa - xb); break;
    case 2: LK_BINARY_LOOP(xa * xb); break;
    case 3: LK_BINARY_LOOP(xa / xb); break;
    default: LK_BINARY_LOOP(lk_binary(xa, xb, op)); break;
    }
}

void lk_binary_scalar(const float *a, size_t count, float b, float *out, int op) {
    switch (op) {
    case 0: for (size_t i = 0; i < count; i++) out[i] = a[i] + b; break;
    case 1: for (size_t i = 0; i < count; i++) out[i] = a[i] - b; break;
    case 2: for (size_t i = 0; i < count; i++) out[i] = a[i] * b; break;
    case 3: for (size_t i = 0; i < count; i++) out[i] = a[i] / b; break;
    default: for (size_t i = 0; i < count; i++) out[i] = lk_binary(a[i], b, op); break;
    }
}

void lk_pixel_shuffle(const float *input, int c, int h, int w, int r, int mode, float *output) {
    const int oc = c / (r * r), ow = w * r;
    for (int q = 0; q < oc; q++)
        for (int sy = 0; sy < r; sy++)
            for (int sx = 0; sx < r; sx++) {
                // mode 0: PyTorch order (channel q*r*r + sy*r + sx); mode 1: (sy*r + sx)*oc + q
                const int ic = mode == 0 ? q * r * r + sy * r + sx : (sy * r + sx) * oc + q;
                const float *src = input + (size_t)ic * h * w;
                float *dst = output + (size_t)q * h * r * ow;
                for (int y = 0; y < h; y++) {
                    float *row = dst + (size_t)(y * r + sy) * ow + sx;
                    const float *s = src + (size_t)y * w;
                    for (int x = 0; x < w; x++) row[x * r] = s[x];
                }
            }
}

void lk_resize_nearest(const float *input, int c, int h, int w, float *output, int outh, int outw,
                       float hs, float ws) {
    int xofs[outw];
    for (int x = 0; x < outw; x++) { int v = (int)(x * ws); xofs[x] = v < w - 1 ? v : w - 1; }
    for (int q = 0; q < c; q++)
        for (int y = 0; y < outh; y++) {
            int sy = (int)(y * hs);
            sy = sy < h - 1 ? sy : h - 1;
            const float *s = input + ((size_t)q * h + sy) * w;
            float *d = output + ((size_t)q * outh + y) * outw;
            for (int x = 0; x < outw; x++) d[x] = s[xofs[x]];
        }
}

void lk_resize_separable(const float *input, int c, int h, int w, float *output, int outh, int outw,
                         int taps, const int *xofs, const float *alpha, const int *yofs, const float *beta) {
    // Horizontal pass per needed source row, then vertical combination; the same summation
    // order as ncnn (row sums first, then rows weighted) so results agree to rounding.
    const int first = taps == 4 ? -1 : 0;
    float rowbuf[4][outw];
    for (int q = 0; q < c; q++) {
        const float *plane = input + (size_t)q * h * w;
        for (int dy = 0; dy < outh; dy++) {
            const int sy = yofs[dy];
            for (int k = 0; k < taps; k++) {
                lk_resample_row(plane + (size_t)(sy + first + k) * w, outw, taps, xofs, alpha, rowbuf[k]);
            }
            float *d = output + ((size_t)q * outh + dy) * outw;
            if (taps == 2) {
                const float b0 = beta[dy * 2], b1 = beta[dy * 2 + 1];
                for (int dx = 0; dx < outw; dx++) d[dx] = rowbuf[0][dx] * b0 + rowbuf[1][dx] * b1;
            } else {
                const float *b = beta + dy * 4;
                for (int dx = 0; dx < outw; dx++)
                    d[dx] = rowbuf[0][dx] * b[0] + rowbuf[1][dx] * b[1] + rowbuf[2][dx] * b[2] + rowbuf[3][dx] * b[3];
            }
        }
    }
}

void lk_im2col(const float *input, int c, int h, int w, int kh, int kw, int dil_h, int dil_w,
               int stride_h, int stride_w, int pad_top, int pad_left, float pad_value,
               int outh, int outw, float *cols) {
    for (int ci = 0; ci < c; ci++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                float *dst = cols + ((size_t)(ci * kh + ky) * kw + kx) * outh * outw;
                const float *plane = input + (size_t)ci * h * w;
                for (int oy = 0; oy < outh; oy++) {
                    const int iy = oy * stride_h - pad_top + ky * dil_h;
                    float *d = dst + (size_t)oy * outw;
                    if (iy < 0 || iy >= h) {
                        for (int ox = 0; ox < outw; ox++) d[ox] = pad_value;
                        continue;
                    }
                    const float *row = plane + (size_t)iy * w;
                    for (int ox = 0; ox < outw; ox++) {
                        const int ix = ox * stride_w - pad_left + kx * dil_w;
                        d[ox] = (ix >= 0 && ix < w) ? row[ix] : pad_value;
                    }
                }
            }
}

void lk_col2im_add(const float *cols, int cout, int h, int w, int kh, int kw, int dil_h, int dil_w,
                   int stride_h, int stride_w, int pad_top, int pad_left, float *output, int outh, int outw) {
    for (int co = 0; co < cout; co++)
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
                const float *src = cols + ((size_t)(co * kh + ky) * kw + kx) * h * w;
                float *plane = output + (size_t)co * outh * outw;
                for (int iy = 0; iy < h; iy++) {
                    const int oy = iy * stride_h - pad_top + ky * dil_h;
                    if (oy < 0 || oy >= outh) continue;
                    float *row = plane + (size_t)oy * outw;
                    const float *s = src + (size_t)iy * w;
                    for (int ix = 0; ix < w; ix++) {
                        const int ox = ix * stride_w - pad_left + kx * dil_w;
                        if (ox >= 0 && ox < outw) row[ox] += s[ix];
                    }
                }
            }
}
