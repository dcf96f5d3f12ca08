// Body of the direct 3x3 stride-2 convolution row kernel, included once per instruction set by
// conv3x3s2.c with LK_FN(name) giving the per-ISA function name (clang vector extensions).

static inline v16 LK_FN(c3_ld)(const float *p) { return *(const v16u *)p; }
static inline void LK_FN(c3_st)(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 LK_FN(c3_splat)(float s) { return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

// 16 outputs (columns x0 ...) of one output row for CO channels. row: padded row 2·oy of channel 0
// (even half) at column block x0; w: packed weights at (ci 0, tap 0, co0).
static inline __attribute__((always_inline)) void LK_FN(c3_tile)(
    const float *row, size_t cstride, size_t rstride, int half, int cin, const float *w, int cout,
    const float *bias, float *out, size_t plane, int outw, int x0, const int CO) {
    v16 acc[16];
    for (int co = 0; co < CO; co++) acc[co] = LK_FN(c3_splat)(bias ? bias[co] : 0.f);
    for (int ci = 0; ci < cin; ci++) {
        const float *rc = row + (size_t)ci * cstride;
        const float *wc = w + (size_t)ci * 9 * cout;
        for (int ky = 0; ky < 3; ky++) {
            const float *e = rc + (size_t)ky * rstride;
            const v16 t0 = LK_FN(c3_ld)(e), t1 = LK_FN(c3_ld)(e + half), t2 = LK_FN(c3_ld)(e + 1);
            const float *k = wc + (size_t)ky * 3 * cout;
            for (int co = 0; co < CO; co++) {
                acc[co] += t0 * LK_FN(c3_splat)(k[co]);
                acc[co] += t1 * LK_FN(c3_splat)(k[cout + co]);
                acc[co] += t2 * LK_FN(c3_splat)(k[2 * cout + co]);
            }
        }
    }
    for (int co = 0; co < CO; co++) {
        float *o = out + (size_t)co * plane + x0;
        if (x0 + 16 <= outw) {
            LK_FN(c3_st)(o, acc[co]);
        } else {  // the last, partial block
            float tmp[16];
            LK_FN(c3_st)(tmp, acc[co]);
            for (int j = 0; x0 + j < outw; j++) o[j] = tmp[j];
        }
    }
}

// rows: padded rows per channel in `padded`, the first being padded row p0.
static void LK_FN(conv3x3s2_rows)(const lk_conv3x3s2_shape *s, int rows, int p0, int half, const float *padded,
                                  const float *weights, const float *bias, int act, const float *act_params,
                                  int act_param_count, float *output, int row_begin, int row_end, int max_block) {
    const int cin = s->cin, cout = s->cout, outw = s->outw;
    const size_t rstride = (size_t)2 * half, cstride = (size_t)rows * rstride, plane = (size_t)s->outh * outw;
    const int blocks = (cout + max_block - 1) / max_block, x_blocks = (outw + 15) / 16;
    const int per_channel = act == LK_ACT_PRELU && act_param_count > 1;
    for (int oy = row_begin; oy < row_end; oy++) {
        const float *row = padded + (size_t)(2 * oy - p0) * rstride;
        float *out_row = output + (size_t)oy * outw;
        for (int blk = 0; blk < blocks; blk++) {
            const int co0 = cout * blk / blocks, n = cout * (blk + 1) / blocks - co0;
            const float *w = weights + co0, *bs = bias ? bias + co0 : NULL;
            float *o = out_row + (size_t)co0 * plane;
            for (int xb = 0; xb < x_blocks; xb++) {
                const int x0 = 16 * xb;
// A constant block size keeps all accumulators in registers.
#define LK_C3_CASE(K) case K: LK_FN(c3_tile)(row + x0, cstride, rstride, half, cin, w, cout, bs, o, plane, outw, x0, K); break;
                switch (n) {
                LK_C3_CASE(1) LK_C3_CASE(2) LK_C3_CASE(3) LK_C3_CASE(4) LK_C3_CASE(5) LK_C3_CASE(6) LK_C3_CASE(7)
                LK_C3_CASE(8) LK_C3_CASE(9) LK_C3_CASE(10) LK_C3_CASE(11) LK_C3_CASE(12) LK_C3_CASE(13)
                LK_C3_CASE(14) LK_C3_CASE(15) LK_C3_CASE(16)
                default: break;
                }
#undef LK_C3_CASE
            }
        }
        // The activation while the row is still in cache (same code as the layer-wise path).
        if (act != LK_ACT_NONE)
            for (int co = 0; co < cout; co++)
                lk_activate(out_row + (size_t)co * plane, 1, (size_t)outw, act,
                            per_channel ? act_params + co : act_params, per_channel ? 1 : act_param_count);
    }
}
