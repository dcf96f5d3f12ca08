#version 450
#extension GL_GOOGLE_include_directive : require
// ncnn Eltwise on two same-shape blobs: 0 product a·b, 1 sum ca·a + cb·b, 2 max(a, b). More inputs chain: the
// result so far is `a` (coefficient 1) and the next input `b`, the order the CPU layer accumulates in.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters { int c, h, w, op; float ca, cb; } p;

void main() {
    int ix = int(gl_GlobalInvocationID.x), iy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ix >= p.w || iy >= p.h || q >= p.c) return;
    int i = (q * p.h + iy) * p.w + ix;
    float va = float(a[i]), vb = float(b[i]);
    float r = p.op == 0 ? va * vb : (p.op == 1 ? va * p.ca + vb * p.cb : max(va, vb));
    y[i] = sfloat(r);
}
