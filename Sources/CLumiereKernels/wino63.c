// Winograd F(6x6, 3x3) convolution: weight packing, input packing and per-ISA dispatch.
#include "lumiere_kernels.h"

#include <math.h>
#include <string.h>

// Static helpers pass 64-byte vectors only between functions of the same ISA build.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

static void lk_activate_values(float *x, int n, int act, const float *params, int count, int channel) {
    for (int i = 0; i < n; i++) {
        float v = x[i];
        switch (act) {
        case LK_ACT_RELU: v = v > 0.f ? v : 0.f; break;
        case LK_ACT_LEAKY: v = v > 0.f ? v : v * params[0]; break;
        case LK_ACT_CLIP: v = v < params[0] ? params[0] : (v > params[1] ? params[1] : v); break;
        case LK_ACT_SIGMOID: v = 1.f / (1.f + expf(-v)); break;
        case LK_ACT_MISH: v = v * tanhf(log1pf(expf(v))); break;
        case LK_ACT_HARDSWISH: {
            float alpha = params[0], beta = params[1], lower = -beta / alpha, upper = 1.f / alpha + lower;
            v = v < lower ? 0.f : (v > upper ? v : v * (v * alpha + beta));
            break;
        }
        case LK_ACT_PRELU: { float s = count == 1 ? params[0] : params[channel]; v = v > 0.f ? v : v * s; break; }
        default: break;
        }
        x[i] = v;
    }
}

void lk_activate(float *data, int planes, size_t plane_size, int act, const float *params, int param_count) {
    if (act == LK_ACT_NONE) return;
    for (int c = 0; c < planes; c++) {
        float *p = data + (size_t)c * plane_size;
        if (act == LK_ACT_PRELU || act == LK_ACT_LEAKY) {
            const float s = act == LK_ACT_LEAKY ? params[0] : (param_count == 1 ? params[0] : params[c]);
            for (size_t i = 0; i < plane_size; i++) p[i] = p[i] > 0.f ? p[i] : p[i] * s;
        } else if (act == LK_ACT_RELU) {
            for (size_t i = 0; i < plane_size; i++) p[i] = p[i] > 0.f ? p[i] : 0.f;
        } else {
            for (size_t off = 0; off < plane_size; off += 4096) {
                int n = (plane_size - off) < 4096 ? (int)(plane_size - off) : 4096;
                lk_activate_values(p + off, n, act, params, param_count, c);
            }
        }
    }
}

#define LK_BODY "wino63_body.h"
#include "lk_multiversion.h"

void lk_wino63_forward(const lk_wino63_args *args, int tile_begin, int tile_end, float *scratch, int isa) {
#ifdef LK_HAVE_X86
    if (isa == LK_ISA_AVX512) { wino63_forward_avx512(args, tile_begin, tile_end, scratch); return; }
    if (isa == LK_ISA_AVX2) { wino63_forward_avx2(args, tile_begin, tile_end, scratch); return; }
#endif
    (void)isa;
    wino63_forward_portable(args, tile_begin, tile_end, scratch);
}

size_t lk_wino63_packed_weight_count(int cin, int cout) {
    return (size_t)64 * ((cin + 15) / 16 * 16) * ((cout + 15) / 16 * 16);
}

size_t lk_wino63_scratch_count(int cin, int cout, int tile_block) {
    return (size_t)64 * tile_block * (((cin + 15) / 16 * 16) + ((cout + 15) / 16 * 16));
}

// G (8x3) of F(6,3) with interpolation points 0, ±1, ±1/2, ±2, ∞ (the same as ncnn's).
static const float kG[8][3] = {
    {1.0f, 0.0f, 0.0f},
    {-2.0f / 9, -2.0f / 9, -2.0f / 9},
    {-2.0f / 9, 2.0f / 9, -2.0f / 9},
    {1.0f / 90, 1.0f / 45, 2.0f / 45},
    {1.0f / 90, -1.0f / 45, 2.0f / 45},
    {1.0f / 45, 1.0f / 90, 1.0f / 180},
    {1.0f / 45, -1.0f / 90, 1.0f / 180},
    {0.0f, 0.0f, 1.0f},
};

void lk_wino63_pack_weights(const float *weights, int cin, int cout, float *packed) {
    const int cinP = (cin + 15) / 16 * 16, coutP = (cout + 15) / 16 * 16;
    memset(packed, 0, lk_wino63_packed_weight_count(cin, cout) * sizeof(float));
    for (int co = 0; co < cout; co++) {
        const int ob = co / 64 * 64, mr = (coutP - ob) < 64 ? (coutP - ob) : 64, q = co - ob;
        for (int ci = 0; ci < cin; ci++) {
            const float *g = weights + ((size_t)co * cin + ci) * 9;
            float tmp[8][3];  // G g
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 3; j++) tmp[i][j] = kG[i][0] * g[0 * 3 + j] + kG[i][1] * g[1 * 3 + j] + kG[i][2] * g[2 * 3 + j];
            for (int i = 0; i < 8; i++)
                for (int j = 0; j < 8; j++) {
                    const float u = tmp[i][0] * kG[j][0] + tmp[i][1] * kG[j][1] + tmp[i][2] * kG[j][2];
                    const int p = i * 8 + j;
                    packed[(size_t)p * coutP * cinP + (size_t)ob * cinP + (size_t)ci * mr + q] = u;
                }
        }
    }
}

void lk_pack16_padded(const float *input, int c, int h, int w, int pad_top, int pad_left, float pad_value,
                      float *packed, int ph, int pw) {
    const int groups = (c + 15) / 16;
    for (int g = 0; g < groups; g++) {
        float *dst = packed + (size_t)g * ph * pw * 16;
        for (int y = 0; y < ph; y++) {
            const int sy = y - pad_top;
            for (int x = 0; x < pw; x++) {
                const int sx = x - pad_left;
                float *d = dst + ((size_t)y * pw + x) * 16;
                const int inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                for (int l = 0; l < 16; l++) {
                    const int ch = g * 16 + l;
                    d[l] = ch >= c ? 0.f : (inside ? input[((size_t)ch * h + sy) * w + sx] : pad_value);
                }
            }
        }
    }
}

void lk_pack16_zero_border(float *packed, int c, int h, int w, int top, int left, int ph, int pw) {
    const int groups = (c + 15) / 16;
    for (int g = 0; g < groups; g++) {
        float *base = packed + (size_t)g * ph * pw * 16;
        for (int y = 0; y < ph; y++) {
            float *row = base + (size_t)y * pw * 16;
            if (y < top || y >= top + h) {
                memset(row, 0, sizeof(float) * pw * 16);
            } else {
                memset(row, 0, sizeof(float) * left * 16);
                memset(row + (size_t)(left + w) * 16, 0, sizeof(float) * (pw - left - w) * 16);
            }
        }
    }
}

void lk_unpack16_padded(const float *packed, int c, int h, int w, int top, int left, int ph, int pw, float *output) {
    for (int ch = 0; ch < c; ch++) {
        const float *src = packed + (size_t)(ch / 16) * ph * pw * 16 + ch % 16;
        for (int y = 0; y < h; y++) {
            const float *s = src + ((size_t)(y + top) * pw + left) * 16;
            float *d = output + ((size_t)ch * h + y) * w;
            for (int x = 0; x < w; x++) d[x] = s[(size_t)x * 16];
        }
    }
}
