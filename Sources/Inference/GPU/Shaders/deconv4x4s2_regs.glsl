// Register-blocked 4×4 stride-2 transposed convolution (RIFE's and waifu2x's Deconvolution), included by
// deconv4x4s2_r<PX>x<OCB>.comp which define
//   PX  — output columns per invocation (even), OCB — output channels per invocation (a multiple of 4).
// An invocation computes 2 rows × PX columns of the *full* (uncut) output, starting at an even row F and an even
// column E, for OCB channels. With stride 2 and a 4-tap kernel each full output (fy, fx) sums the 2 × 2 taps
// ky = (fy & 1) + 2t, kx = (fx & 1) + 2s at input (fy / 2 − t, fx / 2 − s), t, s ∈ {0, 1}: the four output phases are
// four stride-1 2×2 convolutions of the same input. Both rows F, F + 1 read input rows F/2 − 1 and F/2, and the PX
// columns read the PX/2 + 1 input columns from E/2 − 1, so per input channel an invocation loads 2 × (PX/2 + 1)
// values and all 16 × OCB weights (as vec4, at a workgroup-uniform index as in conv3x3_regs.glsl) for 8 × PX × OCB
// multiply-adds — against the reference deconvolution.comp, one output per invocation, which scans all 16 taps and
// reads a weight per multiply-add at an index that differs between neighbouring outputs. Full rows and columns
// outside the kept (cut) output are computed and not written; the grid starts at (cutTop & ~1, cutLeft & ~1).
// Weights packed at load (GPUDeconvolution.packWeights): [output block of OCB][input channel][16 taps ky·4 + kx]
// [OCB outputs], zero-filled beyond the real output channels.
#include "storage.glsl"

layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Weights { vec4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, outC, outH, outW, cutLeft, cutTop;
    int hasBias, activation, activationCount;
} p;

#include "activation.glsl"

const int V = OCB / 4, IW = PX / 2 + 1;   // vec4 accumulators per pixel; input columns per invocation

void main() {
    int e = (p.cutLeft & ~1) + int(gl_GlobalInvocationID.x) * PX;   // first full column
    int f = (p.cutTop & ~1) + int(gl_GlobalInvocationID.y) * 2;     // first full row
    int block = int(gl_WorkGroupID.z);
    if (e - p.cutLeft >= p.outW || f - p.cutTop >= p.outH) return;  // no barrier below, so leaving early is allowed
    avec4 acc[2][PX][V];
    [[unroll]] for (int r = 0; r < 2; r++) [[unroll]] for (int i = 0; i < PX; i++) [[unroll]] for (int j = 0; j < V; j++) acc[r][i][j] = avec4(0.0);
    int iy0 = f / 2 - 1, ix0 = e / 2 - 1;   // window: input rows iy0, iy0 + 1 (t = 1, 0); columns ix0 … ix0 + IW − 1
    for (int c = 0; c < p.inC; c++) {
        int plane = c * p.inH * p.inW, wbase = (block * p.inC + c) * 16 * V;
        [[unroll]] for (int t = 0; t < 2; t++) {
            int iy = iy0 + 1 - t;
            bool rowInside = iy >= 0 && iy < p.inH;
            afloat v[IW];
            [[unroll]] for (int q = 0; q < IW; q++) {
                int ix = ix0 + q;
                v[q] = rowInside && ix >= 0 && ix < p.inW ? afloat(x[plane + iy * p.inW + ix]) : afloat(0.0);
            }
            [[unroll]] for (int r = 0; r < 2; r++) {
                [[unroll]] for (int kx = 0; kx < 4; kx++) {
                    [[unroll]] for (int j = 0; j < V; j++) {
                        avec4 wv = avec4(w[wbase + ((r + 2 * t) * 4 + kx) * V + j]);
                        // Columns of kx's parity: input column (e + i) / 2 − kx / 2, window index i / 2 − kx / 2 + 1.
                        // (Constant loop bounds and a test, not `i = kx & 1; i += 2`: Mesa unrolls the innermost loop
                        // first, and a bound it cannot see yet left the arrays in scratch memory, 4–10× slower.)
                        [[unroll]] for (int i = 0; i < PX; i++) {
                            if ((i & 1) == (kx & 1)) acc[r][i][j] += v[(i >> 1) - (kx >> 1) + 1] * wv;
                        }
                    }
                }
            }
        }
    }
    [[unroll]] for (int j = 0; j < V; j++) {
        [[unroll]] for (int k = 0; k < 4; k++) {
            int oc = block * OCB + j * 4 + k;
            if (oc >= p.outC) continue;
            float b = p.hasBias != 0 ? bias[oc] : 0.0;
            [[unroll]] for (int r = 0; r < 2; r++) {
                int oy = f + r - p.cutTop;
                if (oy < 0 || oy >= p.outH) continue;
                int row = (oc * p.outH + oy) * p.outW;
                [[unroll]] for (int i = 0; i < PX; i++) {
                    int ox = e + i - p.cutLeft;
                    if (ox >= 0 && ox < p.outW) y[row + ox] = sfloat(activate(float(acc[r][i][j][k]) + b, p.activation, p.activationCount, oc));
                }
            }
        }
    }
}
