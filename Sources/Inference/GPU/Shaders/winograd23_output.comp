#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Winograd F(2×2, 3×3), step 3 of 3: the output transform. One invocation per (2×2 output tile, output channel):
// the tile's 16 products m (from winograd_gemm.glsl, planes m[(position × outC + k) × tileStride + tile]) become
// Aᵀ m A, Aᵀ = [1 1 1 0; 0 1 -1 -1]; then the bias and the layer's activation, like the direct shaders, and the
// pixels inside the output are written.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Products { float m[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Bias { float bias[]; };
layout(std430, binding = 3) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int outC, outH, outW, tilesX, tilesY, tileStride;
    int hasBias, activation, activationCount;
} p;

#include "activation.glsl"

void main() {
    int tx = int(gl_GlobalInvocationID.x), ty = int(gl_GlobalInvocationID.y), k = int(gl_GlobalInvocationID.z);
    if (tx >= p.tilesX || ty >= p.tilesY || k >= p.outC) return;
    int tile = ty * p.tilesX + tx, step = p.outC * p.tileStride, base = k * p.tileStride + tile;
    float a[2][4];   // Aᵀ m
    [[unroll]] for (int s = 0; s < 4; s++) {
        float m0 = m[base + s * step], m1 = m[base + (4 + s) * step], m2 = m[base + (8 + s) * step], m3 = m[base + (12 + s) * step];
        a[0][s] = m0 + m1 + m2;
        a[1][s] = m1 - m2 - m3;
    }
    float b = p.hasBias != 0 ? bias[k] : 0.0;
    int ox = tx * 2, oy = ty * 2;
    [[unroll]] for (int r = 0; r < 2; r++) {
        if (oy + r >= p.outH) continue;
        int row = (k * p.outH + oy + r) * p.outW + ox;
        y[row] = sfloat(activate(a[r][0] + a[r][1] + a[r][2] + b, p.activation, p.activationCount, k));
        if (ox + 1 < p.outW) y[row + 1] = sfloat(activate(a[r][1] - a[r][2] - a[r][3] + b, p.activation, p.activationCount, k));
    }
}
