// RIFE's rife.Warp: bilinear sampling at (x + dx, y + dy) with all four taps clamped to the image.
// The AVX-512 version computes tap offsets and weights 16 pixels at a time; both compute the same
// per-pixel arithmetic in the same order, without fused multiply-adds, as the Swift reference.
#include "lumiere_kernels.h"

#include <math.h>

#pragma clang fp contract(off)

static inline int lk_clampi(int v, int hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

/// NaN → the pixel's own coordinate (no motion); otherwise clamped to [-1, size] (beyond that every
/// tap clamps to the same edge pixel anyway, and it keeps the int conversion safe).
static inline float lk_safe_coordinate(float s, int own, int size) {
    if (isnan(s)) return (float)own;
    return fminf(fmaxf(s, -1.f), (float)size);
}

static void warp_rows_portable(const float *image, int channels, int h, int w, const float *flow, float *out,
                               int row_begin, int row_end) {
    const size_t plane = (size_t)w * h;
    for (int y = row_begin; y < row_end; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            const float sx = lk_safe_coordinate((float)x + flow[i], x, w);
            const float sy = lk_safe_coordinate((float)y + flow[plane + i], y, h);
            const float fx = floorf(sx), fy = floorf(sy);
            const float a = sx - fx, b = sy - fy;
            const int ix = (int)fx, iy = (int)fy;
            const int x0 = lk_clampi(ix, w - 1), x1 = lk_clampi(ix + 1, w - 1);
            const int y0 = lk_clampi(iy, h - 1), y1 = lk_clampi(iy + 1, h - 1);
            const size_t o00 = (size_t)y0 * w + x0, o01 = (size_t)y0 * w + x1, o10 = (size_t)y1 * w + x0, o11 = (size_t)y1 * w + x1;
            const float w00 = (1 - a) * (1 - b), w01 = a * (1 - b), w10 = (1 - a) * b, w11 = a * b;
            const float *p = image;
            float *q = out + i;
            for (int c = 0; c < channels; c++, p += plane, q += plane)
                *q = p[o00] * w00 + p[o01] * w01 + p[o10] * w10 + p[o11] * w11;
        }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
static void warp_rows_avx512(const float *image, int channels, int h, int w, const float *flow, float *out,
                             int row_begin, int row_end) {
    const size_t plane = (size_t)w * h;
    const __m512 lanes = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 lo = _mm512_set1_ps(-1.f), wmax = _mm512_set1_ps((float)w), hmax = _mm512_set1_ps((float)h);
    const __m512 one = _mm512_set1_ps(1.f);
    const __m512i zero = _mm512_setzero_si512(), one_i = _mm512_set1_epi32(1);
    const __m512i wm1 = _mm512_set1_epi32(w - 1), hm1 = _mm512_set1_epi32(h - 1), wv = _mm512_set1_epi32(w);
    // Tap offsets and weights for a block of up to LK_WARP_BLOCK pixels, then each channel over the block.
    enum { LK_WARP_BLOCK = 64 };
    int off[4][LK_WARP_BLOCK] __attribute__((aligned(64)));
    float wt[4][LK_WARP_BLOCK] __attribute__((aligned(64)));
    for (int y = row_begin; y < row_end; y++) {
        const __m512 yv = _mm512_set1_ps((float)y);
        for (int xb = 0; xb < w; xb += LK_WARP_BLOCK) {
            const int nb = w - xb < LK_WARP_BLOCK ? w - xb : LK_WARP_BLOCK;
            for (int k = 0; k < nb; k += 16) {
                const int x = xb + k;
                const int n = w - x < 16 ? w - x : 16;
                const __mmask16 m = n == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
                const size_t i = (size_t)y * w + x;
                const __m512 xv = _mm512_add_ps(_mm512_set1_ps((float)x), lanes);
                __m512 sx = _mm512_add_ps(xv, _mm512_maskz_loadu_ps(m, flow + i));
                __m512 sy = _mm512_add_ps(yv, _mm512_maskz_loadu_ps(m, flow + plane + i));
                sx = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(sx, sx, _CMP_UNORD_Q), sx, xv);
                sy = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(sy, sy, _CMP_UNORD_Q), sy, yv);
                sx = _mm512_min_ps(_mm512_max_ps(sx, lo), wmax);
                sy = _mm512_min_ps(_mm512_max_ps(sy, lo), hmax);
                const __m512 fx = _mm512_roundscale_ps(sx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
                const __m512 fy = _mm512_roundscale_ps(sy, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
                const __m512 a = _mm512_sub_ps(sx, fx), b = _mm512_sub_ps(sy, fy);
                const __m512i ix = _mm512_cvttps_epi32(fx), iy = _mm512_cvttps_epi32(fy);
                const __m512i x0 = _mm512_min_epi32(_mm512_max_epi32(ix, zero), wm1);
                const __m512i x1 = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(ix, one_i), zero), wm1);
                const __m512i r0 = _mm512_mullo_epi32(_mm512_min_epi32(_mm512_max_epi32(iy, zero), hm1), wv);
                const __m512i r1 = _mm512_mullo_epi32(_mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(iy, one_i), zero), hm1), wv);
                _mm512_store_si512(off[0] + k, _mm512_add_epi32(r0, x0));
                _mm512_store_si512(off[1] + k, _mm512_add_epi32(r0, x1));
                _mm512_store_si512(off[2] + k, _mm512_add_epi32(r1, x0));
                _mm512_store_si512(off[3] + k, _mm512_add_epi32(r1, x1));
                const __m512 oma = _mm512_sub_ps(one, a), omb = _mm512_sub_ps(one, b);
                _mm512_store_ps(wt[0] + k, _mm512_mul_ps(oma, omb));
                _mm512_store_ps(wt[1] + k, _mm512_mul_ps(a, omb));
                _mm512_store_ps(wt[2] + k, _mm512_mul_ps(oma, b));
                _mm512_store_ps(wt[3] + k, _mm512_mul_ps(a, b));
            }
            // The taps as scalar loads: this CPU's 16-lane gathers cost more than 16 plain loads.
            // Per pixel: offsets and weights loaded once, then every channel (scalar tap loads: this
            // CPU's 16-lane gathers cost more than 16 plain loads).
            float *q = out + (size_t)y * w + xb;
#pragma clang loop vectorize(disable)
            for (int j = 0; j < nb; j++) {
                const int o00 = off[0][j], o01 = off[1][j], o10 = off[2][j], o11 = off[3][j];
                const float w00 = wt[0][j], w01 = wt[1][j], w10 = wt[2][j], w11 = wt[3][j];
                const float *p = image;
                float *qc = q + j;
                for (int c = 0; c < channels; c++, p += plane, qc += plane)
                    *qc = p[o00] * w00 + p[o01] * w01 + p[o10] * w10 + p[o11] * w11;
            }
        }
    }
}
#define LK_HAVE_X86 1
#endif

void lk_rife_warp_rows(const float *image, int channels, int h, int w, const float *flow, float *out,
                       int row_begin, int row_end, int isa) {
#ifdef LK_HAVE_X86
    // Gather offsets are 32-bit: planes beyond 2^31 values (not reachable with the layer's limits) stay scalar.
    if (isa == LK_ISA_AVX512 && (size_t)w * h < ((size_t)1 << 31)) {
        warp_rows_avx512(image, channels, h, w, flow, out, row_begin, row_end);
        return;
    }
#endif
    (void)isa;
    warp_rows_portable(image, channels, h, w, flow, out, row_begin, row_end);
}
