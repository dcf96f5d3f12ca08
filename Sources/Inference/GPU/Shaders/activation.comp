#version 450
#extension GL_GOOGLE_include_directive : require
// Standalone ReLU / LeakyReLU / PReLU (and the other activation codes) when not fused into a convolution.
// The tensor is c × h × w; `groupAxis` says what a PReLU slope is per: 0 channel (3-D), 1 row (2-D), 2 value (1-D).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int c, h, w, activation, activationCount, groupAxis;
} p;

#include "activation.glsl"

void main() {
    int ix = int(gl_GlobalInvocationID.x), iy = int(gl_GlobalInvocationID.y), ic = int(gl_GlobalInvocationID.z);
    if (ix >= p.w || iy >= p.h || ic >= p.c) return;
    int i = (ic * p.h + iy) * p.w + ix;
    int group = p.groupAxis == 0 ? ic : (p.groupAxis == 1 ? iy : ix);
    y[i] = sfloat(activate(float(x[i]), p.activation, p.activationCount, group));
}
