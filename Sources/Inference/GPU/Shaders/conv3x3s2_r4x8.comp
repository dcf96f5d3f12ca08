#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// conv3x3_regs.glsl with stride 2 (RIFE's downsampling layers), 4 pixels × 8 output channels per invocation.
#define PX 4
#define OCB 8
#define STRIDE 2
#include "conv3x3_regs.glsl"
