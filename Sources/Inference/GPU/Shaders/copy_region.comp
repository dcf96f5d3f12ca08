#version 450
#extension GL_GOOGLE_include_directive : require
// Copies a c × h × w region between two c × h × w blobs: output (dc + q, dh + y, dw + x) = input (sc + q, sh + y,
// sw + x). Crop (one region out of the input), Slice (one per output) and Concat (each input into its place in the
// output) are all this copy, with the offsets their CPU layers compute.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters {
    int c, h, w;          // the region
    int inH, inW;         // the input's plane
    int sc, sh, sw;       // where the region starts in the input
    int outH, outW;       // the output's plane
    int dc, dh, dw;       // where it goes in the output
} p;

void main() {
    int ix = int(gl_GlobalInvocationID.x), iy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ix >= p.w || iy >= p.h || q >= p.c) return;
    y[((p.dc + q) * p.outH + p.dh + iy) * p.outW + p.dw + ix] = x[((p.sc + q) * p.inH + p.sh + iy) * p.inW + p.sw + ix];
}
