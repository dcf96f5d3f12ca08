#version 450
#extension GL_GOOGLE_include_directive : require
// ncnn Interp, nearest: source index ⌊x · ws⌋ (clamped to the last), ws = 1/scale or w/outw, in fp32 as the CPU does.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters { int c, inH, inW, outH, outW; float hs, ws; } p;

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ox >= p.outW || oy >= p.outH || q >= p.c) return;
    int sx = min(int(float(ox) * p.ws), p.inW - 1), sy = min(int(float(oy) * p.hs), p.inH - 1);
    y[(q * p.outH + oy) * p.outW + ox] = x[(q * p.inH + sy) * p.inW + sx];
}
