#version 450
#extension GL_GOOGLE_include_directive : require
// Reference transposed convolution (ncnn Deconvolution): each output value gathers the input values whose kernel
// footprint covers it. The full output is (w-1)·stride + extent + output_pad; (cutLeft, cutTop) is where the kept
// part starts in it. Weights in the CPU layer's column order: ((out·kh + ky)·kw + kx) × in.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Input { sfloat x[]; };
layout(std430, binding = 1) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 2) readonly buffer Weights { float w[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int inC, inH, inW, outC, outH, outW;
    int kernelW, kernelH, strideW, strideH, dilationW, dilationH;
    int cutLeft, cutTop;
    int hasBias, activation, activationCount;
} p;

#include "activation.glsl"

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), oc = int(gl_GlobalInvocationID.z);
    if (ox >= p.outW || oy >= p.outH || oc >= p.outC) return;
    afloat sum = afloat(p.hasBias != 0 ? bias[oc] : 0.0);
    int fx = ox + p.cutLeft, fy = oy + p.cutTop, plane = p.inH * p.inW;
    for (int ky = 0; ky < p.kernelH; ky++) {
        int ty = fy - ky * p.dilationH;
        if (ty < 0 || ty % p.strideH != 0) continue;
        int iy = ty / p.strideH;
        if (iy >= p.inH) continue;
        for (int kx = 0; kx < p.kernelW; kx++) {
            int tx = fx - kx * p.dilationW;
            if (tx < 0 || tx % p.strideW != 0) continue;
            int ix = tx / p.strideW;
            if (ix >= p.inW) continue;
            int column = ((oc * p.kernelH + ky) * p.kernelW + kx) * p.inC;
            for (int ic = 0; ic < p.inC; ic++) sum += afloat(x[ic * plane + iy * p.inW + ix]) * afloat(w[column + ic]);
        }
    }
    y[(oc * p.outH + oy) * p.outW + ox] = sfloat(activate(float(sum), p.activation, p.activationCount, oc));
}
