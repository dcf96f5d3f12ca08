#version 450
#extension GL_GOOGLE_include_directive : require
// ncnn Interp, bilinear (2 taps) and bicubic (4 taps): separable, with the coefficient tables the CPU layer computes
// (InterpLayer.linearCoefficients / cubicCoefficients: source offset and weights per output column and row), summed
// in the CPU's order (each source row across, then the rows down).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
// xofs[outW] | alpha[outW·taps] | yofs[outH] | beta[outH·taps]; offsets stored as floats (exact below 2^24).
layout(std430, binding = 2) readonly buffer Tables { float table[]; };

layout(push_constant) uniform Parameters { int c, inH, inW, outH, outW, taps; } p;

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ox >= p.outW || oy >= p.outH || q >= p.c) return;
    int alphaAt = p.outW, yofsAt = alphaAt + p.outW * p.taps, betaAt = yofsAt + p.outH;
    int sx = int(table[ox]), sy = int(table[yofsAt + oy]);
    int first = p.taps == 4 ? -1 : 0;
    float result = 0.0;
    for (int k = 0; k < p.taps; k++) {
        int row = (q * p.inH + sy + first + k) * p.inW + sx + first;
        float across = 0.0;
        for (int t = 0; t < p.taps; t++) across += float(x[row + t]) * table[alphaAt + ox * p.taps + t];
        result += across * table[betaAt + oy * p.taps + k];
    }
    y[(q * p.outH + oy) * p.outW + ox] = sfloat(result);
}
