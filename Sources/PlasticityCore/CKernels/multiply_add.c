#include "plasticity_kernels.h"
#include "wide_clones.h"

PLASTICITY_WIDE_CLONES
void plasticity_multiply_add_float(float *out, const float *a, const float *b, long n) {
    for (long i = 0; i < n; i++) out[i] += a[i] * b[i];
}
