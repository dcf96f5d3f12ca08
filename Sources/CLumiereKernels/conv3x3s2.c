// Direct 3x3 stride-2 convolution (RIFE's encoder and flow-block downsampling layers): the input is
// split into even and odd padded columns once, so that every tap of 16 neighbouring outputs is one
// contiguous 16-float load, and 16 output channels accumulate in registers. See lumiere_kernels.h.
#include "lumiere_kernels.h"

#include <string.h>

#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/// Floats per half row (even or odd columns), with room for the last block's 16-lane loads at offset +1.
static int c3s2_half(const lk_conv3x3s2_shape *s) { return 16 * ((s->outw + 15) / 16) + 16; }

size_t lk_conv3x3s2_packed_weight_count(int cin, int cout) { return (size_t)cin * 9 * cout; }

// packed[((ci·3 + ky)·3 + kx)·cout + co]: one tap's weights for all output channels side by side.
void lk_conv3x3s2_pack_weights(const float *weights, int cin, int cout, float *packed) {
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            for (int k = 0; k < 9; k++)
                packed[((size_t)ci * 9 + k) * cout + co] = weights[((size_t)co * cin + ci) * 9 + k];
}

size_t lk_conv3x3s2_scratch_count(const lk_conv3x3s2_shape *s, int band_rows) {
    return (size_t)s->cin * (2 * band_rows + 1) * 2 * c3s2_half(s);
}

int lk_conv3x3s2_band_rows(const lk_conv3x3s2_shape *s) {
    // About 512 KB of padded rows per band: they stay in the core's L2 between padding and use.
    const size_t row_bytes = (size_t)s->cin * 2 * c3s2_half(s) * sizeof(float);
    int band = (int)(((size_t)512 << 10) / (2 * row_bytes));
    if (band < 1) band = 1;
    if (band > 16) band = 16;
    return band;
}

// Padded rows [r_begin, r_end) of every channel (channel stride (r_end - r_begin) rows). Padded row r,
// column p hold input (r - pad_top, p - pad_left) or pad_value outside the input; a padded row
// stores its even columns (p = 2j at j) and then its odd columns (p = 2j + 1 at half + j).
static void c3s2_pad_rows(const lk_conv3x3s2_shape *s, const float *input, int r_begin, int r_end, float *padded) {
    const int half = c3s2_half(s), rows = r_end - r_begin;
    for (int c = 0; c < s->cin; c++)
        for (int r = r_begin; r < r_end; r++) {
            float *even = padded + ((size_t)c * rows + (r - r_begin)) * 2 * half, *odd = even + half;
            const int iy = r - s->pad_top;
            if (iy < 0 || iy >= s->h) {
                for (int j = 0; j < 2 * half; j++) even[j] = s->pad_value;
                continue;
            }
            const float *src = input + ((size_t)c * s->h + iy) * s->w;
            // Columns j in [lo, hi) have both taps inside the input: a plain deinterleave.
            int lo = (s->pad_left + 1) / 2, hi = (s->w + s->pad_left) / 2;
            if (lo > half) lo = half;
            if (hi > half) hi = half;
            if (hi < lo) hi = lo;
            for (int j = 0; j < lo; j++) {
                const int xe = 2 * j - s->pad_left, xo = xe + 1;
                even[j] = (xe >= 0 && xe < s->w) ? src[xe] : s->pad_value;
                odd[j] = (xo >= 0 && xo < s->w) ? src[xo] : s->pad_value;
            }
            const float *base = src - s->pad_left;
            for (int j = lo; j < hi; j++) {
                even[j] = base[2 * j];
                odd[j] = base[2 * j + 1];
            }
            for (int j = hi; j < half; j++) {
                const int xe = 2 * j - s->pad_left, xo = xe + 1;
                even[j] = (xe >= 0 && xe < s->w) ? src[xe] : s->pad_value;
                odd[j] = (xo >= 0 && xo < s->w) ? src[xo] : s->pad_value;
            }
        }
}

#define LK_BODY "conv3x3s2_body.h"
#include "lk_multiversion.h"

void lk_conv3x3s2_rows(const lk_conv3x3s2_shape *s, const float *input, const float *packed_weights,
                       const float *bias, int act, const float *act_params, int act_param_count,
                       float *output, int row_begin, int row_end, float *scratch, int band_rows, int isa) {
    const int half = c3s2_half(s);
    for (int b0 = row_begin; b0 < row_end; b0 += band_rows) {
        const int b1 = b0 + band_rows < row_end ? b0 + band_rows : row_end;
        const int p0 = 2 * b0, rows = 2 * (b1 - b0) + 1;
        c3s2_pad_rows(s, input, p0, p0 + rows, scratch);
#ifdef LK_HAVE_X86
        if (isa == LK_ISA_AVX512) {
            conv3x3s2_rows_avx512(s, rows, p0, half, scratch, packed_weights, bias, act, act_params, act_param_count, output, b0, b1, 16);
            continue;
        }
        if (isa == LK_ISA_AVX2) {
            conv3x3s2_rows_avx2(s, rows, p0, half, scratch, packed_weights, bias, act, act_params, act_param_count, output, b0, b1, 4);
            continue;
        }
#endif
        conv3x3s2_rows_portable(s, rows, p0, half, scratch, packed_weights, bias, act, act_params, act_param_count, output, b0, b1, 2);
    }
    (void)isa;
}
