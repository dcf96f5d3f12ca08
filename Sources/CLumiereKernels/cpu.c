// Run-time CPU feature detection and OpenBLAS core selection.
#include "lumiere_kernels.h"

#include <stdlib.h>

int lk_best_isa(void) {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return LK_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return LK_ISA_AVX2;
#endif
    return LK_ISA_PORTABLE;
}

const char *lk_isa_name(int isa) {
    switch (isa) {
    case LK_ISA_AVX512: return "avx512";
    case LK_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}

int lk_prepare_openblas_environment(void) {
#if defined(__x86_64__) || defined(_M_X64)
    if (getenv("OPENBLAS_CORETYPE") != NULL) return 0;
    if (lk_best_isa() != LK_ISA_AVX512) return 0;
    return setenv("OPENBLAS_CORETYPE", "SkylakeX", 0) == 0 ? 1 : 0;
#else
    return 0;
#endif
}

int lk_atomic_fetch_add(int *counter, int value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}
