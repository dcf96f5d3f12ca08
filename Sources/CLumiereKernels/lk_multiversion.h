// Compiles the kernel body named by LK_BODY once per instruction set: NAME_avx512 and NAME_avx2 on x86-64
// (function target attributes; the dispatcher picks one at run time from lk_cpu_isa) and NAME_portable everywhere.
// Use:  #define LK_BODY "xyz_body.h"  then  #include "lk_multiversion.h".  Defines LK_HAVE_X86 on x86-64.
// No include guard: it is meant to expand once per kernel file.
#if defined(__x86_64__) || defined(_M_X64)
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"))), apply_to = function)
#define LK_FN(name) name##_avx512
#include LK_BODY
#undef LK_FN
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define LK_FN(name) name##_avx2
#include LK_BODY
#undef LK_FN
#pragma clang attribute pop
#ifndef LK_HAVE_X86
#define LK_HAVE_X86 1
#endif
#endif

#define LK_FN(name) name##_portable
#include LK_BODY
#undef LK_FN
#undef LK_BODY
