#include "plasticity_kernels.h"
#include "wide_clones.h"

PLASTICITY_WIDE_CLONES
static void multiply_add(float *out, const float *a, const float *b, long n) {
    for (long i = 0; i < n; i++) out[i] += a[i] * b[i];
}

// Exported without clones: wide_clones.h says why.
void plasticity_multiply_add_float(float *out, const float *a, const float *b, long n) {
    multiply_add(out, a, b, n);
}
