#version 450
#extension GL_GOOGLE_include_directive : require
// RIFE's convblock tail as one step (GPUScaleResidual): y = activation(a · b + r), the BinaryOp mul (a, b broadcast
// as binary_op.comp does), the BinaryOp add of the residual r (the output's shape) and the ReLU after it, which the
// graph runs as three layers. `precise` keeps the product and the sum two roundings, as the separate layers round
// them in fp32 (no fused multiply-add), so fp32 results are the unfused ones bit for bit; with fp16 blobs the two
// intermediate fp16 roundings are saved.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) readonly buffer R { sfloat res[]; };
layout(std430, binding = 3) writeonly buffer Output { sfloat y[]; };
layout(std430, binding = 4) readonly buffer Activation { float actParams[]; };

layout(push_constant) uniform Parameters {
    int ac, ah, aw, bc, bh, bw, oc, oh, ow, activation, activationCount;
} p;

#include "activation.glsl"

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ox >= p.ow || oy >= p.oh || q >= p.oc) return;
    float va = float(a[((p.ac == 1 ? 0 : q) * p.ah + (p.ah == 1 ? 0 : oy)) * p.aw + (p.aw == 1 ? 0 : ox)]);
    float vb = float(b[((p.bc == 1 ? 0 : q) * p.bh + (p.bh == 1 ? 0 : oy)) * p.bw + (p.bw == 1 ? 0 : ox)]);
    int i = (q * p.oh + oy) * p.ow + ox;
    precise float product = va * vb;
    precise float sum = product + float(res[i]);
    y[i] = sfloat(activate(sum, p.activation, p.activationCount, q));
}
