#version 450
#extension GL_GOOGLE_include_directive : require
// Reference convolution (ncnn Convolution): one invocation per output value, any kernel / stride / dilation /
// padding, optional bias, then the layer's activation (a fused PReLU included). Weights out × in × kh × kw.
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
    int padLeft, padTop;   // after resolving ncnn's -233/-234 on the CPU
    float padValue;
    int hasBias, activation, activationCount;
} p;

#include "activation.glsl"

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), oc = int(gl_GlobalInvocationID.z);
    if (ox >= p.outW || oy >= p.outH || oc >= p.outC) return;
    afloat sum = afloat(p.hasBias != 0 ? bias[oc] : 0.0);
    int area = p.kernelW * p.kernelH;
    int x0 = ox * p.strideW - p.padLeft, y0 = oy * p.strideH - p.padTop;
    for (int ic = 0; ic < p.inC; ic++) {
        int plane = ic * p.inH * p.inW, kernel = (oc * p.inC + ic) * area;
        for (int ky = 0; ky < p.kernelH; ky++) {
            int iy = y0 + ky * p.dilationH;
            bool rowInside = iy >= 0 && iy < p.inH;
            for (int kx = 0; kx < p.kernelW; kx++) {
                int ix = x0 + kx * p.dilationW;
                afloat v = rowInside && ix >= 0 && ix < p.inW ? afloat(x[plane + iy * p.inW + ix]) : afloat(p.padValue);
                sum += v * afloat(w[kernel + ky * p.kernelW + kx]);
            }
        }
    }
    y[(oc * p.outH + oy) * p.outW + ox] = sfloat(activate(float(sum), p.activation, p.activationCount, oc));
}
