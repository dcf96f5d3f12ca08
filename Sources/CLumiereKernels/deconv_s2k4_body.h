// Body of the 4x4 stride-2 deconvolution row kernel, included once per instruction set by
// deconv_s2k4.c with LK_FN(name) giving the per-ISA function name (clang vector extensions).

static inline v16 LK_FN(dc_ld)(const float *p) { return *(const v16u *)p; }
static inline void LK_FN(dc_st)(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 LK_FN(dc_splat)(float s) { return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

// One output row segment (32 columns from x0) of CO channels. r0/r1: padded rows of input rows a
// and a - 1 at input column b0 - 1 (channel 0); w: packed weights at (ry, ci 0, dy 0, co0). The
// first phase p (taps tf) reads columns b0 and b0 - 1, the second (taps ts) b0 + p and b0 + p - 1.
static inline __attribute__((always_inline)) void LK_FN(dc_tile)(
    const float *r0, const float *r1, size_t cstride, int cin, const float *w, size_t wci, size_t wdy,
    const int p, const float *bias, float *out, size_t plane, int outw, int x0, const int CO) {
    const int tf = 2 * p, ts = 2 - 2 * p;
    v16 first[16], second[16];
    for (int co = 0; co < CO; co++) { first[co] = (v16){0}; second[co] = (v16){0}; }
    for (int ci = 0; ci < cin; ci++) {
        const float *wc = w + (size_t)ci * wci;
        for (int dy = 0; dy < 2; dy++) {
            const float *row = (dy == 0 ? r0 : r1) + (size_t)ci * cstride;
            const v16 m1 = LK_FN(dc_ld)(row), c0 = LK_FN(dc_ld)(row + 1), p1 = LK_FN(dc_ld)(row + 2);
            const v16 s0 = p ? p1 : c0, s1 = p ? c0 : m1;
            const float *k = wc + dy * wdy;
            for (int co = 0; co < CO; co++) {
                first[co] += c0 * LK_FN(dc_splat)(k[co * 4 + tf]);
                first[co] += m1 * LK_FN(dc_splat)(k[co * 4 + tf + 1]);
                second[co] += s0 * LK_FN(dc_splat)(k[co * 4 + ts]);
                second[co] += s1 * LK_FN(dc_splat)(k[co * 4 + ts + 1]);
            }
        }
    }
    for (int co = 0; co < CO; co++) {
        const v16 bv = LK_FN(dc_splat)(bias ? bias[co] : 0.f);
        const v16 lo = __builtin_shufflevector(first[co], second[co], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23) + bv;
        const v16 hi = __builtin_shufflevector(first[co], second[co], 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31) + bv;
        float *row = out + (size_t)co * plane;
        if (x0 + 32 <= outw) {
            LK_FN(dc_st)(row + x0, lo);
            LK_FN(dc_st)(row + x0 + 16, hi);
        } else {  // the last, partial block
            float tmp[32];
            LK_FN(dc_st)(tmp, lo);
            LK_FN(dc_st)(tmp + 16, hi);
            for (int j = 0; x0 + j < outw; j++) row[x0 + j] = tmp[j];
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
    const int parity = s->cut_left & 1;
    for (int oy = row_begin; oy < row_end; oy++) {
        const int y = oy + s->cut_top, ry = y & 1, a = y >> 1;
        const float *row_a = padded + (size_t)(a - g->row0) * g->pw;  // input row a
        const float *row_b = row_a - g->pw;                            // input row a - 1
        const float *w_ry = weights + (size_t)ry * cin * wci;
        float *out_row = output + (size_t)oy * s->outw;
        for (int xb = 0; xb < g->x_blocks; xb++) {
            const int q = 16 * xb;  // padded column of input column b0 - 1
            const int x0 = 32 * xb;
            for (int blk = 0; blk < blocks; blk++) {
                const int co0 = cout * blk / blocks, n = cout * (blk + 1) / blocks - co0;
                const float *w = w_ry + (size_t)co0 * 4, *bs = bias ? bias + co0 : NULL;
                float *o = out_row + (size_t)co0 * plane;
// Constant parity and block size: the compiler then keeps all accumulators in registers.
#define LK_DC_CASE(K) case K: \
                    if (parity) LK_FN(dc_tile)(row_a + q, row_b + q, cstride, cin, w, wci, wdy, 1, bs, o, plane, s->outw, x0, K); \
                    else LK_FN(dc_tile)(row_a + q, row_b + q, cstride, cin, w, wci, wdy, 0, bs, o, plane, s->outw, x0, K); \
                    break;
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
