// Deconvolution 4x4 stride 2 (RIFE's ConvTranspose2d) as four 2x2 sub-pixel convolutions:
// geometry, weight packing, input padding and per-ISA dispatch. See lumiere_kernels.h.
#include "lumiere_kernels.h"

#include <string.h>

// Static helpers pass 64-byte vectors only between functions of the same ISA build.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

/// Which part of the input the requested output needs. Output row oy is full row Y = oy + cut_top
/// = 2a + ry and reads input rows a and a - 1. Output columns go in blocks of 32 from ox = 32·k:
/// full column X0 = 32·k + cut_left = 2·b0 + p, so the block holds phase p of b0 ... b0 + 15 and
/// phase 1 - p of b0 + p ... b0 + p + 15, reading input columns b0 - 1 ... b0 + 16.
typedef struct {
    int a_min, b_min, x_blocks;
    int row0, col0;  // input coordinates of padded (0, 0)
    int ph, pw;      // padded rows and columns per channel
} lk_deconv_geometry;

static lk_deconv_geometry lk_deconv_geometry_of(const lk_deconv_s2k4_shape *s) {
    lk_deconv_geometry g;
    g.a_min = s->cut_top >> 1;
    const int a_max = (s->cut_top + s->outh - 1) >> 1;
    g.b_min = s->cut_left >> 1;  // b0 of block k is b_min + 16·k
    g.x_blocks = (s->outw + 31) / 32;
    g.row0 = g.a_min - 1;
    g.ph = a_max - g.a_min + 2;
    g.col0 = g.b_min - 1;
    g.pw = 16 * g.x_blocks + 2;
    return g;
}

size_t lk_deconv_s2k4_packed_weight_count(int cin, int cout) { return (size_t)2 * cin * 2 * cout * 4; }

// packed[((ry·cin + ci)·2 + dy)·cout + co][t], t = (even dx=0, even dx=1, odd dx=0, odd dx=1):
// the four taps of one input value for the two output column phases.
void lk_deconv_s2k4_pack_weights(const float *weights, int cin, int cout, float *packed) {
    static const int kx_of_tap[4] = {0, 2, 1, 3};
    for (int ry = 0; ry < 2; ry++)
        for (int ci = 0; ci < cin; ci++)
            for (int dy = 0; dy < 2; dy++)
                for (int co = 0; co < cout; co++)
                    for (int t = 0; t < 4; t++) {
                        const int ky = ry + 2 * dy, kx = kx_of_tap[t];
                        packed[((((size_t)ry * cin + ci) * 2 + dy) * cout + co) * 4 + t] =
                            weights[(((size_t)co * cin + ci) * 4 + ky) * 4 + kx];
                    }
}

size_t lk_deconv_s2k4_padded_count(const lk_deconv_s2k4_shape *s) {
    const lk_deconv_geometry g = lk_deconv_geometry_of(s);
    return (size_t)s->cin * g.ph * g.pw;
}

void lk_deconv_s2k4_pad_input(const lk_deconv_s2k4_shape *s, const float *input, int c_begin, int c_end, float *padded) {
    const lk_deconv_geometry g = lk_deconv_geometry_of(s);
    // Columns [q_lo, q_hi) of a padded row hold input columns [0, w) clipped to the padded width.
    int q_lo = -g.col0, q_hi = s->w - g.col0;
    if (q_lo < 0) q_lo = 0;
    if (q_hi > g.pw) q_hi = g.pw;
    for (int c = c_begin; c < c_end; c++)
        for (int r = 0; r < g.ph; r++) {
            float *dst = padded + ((size_t)c * g.ph + r) * g.pw;
            const int iy = r + g.row0;
            if (iy < 0 || iy >= s->h || q_lo >= q_hi) { memset(dst, 0, sizeof(float) * g.pw); continue; }
            memset(dst, 0, sizeof(float) * q_lo);
            memcpy(dst + q_lo, input + ((size_t)c * s->h + iy) * s->w + (q_lo + g.col0), sizeof(float) * (q_hi - q_lo));
            memset(dst + q_hi, 0, sizeof(float) * (g.pw - q_hi));
        }
}

#define LK_BODY "deconv_s2k4_body.h"
#include "lk_multiversion.h"

void lk_deconv_s2k4_rows(const lk_deconv_s2k4_shape *s, const float *padded, const float *packed_weights,
                         const float *bias, float *output, int row_begin, int row_end, int isa) {
    const lk_deconv_geometry g = lk_deconv_geometry_of(s);
    // Output channels per register block: 2 accumulators of 16 lanes each.
#ifdef LK_HAVE_X86
    if (isa == LK_ISA_AVX512) { deconv_rows_avx512(s, &g, padded, packed_weights, bias, output, row_begin, row_end, 13); return; }
    if (isa == LK_ISA_AVX2) { deconv_rows_avx2(s, &g, padded, packed_weights, bias, output, row_begin, row_end, 3); return; }
#endif
    (void)isa;
    deconv_rows_portable(s, &g, padded, packed_weights, bias, output, row_begin, row_end, 2);
}
