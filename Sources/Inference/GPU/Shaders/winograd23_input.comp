#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Winograd F(2×2, 3×3), step 1 of 3 (GPUConvolution's fast path for 3×3 stride-1 layers with many channels; the
// direct shaders stay beside it): the input transform. One invocation per (2×2 output tile, input channel): the
// tile's 4×4 input patch (padding included) d becomes Bᵀ d B, 16 values written to position-major planes
// v[(position × inC + c) × tileStride + tile], so that step 2 (winograd_gemm.glsl) is 16 independent matrix products
// over contiguous tiles. Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] (adds only). The transformed planes are fp32
// whatever the blob storage.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Transformed { float v[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, tilesX, tilesY, tileStride, padLeft, padTop;
    float padValue;
} p;

void main() {
    int tx = int(gl_GlobalInvocationID.x), ty = int(gl_GlobalInvocationID.y), c = int(gl_GlobalInvocationID.z);
    if (tx >= p.tilesX || ty >= p.tilesY || c >= p.inC) return;
    int ix0 = tx * 2 - p.padLeft, iy0 = ty * 2 - p.padTop, plane = c * p.inH * p.inW;
    float d[4][4];
    [[unroll]] for (int r = 0; r < 4; r++) {
        int iy = iy0 + r;
        bool rowInside = iy >= 0 && iy < p.inH;
        [[unroll]] for (int s = 0; s < 4; s++) {
            int ix = ix0 + s;
            d[r][s] = rowInside && ix >= 0 && ix < p.inW ? float(x[plane + iy * p.inW + ix]) : p.padValue;
        }
    }
    float t[4][4];   // Bᵀ d
    [[unroll]] for (int s = 0; s < 4; s++) {
        t[0][s] = d[0][s] - d[2][s];
        t[1][s] = d[1][s] + d[2][s];
        t[2][s] = d[2][s] - d[1][s];
        t[3][s] = d[1][s] - d[3][s];
    }
    int tile = ty * p.tilesX + tx, step = p.inC * p.tileStride, base = c * p.tileStride + tile;
    [[unroll]] for (int r = 0; r < 4; r++) {   // (Bᵀ d) B, row r → positions 4r … 4r + 3
        v[base + (r * 4 + 0) * step] = t[r][0] - t[r][2];
        v[base + (r * 4 + 1) * step] = t[r][1] + t[r][2];
        v[base + (r * 4 + 2) * step] = t[r][2] - t[r][1];
        v[base + (r * 4 + 3) * step] = t[r][1] - t[r][3];
    }
}
