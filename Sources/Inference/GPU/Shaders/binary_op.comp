#version 450
#extension GL_GOOGLE_include_directive : require
// ncnn BinaryOp: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 6 pow, 7 rsub, 8 rdiv, 9 rpow, over two c × h × w
// operands where each extent equals the output's or is 1 (broadcast), or with a scalar second operand (withScalar).
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer A { sfloat a[]; };
layout(std430, binding = 1) readonly buffer B { sfloat b[]; };
layout(std430, binding = 2) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters {
    int ac, ah, aw, bc, bh, bw, oc, oh, ow, op, withScalar;
    float scalar;
} p;

float apply(float x, float z) {
    switch (p.op) {
    case 0: return x + z;
    case 1: return x - z;
    case 2: return x * z;
    case 3: return x / z;
    case 4: return max(x, z);
    case 5: return min(x, z);
    case 6: return pow(x, z);
    case 7: return z - x;
    case 8: return z / x;
    case 9: return pow(z, x);
    default: return 0.0;
    }
}

void main() {
    int ox = int(gl_GlobalInvocationID.x), oy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ox >= p.ow || oy >= p.oh || q >= p.oc) return;
    float va = float(a[((p.ac == 1 ? 0 : q) * p.ah + (p.ah == 1 ? 0 : oy)) * p.aw + (p.aw == 1 ? 0 : ox)]);
    float vb = p.withScalar != 0 ? p.scalar : float(b[((p.bc == 1 ? 0 : q) * p.bh + (p.bh == 1 ? 0 : oy)) * p.bw + (p.bw == 1 ? 0 : ox)]);
    y[(q * p.oh + oy) * p.ow + ox] = sfloat(apply(va, vb));
}
