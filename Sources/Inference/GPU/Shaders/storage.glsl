// How blobs (the tensors between layers) are stored: fp32, or fp16 when the ShaderCompiler plugin builds a shader's
// `_fp16` variant (-DLUMIERE_FP16). Shaders declare blob buffers as `sfloat`, read them as float(x[i]) and write
// sfloat(v): arithmetic stays fp32 either way. Weights and tables stay fp32.
#ifdef LUMIERE_FP16
#extension GL_EXT_shader_16bit_storage : require
#define sfloat float16_t
#else
#define sfloat float
#endif
