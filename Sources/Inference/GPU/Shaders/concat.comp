#version 450
#extension GL_GOOGLE_include_directive : require
// Concat of up to 7 blobs in one dispatch (GPUConcat; more inputs go 7 at a time, each group a part of the output
// from `start` along the axis): each value of the part finds its input by its coordinate along the axis (`ends`: each
// input's end along it, cumulative) and is copied from it.
// One dispatch instead of one copy_region dispatch per input: on lavapipe a dispatch costs about a millisecond of
// device time whatever its size, and RIFE v4.25 concatenates 43 blobs in 10 Concats, 7 at most (8 bindings: CommandRecorder's
// descriptor pools hold 8 per set) (docs/engine.md).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer I0 { sfloat x0[]; };
layout(std430, binding = 1) readonly buffer I1 { sfloat x1[]; };
layout(std430, binding = 2) readonly buffer I2 { sfloat x2[]; };
layout(std430, binding = 3) readonly buffer I3 { sfloat x3[]; };
layout(std430, binding = 4) readonly buffer I4 { sfloat x4[]; };
layout(std430, binding = 5) readonly buffer I5 { sfloat x5[]; };
layout(std430, binding = 6) readonly buffer I6 { sfloat x6[]; };
layout(std430, binding = 7) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters {
    int c, h, w;             // the part of the output these inputs fill
    int outH, outW;          // the output's plane
    int axis, start, count;  // axis 0 channels, 1 rows, 2 columns; where the part starts along it; inputs (1 … 7)
    int ends[7];             // input k covers [ends[k − 1], ends[k]) of the part along the axis (ends[−1] = 0)
} p;

sfloat load(int k, int i) {
    switch (k) {
    case 0: return x0[i];
    case 1: return x1[i];
    case 2: return x2[i];
    case 3: return x3[i];
    case 4: return x4[i];
    case 5: return x5[i];
    default: return x6[i];
    }
}

void main() {
    int x = int(gl_GlobalInvocationID.x), yy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (x >= p.w || yy >= p.h || q >= p.c) return;
    int v = p.axis == 0 ? q : (p.axis == 1 ? yy : x), k = 0;
    while (k < p.count - 1 && v >= p.ends[k]) k++;
    int first = k == 0 ? 0 : p.ends[k - 1], extent = p.ends[k] - first;
    // In the input: the part's coordinates and shape with the axis' own; in the output: shifted by `start`.
    int ic = q, iy = yy, ix = x, ih = p.h, iw = p.w, oc = q, oy = yy, ox = x;
    if (p.axis == 0) { ic = v - first; oc = q + p.start; }
    else if (p.axis == 1) { iy = v - first; ih = extent; oy = yy + p.start; }
    else { ix = v - first; iw = extent; ox = x + p.start; }
    y[(oc * p.outH + oy) * p.outW + ox] = load(k, (ic * ih + iy) * iw + ix);
}
