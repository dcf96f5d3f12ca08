#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// winograd_gemm.glsl with 8 tiles × 4 output channels per invocation.
#define TP 8
#define KB 4
#include "winograd_gemm.glsl"
