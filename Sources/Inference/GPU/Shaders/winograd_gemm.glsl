// Winograd F(2×2, 3×3) and F(4×4, 3×3), step 2 of 3: independent matrix products, one per position of the transformed
// tile (16 for F(2,3), 4×4; 36 for F(4,3), 6×6):
// m[position][k][tile] = Σ_c u[position][k][c] · v[position][c][tile]. Included by winograd_t<TP>k<KB>.comp, which
// define
//   TP — tiles per invocation (consecutive; 4 or 8: read as vec4),
//   KB — output channels per invocation (a multiple of 4: KB / 4 vec4 accumulators per tile).
// Workgroups are 64 invocations along the tiles, one output-channel block (y) and one position (z) each, so the
// weights u (transformed at load: GPUConvolution.winogradWeights, [position][block of KB][c][KB], zero-filled beyond
// the real output channels) are read at a workgroup-uniform index like the direct register-blocked shader
// (conv3x3_regs.glsl). Per input channel an invocation reads TP / 4 vec4 of v and KB / 4 vec4 of u and does TP × KB
// multiply-adds: per output pixel and input channel 4 for F(2,3) and 2.25 for F(4,3), against the direct 9. The planes and weights are fp32; the
// multiply-adds are fp32, or fp16 in the `_fp16a` variant (`GPUPrecision.fp16` on a device with shaderFloat16).
#include "storage.glsl"

layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Transformed { vec4 v[]; };
layout(std430, binding = 1) writeonly buffer Products { float m[]; };
layout(std430, binding = 2) readonly buffer Weights { vec4 u[]; };

layout(push_constant) uniform Parameters {
    int inC, outC, tileStride;   // tileStride: tiles rounded up to a multiple of TP (the planes' row length)
} p;

const int V = KB / 4, T4 = TP / 4;

void main() {
    int t0 = int(gl_GlobalInvocationID.x) * TP, block = int(gl_WorkGroupID.y), position = int(gl_WorkGroupID.z);
    if (t0 >= p.tileStride) return;   // no barrier below
    avec4 acc[TP][V];
    [[unroll]] for (int i = 0; i < TP; i++) [[unroll]] for (int j = 0; j < V; j++) acc[i][j] = avec4(0.0);
    int blocks = (p.outC + KB - 1) / KB;
    int vbase = (position * p.inC * p.tileStride + t0) / 4, ubase = (position * blocks + block) * p.inC * V;
    for (int c = 0; c < p.inC; c++) {
        avec4 a[T4];
        [[unroll]] for (int i = 0; i < T4; i++) a[i] = avec4(v[vbase + c * (p.tileStride / 4) + i]);
        [[unroll]] for (int j = 0; j < V; j++) {
            avec4 w = avec4(u[ubase + c * V + j]);
            [[unroll]] for (int i = 0; i < T4; i++) {
                acc[i * 4 + 0][j] += a[i].x * w;
                acc[i * 4 + 1][j] += a[i].y * w;
                acc[i * 4 + 2][j] += a[i].z * w;
                acc[i * 4 + 3][j] += a[i].w * w;
            }
        }
    }
    [[unroll]] for (int j = 0; j < V; j++) {
        [[unroll]] for (int k = 0; k < 4; k++) {
            int oc = block * KB + j * 4 + k;
            if (oc >= p.outC) continue;
            int row = (position * p.outC + oc) * p.tileStride + t0;
            [[unroll]] for (int i = 0; i < TP; i++) m[row + i] = float(acc[i][j][k]);
        }
    }
}
