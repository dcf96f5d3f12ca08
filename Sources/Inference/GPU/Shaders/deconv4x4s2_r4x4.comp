#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// deconv4x4s2_regs.glsl with 2 rows × 4 columns × 4 output channels per invocation.
#define PX 4
#define OCB 4
#include "deconv4x4s2_regs.glsl"
