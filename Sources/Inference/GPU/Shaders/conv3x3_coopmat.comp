#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
// 3×3 convolution (stride 1 or 2) on cooperative matrices (tensor cores): an implicit GEMM
//   out[pixel][oc] = Σ_k A[pixel][k] · B[k][oc],   k = input channel · 9 + tap (ky · 3 + kx),
// where A is the im2col of the input (gathered here, never stored) and B the weights, packed at load
// (CooperativeMatrixConvolution.packWeights): [block of 32 outputs][k, padded to a multiple of 16][32 outputs], fp16.
// A workgroup is one subgroup of 32 invocations (the device's subgroup size; checked before this shader is chosen) and
// computes 32 consecutive pixels of one output row × 32 output channels as 2 × 2 accumulators of 16 × 16 (fp32). Per
// step of 16 along k, the 32 invocations gather A's 32 × 16 fp16 values into shared memory (16 each, padding value
// outside the input, 0 beyond the real k), then load the two A tiles from there and the two B tiles straight from the
// weights buffer, and do 4 coopMatMulAddNV. At the end each accumulator goes through shared memory (column-major, so
// consecutive invocations write consecutive pixels of one channel) to get the bias and the activation.
// Every variant the build makes (fp32 / fp16 blobs, see storage.glsl) compiles; GPUConvolution runs only the `_fp16a`
// one (fp16 blobs and arithmetic), on a device with VK_NV_cooperative_matrix's 16×16×16 fp16 → fp32 shape.
layout(local_size_x = 32, local_size_y = 1, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Weights { float16_t w[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, outC, outH, outW, padLeft, padTop;
    float padValue;
    int hasBias, activation, activationCount;
    int stride, paddedK;
} p;

#include "activation.glsl"

const int LANES = 32, MT = 2, NT = 2, TILE_PX = 16 * MT, TILE_OC = 16 * NT;
shared float16_t stagedA[TILE_PX * 16];   // [pixel][16 k], row-major
shared float stagedC[16 * 16];            // one accumulator, column-major: [channel][pixel]

void main() {
    int lane = int(gl_LocalInvocationID.x);
    int ox0 = int(gl_WorkGroupID.x) * TILE_PX, oy = int(gl_WorkGroupID.y), block = int(gl_WorkGroupID.z);
    int taps = p.inC * 9, iy0 = oy * p.stride - p.padTop;
    fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[MT][NT];
    [[unroll]] for (int m = 0; m < MT; m++) [[unroll]] for (int n = 0; n < NT; n++) acc[m][n] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);

    for (int k0 = 0; k0 < p.paddedK; k0 += 16) {
        // Gather A: element e is pixel e / 16 of the tile, k = k0 + e % 16.
        for (int e = lane; e < TILE_PX * 16; e += LANES) {
            int k = k0 + e % 16;
            float16_t v = float16_t(0.0);
            if (k < taps) {
                int c = k / 9, tap = k - c * 9;
                int iy = iy0 + tap / 3, ix = (ox0 + e / 16) * p.stride - p.padLeft + tap % 3;
                bool inside = iy >= 0 && iy < p.inH && ix >= 0 && ix < p.inW;
                v = inside ? float16_t(x[(c * p.inH + iy) * p.inW + ix]) : float16_t(p.padValue);
            }
            stagedA[e] = v;
        }
        barrier();
        fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[MT], b[NT];
        [[unroll]] for (int m = 0; m < MT; m++) coopMatLoadNV(a[m], stagedA, uint(m * 16 * 16), 16u, false);
        [[unroll]] for (int n = 0; n < NT; n++) coopMatLoadNV(b[n], w, uint((block * p.paddedK + k0) * TILE_OC + n * 16), uint(TILE_OC), false);
        [[unroll]] for (int m = 0; m < MT; m++) [[unroll]] for (int n = 0; n < NT; n++) acc[m][n] = coopMatMulAddNV(a[m], b[n], acc[m][n]);
        barrier();   // stagedA is overwritten next step
    }

    [[unroll]] for (int m = 0; m < MT; m++) {
        [[unroll]] for (int n = 0; n < NT; n++) {
            coopMatStoreNV(acc[m][n], stagedC, 0u, 16u, true);
            barrier();
            for (int e = lane; e < 16 * 16; e += LANES) {
                int oc = block * TILE_OC + n * 16 + e / 16, ox = ox0 + m * 16 + e % 16;
                if (oc < p.outC && ox < p.outW) {
                    float v = stagedC[e] + (p.hasBias != 0 ? bias[oc] : 0.0);
                    y[(oc * p.outH + oy) * p.outW + ox] = sfloat(activate(v, p.activation, p.activationCount, oc));
                }
            }
            barrier();
        }
    }
}
