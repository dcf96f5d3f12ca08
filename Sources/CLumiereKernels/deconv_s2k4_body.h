// Body of the 4x4 stride-2 deconvolution row kernel, included once per instruction set by
// deconv_s2k4.c with LK_FN(name) giving the per-ISA function name (clang vector extensions).

static inline v16 LK_FN(dc_ld)(const float *p) { return *(const v16u *)p; }
static inline void LK_FN(dc_st)(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 LK_FN(dc_splat)(float s) { return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

// One output row segment (32 columns from x0) of CO channels. ra/rb: padded rows of input rows a
// and a - 1 at the block's first column b0 - 1 (channel 0); w: packed weights at (ry, ci 0, dy 0, co0).
static inline __attribute__((always_inline)) void LK_FN(dc_tile)(
    const float *ra, const float *rb, size_t cstride, int cin, const float *w, size_t wci, size_t wdy,
    const float *bias, float *out, size_t plane, int outw, int x0, const int CO) {
    v16 even[16], odd[16];
    for (int co = 0; co < CO; co++) { even[co] = (v16){0}; odd[co] = (v16){0}; }
    for (int ci = 0; ci < cin; ci++) {
        const float *wc = w + (size_t)ci * wci;
        const v16 a0 = LK_FN(dc_ld)(ra + (size_t)ci * cstride + 1), a1 = LK_FN(dc_ld)(ra + (size_t)ci * cstride);
        for (int co = 0; co < CO; co++) {
            const float *k = wc + co * 4;
            even[co] += a0 * LK_FN(dc_splat)(k[0]);
            even[co] += a1 * LK_FN(dc_splat)(k[1]);
            odd[co] += a0 * LK_FN(dc_splat)(k[2]);
            odd[co] += a1 * LK_FN(dc_splat)(k[3]);
        }
        wc += wdy;
        const v16 b0 = LK_FN(dc_ld)(rb + (size_t)ci * cstride + 1), b1 = LK_FN(dc_ld)(rb + (size_t)ci * cstride);
        for (int co = 0; co < CO; co++) {
            const float *k = wc + co * 4;
            even[co] += b0 * LK_FN(dc_splat)(k[0]);
            even[co] += b1 * LK_FN(dc_splat)(k[1]);
            odd[co] += b0 * LK_FN(dc_splat)(k[2]);
            odd[co] += b1 * LK_FN(dc_splat)(k[3]);
        }
    }
    for (int co = 0; co < CO; co++) {
        const v16 bv = LK_FN(dc_splat)(bias ? bias[co] : 0.f);
        const v16 lo = __builtin_shufflevector(even[co], odd[co], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23) + bv;
        const v16 hi = __builtin_shufflevector(even[co], odd[co], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31) + bv;
        float *row = out + (size_t)co * plane;
        if (x0 >= 0 && x0 + 32 <= outw) {
            LK_FN(dc_st)(row + x0, lo);
            LK_FN(dc_st)(row + x0 + 16, hi);
        } else {
            float tmp[32];
            LK_FN(dc_st)(tmp, lo);
            LK_FN(dc_st)(tmp + 16, hi);
            for (int j = 0; j < 32; j++)
                if (x0 + j >= 0 && x0 + j < outw) row[x0 + j] = tmp[j];
        }
    }
}

static void LK_FN(deconv_rows)(const lk_deconv_s2k4_shape *s, const lk_deconv_geometry *g, const float *padded,
                               const float *weights, const float *bias, float *output, int row_begin, int row_end,
                               int max_block) {
    const int cin = s->cin, cout = s->cout;
    const size_t cstride = (size_t)g->ph * g->pw, plane = (size_t)s->outh * s->outw;
    const size_t wdy = (size_t)cout * 4, wci = 2 * wdy;
    const int blocks = (cout + max_block - 1) / max_block;
    for (int oy = row_begin; oy < row_end; oy++) {
        const int y = oy + s->cut_top, ry = y & 1, a = y >> 1;
        const float *row_a = padded + (size_t)(a - g->row0) * g->pw;  // input row a
        const float *row_b = row_a - g->pw;                            // input row a - 1
        const float *w_ry = weights + (size_t)ry * cin * wci;
        float *out_row = output + (size_t)oy * s->outw;
        for (int bb = 0; bb < g->b_blocks; bb++) {
            const int q = 16 * bb;  // padded column of input column b0 - 1
            const int x0 = 2 * (g->b_min + q) - s->cut_left;
            for (int blk = 0; blk < blocks; blk++) {
                const int co0 = cout * blk / blocks, n = cout * (blk + 1) / blocks - co0;
                const float *w = w_ry + (size_t)co0 * 4, *bs = bias ? bias + co0 : NULL;
                float *o = out_row + (size_t)co0 * plane;
#define LK_DC_CASE(K) case K: LK_FN(dc_tile)(row_a + q, row_b + q, cstride, cin, w, wci, wdy, bs, o, plane, s->outw, x0, K); break;
                switch (n) {
                LK_DC_CASE(1) LK_DC_CASE(2) LK_DC_CASE(3) LK_DC_CASE(4) LK_DC_CASE(5) LK_DC_CASE(6) LK_DC_CASE(7)
                LK_DC_CASE(8) LK_DC_CASE(9) LK_DC_CASE(10) LK_DC_CASE(11) LK_DC_CASE(12) LK_DC_CASE(13)
                default: break;
                }
#undef LK_DC_CASE
            }
        }
    }
}
