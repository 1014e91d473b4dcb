#include "plasticity_kernels.h"
#include "wide_clones.h"

PLASTICITY_WIDE_CLONES
void plasticity_sparse_product_float(float *restrict out, const float *restrict weights, long n, const float *values, const int32_t *positions,
                                     long count) {
    for (long index = 0; index < count; index++) {
        long m = positions[index];
        float value = values[m];
        const float *restrict row = weights + m * n;
        for (long k = 0; k < n; k++) out[k] += value * row[k];
    }
}
