#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// 3×3 convolution (stride 1 or 2) for tiny outputs, the lanes across output channels: one invocation per output
// channel and PX consecutive output pixels (row-major over the plane). The tiled shaders put the lanes across pixels,
// so at RIFE's 1×1 … 4×4 convblock outputs (192 → 192 at 1×1) a 64-invocation workgroup had 1 … 4 busy lanes; here
// every lane works, the input value is the same for the whole workgroup (one scalar load, a broadcast on a GPU) and
// the weights of neighbouring lanes are neighbours in memory (packed at load, GPUConvolution.packLanes:
// [input channel][9 taps][output channel]). GPUConvolution.lanesMaxPixels is the measured rule for when it runs.
layout(local_size_x = 64, local_size_y = 1, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Weights { float w[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, outC, outH, outW, padLeft, padTop;
    float padValue;
    int hasBias, activation, activationCount, stride;
} p;

#include "activation.glsl"

const int PX = 4;

void main() {
    int oc = int(gl_GlobalInvocationID.x), first = int(gl_GlobalInvocationID.y) * PX, pixels = p.outH * p.outW;
    if (oc >= p.outC || first >= pixels) return;   // no barrier below, so leaving early is allowed
    // Each pixel's window origin in the input (pixels past the plane repeat the last one and are not written).
    int iy0[PX], ix0[PX];
    [[unroll]] for (int i = 0; i < PX; i++) {
        int q = min(first + i, pixels - 1);
        iy0[i] = (q / p.outW) * p.stride - p.padTop;
        ix0[i] = (q % p.outW) * p.stride - p.padLeft;
    }
    afloat acc[PX];
    [[unroll]] for (int i = 0; i < PX; i++) acc[i] = afloat(0.0);
    for (int c = 0; c < p.inC; c++) {
        int plane = c * p.inH * p.inW, wbase = c * 9 * p.outC + oc;
        [[unroll]] for (int k = 0; k < 9; k++) {
            afloat wv = afloat(w[wbase + k * p.outC]);
            [[unroll]] for (int i = 0; i < PX; i++) {
                int iy = iy0[i] + k / 3, ix = ix0[i] + k % 3;
                afloat v = iy >= 0 && iy < p.inH && ix >= 0 && ix < p.inW ? afloat(x[plane + iy * p.inW + ix]) : afloat(p.padValue);
                acc[i] += v * wv;
            }
        }
    }
    float b = p.hasBias != 0 ? bias[oc] : 0.0;
    [[unroll]] for (int i = 0; i < PX; i++) {
        if (first + i < pixels) y[oc * pixels + first + i] = sfloat(activate(float(acc[i]) + b, p.activation, p.activationCount, oc));
    }
}
