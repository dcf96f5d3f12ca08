#version 450
#extension GL_GOOGLE_include_directive : require
// ncnn PixelShuffle (depth to space): output (q, y·r + sy, x·r + sx) = input channel q·r² + sy·r + sx (mode 0,
// PyTorch's order) or (sy·r + sx)·outC + q (mode 1, DCR), at (y, x).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters { int inH, inW, outC, factor, mode; } p;

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    int r = p.factor, outW = p.inW * r, outH = p.inH * r;
    if (ox >= outW || oy >= outH || q >= p.outC) return;
    int sy = oy % r, sx = ox % r;
    int ic = p.mode == 0 ? q * r * r + sy * r + sx : (sy * r + sx) * p.outC + q;
    y[(q * outH + oy) * outW + ox] = x[(ic * p.inH + oy / r) * p.inW + ox / r];
}
