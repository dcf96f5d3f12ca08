// OpenBLAS (CBLAS interface) for GEMM-based convolution.
#ifndef LUMIERE_COPENBLAS_SHIM_H
#define LUMIERE_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
