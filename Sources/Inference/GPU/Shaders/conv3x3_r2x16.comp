#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// conv3x3_regs.glsl with 2 pixels × 16 output channels per invocation.
#define PX 2
#define OCB 16
#include "conv3x3_regs.glsl"
