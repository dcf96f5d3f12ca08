#version 450
#extension GL_GOOGLE_include_directive : require
// Converts a c × h × w tensor between the host's fp32 values and a blob's storage: `toBlob` 1 reads fp32 and writes
// the blob (the inputs' upload), 0 reads the blob and writes fp32 (the outputs' download). Only the `_fp16` variant
// is used: fp32 blobs are copied as they are.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) buffer Values { float values[]; };
layout(std430, binding = 1) buffer Blob { sfloat blob[]; };

layout(push_constant) uniform Parameters { int c, h, w, toBlob; } p;

void main() {
    int ix = int(gl_GlobalInvocationID.x), iy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ix >= p.w || iy >= p.h || q >= p.c) return;
    int i = (q * p.h + iy) * p.w + ix;
    if (p.toBlob != 0) blob[i] = sfloat(values[i]); else values[i] = float(blob[i]);
}
