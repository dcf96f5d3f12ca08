#version 450
#extension GL_GOOGLE_include_directive : require
// RIFE's rife.Warp: output (c, y, x) samples the image bilinearly at (x + dx, y + dy), flow channel 0 = dx, 1 = dy,
// all four taps clamped to the image. The same arithmetic as the CPU layer (CLumiereKernels/rife_warp.c): a NaN flow
// is no motion, the source coordinate is clamped to [-1, size] first, weights (1-a)(1-b), a(1-b), (1-a)b, ab.
layout(local_size_x = 8, local_size_y = 8, local_size_z = 1) in;

#include "storage.glsl"

layout(std430, binding = 0) readonly buffer Image { sfloat image[]; };
layout(std430, binding = 1) readonly buffer Flow { sfloat flow[]; };
layout(std430, binding = 2) writeonly buffer Output { sfloat y[]; };

layout(push_constant) uniform Parameters { int c, h, w; } p;

float safeCoordinate(float s, int own, int size) {
    return isnan(s) ? float(own) : clamp(s, -1.0, float(size));
}

void main() {
    int ix = int(gl_GlobalInvocationID.x), iy = int(gl_GlobalInvocationID.y), q = int(gl_GlobalInvocationID.z);
    if (ix >= p.w || iy >= p.h || q >= p.c) return;
    int plane = p.w * p.h, i = iy * p.w + ix;
    float sx = safeCoordinate(float(ix) + float(flow[i]), ix, p.w);
    float sy = safeCoordinate(float(iy) + float(flow[plane + i]), iy, p.h);
    float fx = floor(sx), fy = floor(sy), a = sx - fx, b = sy - fy;
    int x0 = clamp(int(fx), 0, p.w - 1), x1 = clamp(int(fx) + 1, 0, p.w - 1);
    int y0 = clamp(int(fy), 0, p.h - 1), y1 = clamp(int(fy) + 1, 0, p.h - 1);
    int base = q * plane;
    float v = float(image[base + y0 * p.w + x0]) * ((1.0 - a) * (1.0 - b)) + float(image[base + y0 * p.w + x1]) * (a * (1.0 - b))
            + float(image[base + y1 * p.w + x0]) * ((1.0 - a) * b) + float(image[base + y1 * p.w + x1]) * (a * b);
    y[(q * p.h + iy) * p.w + ix] = sfloat(v);
}
