#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Winograd F(4×4, 3×3), step 3 of 3: the output transform, as winograd23_output.comp but for 4×4 output tiles: the
// tile's 36 products m become Aᵀ m A, Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]; then the bias
// and the layer's activation, and the pixels inside the output are written.
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
    float a[4][6];   // Aᵀ m
    [[unroll]] for (int s = 0; s < 6; s++) {
        float m0 = m[base + s * step], m1 = m[base + (6 + s) * step], m2 = m[base + (12 + s) * step];
        float m3 = m[base + (18 + s) * step], m4 = m[base + (24 + s) * step], m5 = m[base + (30 + s) * step];
        a[0][s] = m0 + m1 + m2 + m3 + m4;
        a[1][s] = m1 - m2 + 2.0 * (m3 - m4);
        a[2][s] = m1 + m2 + 4.0 * (m3 + m4);
        a[3][s] = m1 - m2 + 8.0 * (m3 - m4) + m5;
    }
    float b = p.hasBias != 0 ? bias[k] : 0.0;
    int ox = tx * 4, oy = ty * 4;
    [[unroll]] for (int r = 0; r < 4; r++) {
        if (oy + r >= p.outH) continue;
        float o[4];
        o[0] = a[r][0] + a[r][1] + a[r][2] + a[r][3] + a[r][4];
        o[1] = a[r][1] - a[r][2] + 2.0 * (a[r][3] - a[r][4]);
        o[2] = a[r][1] + a[r][2] + 4.0 * (a[r][3] + a[r][4]);
        o[3] = a[r][1] - a[r][2] + 8.0 * (a[r][3] - a[r][4]) + a[r][5];
        int row = (k * p.outH + oy + r) * p.outW + ox;
        [[unroll]] for (int i = 0; i < 4; i++) {
            if (ox + i < p.outW) y[row + i] = sfloat(activate(o[i] + b, p.activation, p.activationCount, k));
        }
    }
}
