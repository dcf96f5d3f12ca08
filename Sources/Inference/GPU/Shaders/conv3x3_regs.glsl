// Register-blocked 3×3 convolution, included by conv3x3_r<PX>x<OCB>.comp (stride 1) and conv3x3s2_r<PX>x<OCB>.comp
// (stride 2) which define
//   PX     — output pixels per invocation, consecutive along x;
//   OCB    — output channels per invocation (a multiple of 4: OCB / 4 vec4 accumulators per pixel);
//   STRIDE — the stride along both axes (1 when not defined).
// No shared memory and no barrier: each invocation reads its (PX + 2) × 3 input window per input channel straight
// from the buffer (neighbouring invocations' windows overlap, so on a GPU those reads hit L1) and the channel
// block's 9 × OCB weights as vec4 at an index that is the same for the whole workgroup (one broadcast load on a GPU,
// one scalar load on lavapipe, whose divergence analysis sees it is uniform). Every input value then feeds OCB
// multiply-adds and every weight vec4 PX × 4. Weights are packed at load (GPUConvolution.packConv3x3):
// [output block of OCB][input channel][9 taps][OCB outputs], zero-filled beyond the real output channels.
#include "storage.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Weights { vec4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, outC, outH, outW, padLeft, padTop;
    float padValue;
    int hasBias, activation, activationCount;
} p;

#include "activation.glsl"

#ifndef STRIDE
#define STRIDE 1
#endif
const int V = OCB / 4, IW = (PX - 1) * STRIDE + 3;   // input values per row of an invocation's window

void main() {
    int ox0 = int(gl_GlobalInvocationID.x) * PX, oy = int(gl_GlobalInvocationID.y), block = int(gl_WorkGroupID.z);
    if (ox0 >= p.outW || oy >= p.outH) return;   // no barrier below, so leaving early is allowed
    avec4 acc[PX][V];
    [[unroll]] for (int i = 0; i < PX; i++) [[unroll]] for (int j = 0; j < V; j++) acc[i][j] = avec4(0.0);
    int ix0 = ox0 * STRIDE - p.padLeft, iy0 = oy * STRIDE - p.padTop;
    for (int c = 0; c < p.inC; c++) {
        int plane = c * p.inH * p.inW, wbase = ((block * p.inC + c) * 9) * V;
        [[unroll]] for (int ky = 0; ky < 3; ky++) {
            int iy = iy0 + ky;
            bool rowInside = iy >= 0 && iy < p.inH;
            afloat v[IW];
            [[unroll]] for (int i = 0; i < IW; i++) {
                int ix = ix0 + i;
                v[i] = rowInside && ix >= 0 && ix < p.inW ? afloat(x[plane + iy * p.inW + ix]) : afloat(p.padValue);
            }
            [[unroll]] for (int kx = 0; kx < 3; kx++) {
                [[unroll]] for (int j = 0; j < V; j++) {
                    avec4 wv = avec4(w[wbase + (ky * 3 + kx) * V + j]);
                    [[unroll]] for (int i = 0; i < PX; i++) acc[i][j] += v[i * STRIDE + kx] * wv;
                }
            }
        }
    }
    [[unroll]] for (int j = 0; j < V; j++) {
        [[unroll]] for (int k = 0; k < 4; k++) {
            int oc = block * OCB + j * 4 + k;
            if (oc >= p.outC) continue;
            float b = p.hasBias != 0 ? bias[oc] : 0.0;
            int row = (oc * p.outH + oy) * p.outW;
            [[unroll]] for (int i = 0; i < PX; i++) {
                if (ox0 + i < p.outW) y[row + ox0 + i] = sfloat(activate(float(acc[i][j][k]) + b, p.activation, p.activationCount, oc));
            }
        }
    }
}
