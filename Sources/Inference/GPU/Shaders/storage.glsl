// How blobs (the tensors between layers) are stored, and what the convolutions multiply-add in; the ShaderCompiler
// plugin builds three variants of every shader:
//   name        fp32 blobs, fp32 arithmetic
//   name_fp16   fp16 blobs (-DLUMIERE_FP16), fp32 arithmetic
//   name_fp16a  fp16 blobs, fp16 multiply-adds in the convolutions (-DLUMIERE_FP16_ARITHMETIC; devices with
//               shaderFloat16 only)
// Shaders declare blob buffers as `sfloat`, read them as float(x[i]) (or afloat(x[i]) in a convolution's loop) and
// write sfloat(v). Weights and tables stay fp32 in the buffers (converted where the loop reads them).
#ifdef LUMIERE_FP16
#extension GL_EXT_shader_16bit_storage : require
#define sfloat float16_t
#else
#define sfloat float
#endif

#ifdef LUMIERE_FP16_ARITHMETIC
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define afloat float16_t
#define avec4 f16vec4
#else
#define afloat float
#define avec4 vec4
#endif
