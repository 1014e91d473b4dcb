#include "plasticity_kernels.h"
#include "wide_clones.h"

PLASTICITY_WIDE_CLONES
void plasticity_add_scaled_rows_float(float *restrict target, const float *restrict row, long n, const float *values, const int32_t *positions,
                                      long count) {
    for (long index = 0; index < count; index++) {
        long i = positions[index];
        float value = values[i];
        float *restrict out = target + i * n;
        for (long j = 0; j < n; j++) out[j] += value * row[j];
    }
}
