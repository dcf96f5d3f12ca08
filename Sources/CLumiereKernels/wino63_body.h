// Body of the Winograd F(6,3) kernels, included once per instruction set by wino63.c with
// LK_FN(name) giving the per-ISA function name. Written with clang vector extensions so that the
// same source becomes AVX-512, AVX2 or portable (SSE2 / NEON) code.


static inline v16 LK_FN(ld)(const float *p) { return *(const v16u *)p; }
static inline void LK_FN(st)(float *p, v16 v) { *(v16u *)p = v; }
static inline v16 LK_FN(splat)(float s) { return (v16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }

// B^T applied along one direction to 8 vectors (stride in vectors between inputs/outputs).
static inline void LK_FN(bt8)(const v16 *r, v16 *t) {
    t[0] = r[0] - r[6] + (r[4] - r[2]) * 5.25f;
    t[7] = r[7] - r[1] + (r[3] - r[5]) * 5.25f;
    v16 a = r[2] + r[6] - r[4] * 4.25f;
    v16 b = r[1] + r[5] - r[3] * 4.25f;
    t[1] = a + b;
    t[2] = a - b;
    a = r[6] + r[2] * 0.25f - r[4] * 1.25f;
    b = r[1] * 0.5f - r[3] * 2.5f + r[5] * 2.f;
    t[3] = a + b;
    t[4] = a - b;
    a = r[6] + (r[2] - r[4] * 1.25f) * 4.f;
    b = r[1] * 2.f - r[3] * 2.5f + r[5] * 0.5f;
    t[5] = a + b;
    t[6] = a - b;
}

// A^T applied to 8 vectors giving 6.
static inline void LK_FN(at8)(const v16 *m, v16 *o) {
    v16 a024 = m[1] + m[2], a135 = m[1] - m[2];
    v16 b024 = m[3] + m[4], b135 = m[3] - m[4];
    v16 c024 = m[5] + m[6], c135 = m[5] - m[6];
    o[0] = m[0] + a024 + b024 + c024 * 32.f;
    o[2] = a024 + b024 * 4.f + c024 * 8.f;
    o[4] = a024 + b024 * 16.f + c024 * 2.f;
    o[1] = a135 + b135 * 2.f + c135 * 16.f;
    o[3] = a135 + b135 * 8.f + c135 * 4.f;
    o[5] = m[7] + a135 + b135 * 32.f + c135;
}

static inline v16 LK_FN(activate)(v16 x, int act, const float *params, int count, int channel) {
    switch (act) {
    case LK_ACT_RELU: { v16 z = {0}; return __builtin_elementwise_max(x, z); }
    case LK_ACT_LEAKY: { v16 s = LK_FN(splat)(params[0]); v16 z = {0}; return __builtin_elementwise_max(x, z) + __builtin_elementwise_min(x, z) * s; }
    case LK_ACT_PRELU: {
        v16 s = count == 1 ? LK_FN(splat)(params[0]) : LK_FN(ld)(params + channel);
        v16 z = {0};
        return __builtin_elementwise_max(x, z) + __builtin_elementwise_min(x, z) * s;
    }
    case LK_ACT_CLIP: {
        v16 lo = LK_FN(splat)(params[0]), hi = LK_FN(splat)(params[1]);
        return __builtin_elementwise_min(__builtin_elementwise_max(x, lo), hi);
    }
    default: {
        // Rare in our models: scalar path through the shared helper.
        float tmp[16];
        LK_FN(st)(tmp, x);
        lk_activate_values(tmp, 16, act, params, count, channel);
        return LK_FN(ld)(tmp);
    }
    }
}

// C[6 tiles][MV*16 couts] = U[k][MV*16] * V[tt][k] (6 tiles, rows ldv apart); M rows are ldm apart.
#define LK_MICRO(MV)                                                                                  \
    static void LK_FN(micro##MV)(const float *u, const float *v, size_t ldv, int K, float *m, size_t ldm) {          \
        v16 acc[6][MV];                                                                               \
        for (int t = 0; t < 6; t++)                                                                   \
            for (int q = 0; q < MV; q++) acc[t][q] = (v16){0};                                        \
        for (int k = 0; k < K; k++) {                                                                 \
            v16 w[MV];                                                                                \
            for (int q = 0; q < MV; q++) w[q] = LK_FN(ld)(u + q * 16);                                \
            for (int t = 0; t < 6; t++) {                                                             \
                v16 b = LK_FN(splat)(v[t * ldv + k]);                                                 \
                for (int q = 0; q < MV; q++) acc[t][q] += w[q] * b;                                   \
            }                                                                                         \
            u += MV * 16;                                                                             \
        }                                                                                             \
        for (int t = 0; t < 6; t++)                                                                   \
            for (int q = 0; q < MV; q++) LK_FN(st)(m + t * ldm + q * 16, acc[t][q]);                 \
    }
LK_MICRO(1)
LK_MICRO(2)
LK_MICRO(3)
LK_MICRO(4)
#undef LK_MICRO

// The three stages of one block of tiles. Scratch is tile-major so each tile's 64 transformed
// positions sit together (few store streams): V [tb][64][cinP], M [tb][64][coutP].

// 1. Input transform of tiles t0..t0+nt (padded with zero tiles up to ntp), 16 channels at a time.
static void LK_FN(wino63_input)(const lk_wino63_args *a, int t0, int nt, int ntp, float *V) {
    const int cinP = (a->cin + 15) / 16 * 16, coutP = (a->cout + 15) / 16 * 16;
    const size_t vstride = cinP, mstride = coutP;  // between positions p
    (void)vstride; (void)mstride; (void)coutP; (void)cinP;
    const size_t plane = (size_t)a->ph * a->pw * 16;
    // 1. input transform, 16 channels at a time
    for (int cg = 0; cg < cinP / 16; cg++) {
        const float *src = a->input + cg * plane;
        for (int tl = 0; tl < ntp; tl++) {
            if (tl >= nt) {  // zero the padding tiles of the last group
                for (int p = 0; p < 64; p++) LK_FN(st)(V + ((size_t)tl * 64 + p) * cinP + cg * 16, (v16){0});
                continue;
            }
            const int t = t0 + tl, ty = t / a->tiles_x, tx = t % a->tiles_x;
            v16 d[64], tmp[64];
            for (int r = 0; r < 8; r++) {
                const float *row = src + ((size_t)(ty * 6 + r) * a->pw + tx * 6) * 16;
                for (int c = 0; c < 8; c++) d[r * 8 + c] = LK_FN(ld)(row + c * 16);
            }
            // columns: for each c, transform d[0..7][c]
            for (int c = 0; c < 8; c++) {
                v16 col[8], out[8];
                for (int r = 0; r < 8; r++) col[r] = d[r * 8 + c];
                LK_FN(bt8)(col, out);
                for (int r = 0; r < 8; r++) tmp[r * 8 + c] = out[r];
            }
            for (int r = 0; r < 8; r++) LK_FN(bt8)(tmp + r * 8, d + r * 8);
            float *base = V + (size_t)tl * 64 * cinP + cg * 16;
            for (int p = 0; p < 64; p++) LK_FN(st)(base + p * vstride, d[p]);
        }
    }
}

// 2. 64 independent GEMMs: M[t][p][co] = sum_k U[p][co][k] V[t][p][k].
static void LK_FN(wino63_gemm)(const lk_wino63_args *a, int ntp, const float *V, float *M) {
    const int cinP = (a->cin + 15) / 16 * 16, coutP = (a->cout + 15) / 16 * 16;
    const size_t vstride = cinP, mstride = coutP;  // between positions p
    (void)vstride; (void)mstride; (void)coutP; (void)cinP;
    // 2. 64 independent GEMMs: M[p][t][co] = sum_k U[p][co][k] V[p][k][t]
    for (int p = 0; p < 64; p++) {
        const float *up = a->weights + (size_t)p * coutP * cinP;
        const float *vp = V + p * vstride;
        float *mp = M + p * mstride;
        const size_t ldv = (size_t)64 * cinP, ldm = (size_t)64 * coutP;
        for (int ob = 0; ob < coutP; ob += 64) {
            const int mr = (coutP - ob) < 64 ? (coutP - ob) : 64;
            const float *ub = up + (size_t)ob * cinP;
            for (int j = 0; j < ntp / 6; j++) {
                const float *vj = vp + (size_t)j * 6 * ldv;
                float *mj = mp + (size_t)j * 6 * ldm + ob;
                switch (mr / 16) {
                case 1: LK_FN(micro1)(ub, vj, ldv, cinP, mj, ldm); break;
                case 2: LK_FN(micro2)(ub, vj, ldv, cinP, mj, ldm); break;
                case 3: LK_FN(micro3)(ub, vj, ldv, cinP, mj, ldm); break;
                default: LK_FN(micro4)(ub, vj, ldv, cinP, mj, ldm); break;
                }
            }
        }
    }
}

// 3. Output transform + bias + activation, 16 output channels at a time.
static void LK_FN(wino63_output)(const lk_wino63_args *a, int t0, int nt, const float *M) {
    const int cinP = (a->cin + 15) / 16 * 16, coutP = (a->cout + 15) / 16 * 16;
    const size_t vstride = cinP, mstride = coutP;  // between positions p
    (void)vstride; (void)mstride; (void)coutP; (void)cinP;
    // 3. output transform + bias + activation, 16 output channels at a time
    for (int tl = 0; tl < nt; tl++) {
        const int t = t0 + tl, ty = t / a->tiles_x, tx = t % a->tiles_x;
        const int rows = (a->outh - ty * 6) < 6 ? (a->outh - ty * 6) : 6;
        const int cols = (a->outw - tx * 6) < 6 ? (a->outw - tx * 6) : 6;
        for (int cg = 0; cg < coutP / 16; cg++) {
            v16 m[64], tmp[48], o[36];
            for (int p = 0; p < 64; p++) m[p] = LK_FN(ld)(M + ((size_t)tl * 64 + p) * coutP + cg * 16);
            for (int c = 0; c < 8; c++) {
                v16 col[8], out[6];
                for (int r = 0; r < 8; r++) col[r] = m[r * 8 + c];
                LK_FN(at8)(col, out);
                for (int r = 0; r < 6; r++) tmp[r * 8 + c] = out[r];
            }
            for (int r = 0; r < 6; r++) LK_FN(at8)(tmp + r * 8, o + r * 6);
            v16 bias = {0};
            if (a->bias) {
                float bb[16] = {0};
                for (int l = 0; l < 16 && cg * 16 + l < a->cout; l++) bb[l] = a->bias[cg * 16 + l];
                bias = LK_FN(ld)(bb);
            }
            float params[16];
            const float *actp = a->act_params;
            if (a->act == LK_ACT_PRELU && a->act_param_count > 1) {
                for (int l = 0; l < 16; l++) params[l] = cg * 16 + l < a->cout ? a->act_params[cg * 16 + l] : 0.f;
                actp = params;
            }
            const int lanes = (a->cout - cg * 16) < 16 ? (a->cout - cg * 16) : 16;
            if (a->output_packed) {
                // Vector stores into the next convolution's padded input; lanes past cout stay 0.
                v16 keep = {0};
                for (int l = 0; l < lanes; l++) keep[l] = 1.f;
                float *dst = a->output_packed + ((size_t)cg * a->out_ph * a->out_pw + (size_t)(ty * 6 + a->out_pad_top) * a->out_pw
                                                 + tx * 6 + a->out_pad_left) * 16;
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++) {
                        v16 x = o[r * 6 + c] + bias;
                        if (a->act != LK_ACT_NONE) x = LK_FN(activate)(x, a->act, actp, a->act_param_count, 0);
                        if (lanes < 16) x = x * keep;
                        LK_FN(st)(dst + ((size_t)r * a->out_pw + c) * 16, x);
                    }
                continue;
            }
            float res[36][16];
            for (int i = 0; i < 36; i++) {
                v16 x = o[i] + bias;
                if (a->act != LK_ACT_NONE) x = LK_FN(activate)(x, a->act, actp, a->act_param_count, 0);
                LK_FN(st)(res[i], x);
            }
            for (int l = 0; l < lanes; l++) {
                float *dst = a->output + (size_t)(cg * 16 + l) * a->outh * a->outw + (size_t)(ty * 6) * a->outw + tx * 6;
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++) dst[(size_t)r * a->outw + c] = res[r * 6 + c][l];
            }
        }
    }
}

static void LK_FN(wino63_forward)(const lk_wino63_args *a, int tile_begin, int tile_end, float *scratch) {
    const int cinP = (a->cin + 15) / 16 * 16;
    const int tb = a->tile_block;
    float *V = scratch;
    float *M = scratch + (size_t)64 * tb * cinP;
    for (int t0 = tile_begin; t0 < tile_end; t0 += tb) {
        const int nt = (tile_end - t0) < tb ? (tile_end - t0) : tb;
        const int ntp = (nt + 5) / 6 * 6;
        LK_FN(wino63_input)(a, t0, nt, ntp, V);
        LK_FN(wino63_gemm)(a, ntp, V, M);
        LK_FN(wino63_output)(a, t0, nt, M);
    }
}
