// Hot loops of the Lumière inference engine, in C so they are compiled with -O3 in every build
// configuration. x86-64 entry points dispatch at run time between AVX-512, AVX2 and a portable
// build of the same source; other CPUs (ARM64) use the portable build.
#ifndef LUMIERE_KERNELS_H
#define LUMIERE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- CPU features -----------------------------------------------------------------------------
enum { LK_ISA_PORTABLE = 0, LK_ISA_AVX2 = 1, LK_ISA_AVX512 = 2 };
/// Best instruction set this CPU supports among those compiled in.
int lk_best_isa(void);
const char *lk_isa_name(int isa);
/// Debian's OpenBLAS picks AVX2 kernels on AVX-512 Zen CPUs unless OPENBLAS_CORETYPE is set
/// before its first call; set it to SkylakeX when the CPU has AVX-512 and the user did not set it.
/// Returns 1 when it set the variable.
int lk_prepare_openblas_environment(void);
/// Atomically adds `value` to *counter and returns the previous value (work distribution).
int lk_atomic_fetch_add(int *counter, int value);

// ---- activations (codes shared with the Swift side) --------------------------------------------
enum {
    LK_ACT_NONE = 0, LK_ACT_RELU = 1, LK_ACT_LEAKY = 2, LK_ACT_CLIP = 3, LK_ACT_SIGMOID = 4,
    LK_ACT_MISH = 5, LK_ACT_HARDSWISH = 6, LK_ACT_PRELU = 7
};
/// Applies an activation in place to `planes` planes of `plane_size` values. For LK_ACT_PRELU
/// `params` holds one slope per plane (or one slope for all when param_count == 1).
void lk_activate(float *data, int planes, size_t plane_size, int act, const float *params, int param_count);

// ---- Winograd F(6x6, 3x3) convolution, stride 1, dilation 1 ------------------------------------
typedef struct {
    const float *input;      // packed padded input [ceil(cin/16)][ph][pw][16]
    int cin, ph, pw;
    const float *weights;    // from lk_wino63_pack_weights
    int cout;
    const float *bias;       // cout values or NULL
    int act;                 // LK_ACT_*
    const float *act_params;
    int act_param_count;
    float *output;           // planar [cout][outh][outw], or NULL when writing output_packed
    int outh, outw;
    float *output_packed;    // optional: packed padded [ceil(cout/16)][out_ph][out_pw][16] for the next convolution
    int out_ph, out_pw, out_pad_top, out_pad_left;
    int tiles_x, tiles_y;
    int tile_block;          // tiles per block (multiple of 6)
} lk_wino63_args;

size_t lk_wino63_packed_weight_count(int cin, int cout);
void lk_wino63_pack_weights(const float *weights, int cin, int cout, float *packed);
size_t lk_wino63_scratch_count(int cin, int cout, int tile_block);
/// Computes tiles [tile_begin, tile_end) (row-major over the tile grid); scratch holds
/// lk_wino63_scratch_count floats and is private to the caller's thread.
void lk_wino63_forward(const lk_wino63_args *args, int tile_begin, int tile_end, float *scratch, int isa);

/// Copies planar input [c][h][w] into the packed, padded layout [ceil(c/16)][ph][pw][16]:
/// output (y, x) holds input (y - pad_top, x - pad_left), pad_value outside.
/// Zeroes everything of a packed padded buffer outside the interior [top, top+h) × [left, left+w).
void lk_pack16_zero_border(float *packed, int c, int h, int w, int top, int left, int ph, int pw);
/// Inverse of lk_pack16_padded: interior of the packed buffer back to planar [c][h][w].
void lk_unpack16_padded(const float *packed, int c, int h, int w, int top, int left, int ph, int pw, float *output);
void lk_pack16_padded(const float *input, int c, int h, int w, int pad_top, int pad_left, float pad_value,
                      float *packed, int ph, int pw);

// ---- im2col / col2im for GEMM convolution ---------------------------------------------------
/// cols[(ci*kh + ky)*kw + kx][oy*outw + ox] = padded input; rows [row_begin,row_end) of the output only.
void lk_im2col(const float *input, int c, int h, int w, int kh, int kw, int dil_h, int dil_w,
               int stride_h, int stride_w, int pad_top, int pad_left, float pad_value,
               int outh, int outw, float *cols);
/// Deconvolution scatter: out[co][iy*sh - pt + ky*dh][ix*sw - pl + kx*dw] += cols[(co*kh+ky)*kw+kx][iy*w+ix]
void lk_col2im_add(const float *cols, int cout, int h, int w, int kh, int kw, int dil_h, int dil_w,
                   int stride_h, int stride_w, int pad_top, int pad_left, float *output, int outh, int outw);

// ---- Deconvolution 4x4, stride 2, dilation 1 as four 2x2 sub-pixel convolutions -----------------
/// Full output (2·iy + ky, 2·ix + kx) += in[iy][ix]·w[ky][kx]; so full output (2a + ry, 2b + rx)
/// sums taps (a, ky = ry), (a - 1, ky = ry + 2) × (b, kx = rx), (b - 1, kx = rx + 2). The kernel
/// computes whole output rows (both column phases at once, interleaved on store) from a zero-padded
/// copy of the input, without the col2im buffer of the GEMM path.
typedef struct {
    int cin, h, w;           // input
    int cout, outh, outw;    // output after the cut
    int cut_top, cut_left;   // rows/columns of the full output cut away at the top/left
} lk_deconv_s2k4_shape;
/// Floats of the weights packed by lk_deconv_s2k4_pack_weights (8 · cin · cout · 2).
size_t lk_deconv_s2k4_packed_weight_count(int cin, int cout);
/// weights: ncnn order [cout][cin][4][4].
void lk_deconv_s2k4_pack_weights(const float *weights, int cin, int cout, float *packed);
/// Floats of the zero-padded input copy the row kernel reads.
size_t lk_deconv_s2k4_padded_count(const lk_deconv_s2k4_shape *shape);
/// Fills channels [c_begin, c_end) of the padded copy from planar input [cin][h][w].
void lk_deconv_s2k4_pad_input(const lk_deconv_s2k4_shape *shape, const float *input, int c_begin, int c_end, float *padded);
/// Computes output rows [row_begin, row_end) of all channels (bias may be NULL; no activation).
void lk_deconv_s2k4_rows(const lk_deconv_s2k4_shape *shape, const float *padded, const float *packed_weights,
                         const float *bias, float *output, int row_begin, int row_end, int isa);

// ---- direct 3x3 stride-2 convolution (dilation 1, any padding) -------------------------------
typedef struct {
    int cin, h, w;           // input
    int cout, outh, outw;    // output
    int pad_top, pad_left;   // padding before the first row/column (bottom/right follow from outh/outw)
    float pad_value;
} lk_conv3x3s2_shape;
/// Floats of the weights packed by lk_conv3x3s2_pack_weights (cin · 9 · cout).
size_t lk_conv3x3s2_packed_weight_count(int cin, int cout);
/// weights: ncnn order [cout][cin][3][3].
void lk_conv3x3s2_pack_weights(const float *weights, int cin, int cout, float *packed);
/// Output rows per band: each band's padded, column-deinterleaved input rows are built just before use.
int lk_conv3x3s2_band_rows(const lk_conv3x3s2_shape *shape);
/// Floats of the per-thread scratch lk_conv3x3s2_rows needs for bands of `band_rows` output rows.
size_t lk_conv3x3s2_scratch_count(const lk_conv3x3s2_shape *shape, int band_rows);
/// Computes output rows [row_begin, row_end) of all channels from planar input [cin][h][w], bias
/// (may be NULL) and activation included (act/params as lk_activate; for LK_ACT_PRELU with several
/// params, one per channel). scratch: lk_conv3x3s2_scratch_count(shape, band_rows) floats, private to the caller's thread.
void lk_conv3x3s2_rows(const lk_conv3x3s2_shape *shape, const float *input, const float *packed_weights,
                       const float *bias, int act, const float *act_params, int act_param_count,
                       float *output, int row_begin, int row_end, float *scratch, int band_rows, int isa);

// ---- RIFE warp ----------------------------------------------------------------------------------
/// rife.Warp for output rows [row_begin, row_end): out[c](x, y) = image[c] sampled bilinearly at
/// (x + flow[0](x, y), y + flow[1](x, y)), all four taps clamped to the image; NaN flow = no motion.
void lk_rife_warp_rows(const float *image, int channels, int h, int w, const float *flow, float *out,
                       int row_begin, int row_end, int isa);

// ---- element-wise and data movement ---------------------------------------------------------------
void lk_fp16_to_fp32(const uint16_t *src, float *dst, size_t count);
/// out = a (op) b with numpy-style broadcasting of 3-D shapes (each dim equal or 1).
/// op: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 pow, 7 rsub, 8 rdiv, 9 rpow.
void lk_binary_broadcast(const float *a, int ac, int ah, int aw, const float *b, int bc, int bh, int bw,
                         float *out, int oc, int oh, int ow, int op);
void lk_binary_scalar(const float *a, size_t count, float b, float *out, int op);
void lk_pixel_shuffle(const float *input, int c, int h, int w, int r, int mode, float *output);
void lk_resize_nearest(const float *input, int c, int h, int w, float *output, int outh, int outw,
                       float hs, float ws);
/// Bilinear (taps = 2) or bicubic (taps = 4) with precomputed coefficients (see Interp.swift).
void lk_resize_separable(const float *input, int c, int h, int w, float *output, int outh, int outw,
                         int taps, const int *xofs, const float *alpha, const int *yofs, const float *beta);
/// As lk_resize_separable, resampling each needed source row once per plane (upscaling reuses
/// rows). Returns 0, or -1 when its row buffer could not be allocated.
int lk_resize_separable_cached(const float *input, int c, int h, int w, float *output, int outh, int outw,
                               int taps, const int *xofs, const float *alpha, const int *yofs, const float *beta);

#ifdef __cplusplus
}
#endif
#endif
