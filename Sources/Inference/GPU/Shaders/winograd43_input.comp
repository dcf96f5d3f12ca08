#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Winograd F(4×4, 3×3), step 1 of 3: the input transform, as winograd23_input.comp but for 4×4 output tiles: the
// tile's 6×6 input patch (padding included) d becomes Bᵀ d B, 36 values written to position-major planes
// v[(position × inC + c) × tileStride + tile]. Bᵀ (Lavin & Gray 2015, points 0, ±1, ±2):
//   [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1].
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
    int ix0 = tx * 4 - p.padLeft, iy0 = ty * 4 - p.padTop, plane = c * p.inH * p.inW;
    float t[6][6];   // Bᵀ d, computed column by column
    [[unroll]] for (int s = 0; s < 6; s++) {
        int ix = ix0 + s;
        bool colInside = ix >= 0 && ix < p.inW;
        float d[6];
        [[unroll]] for (int r = 0; r < 6; r++) {
            int iy = iy0 + r;
            d[r] = colInside && iy >= 0 && iy < p.inH ? float(x[plane + iy * p.inW + ix]) : p.padValue;
        }
        t[0][s] = 4.0 * d[0] - 5.0 * d[2] + d[4];
        t[1][s] = -4.0 * (d[1] + d[2]) + d[3] + d[4];
        t[2][s] = 4.0 * (d[1] - d[2]) - d[3] + d[4];
        t[3][s] = 2.0 * (d[3] - d[1]) - d[2] + d[4];
        t[4][s] = 2.0 * (d[1] - d[3]) - d[2] + d[4];
        t[5][s] = 4.0 * d[1] - 5.0 * d[3] + d[5];
    }
    int tile = ty * p.tilesX + tx, step = p.inC * p.tileStride, base = c * p.tileStride + tile;
    [[unroll]] for (int r = 0; r < 6; r++) {   // (Bᵀ d) B, row r → positions 6r … 6r + 5
        v[base + (r * 6 + 0) * step] = 4.0 * t[r][0] - 5.0 * t[r][2] + t[r][4];
        v[base + (r * 6 + 1) * step] = -4.0 * (t[r][1] + t[r][2]) + t[r][3] + t[r][4];
        v[base + (r * 6 + 2) * step] = 4.0 * (t[r][1] - t[r][2]) - t[r][3] + t[r][4];
        v[base + (r * 6 + 3) * step] = 2.0 * (t[r][3] - t[r][1]) - t[r][2] + t[r][4];
        v[base + (r * 6 + 4) * step] = 2.0 * (t[r][1] - t[r][3]) - t[r][2] + t[r][4];
        v[base + (r * 6 + 5) * step] = 4.0 * t[r][1] - 5.0 * t[r][3] + t[r][5];
    }
}
