#include "plasticity_kernels.h"
#include "wide_clones.h"

// target[i·stride + k…] += values[i] · row[k…] for `width` columns from k, for every position i: the
// row's block is loaded once for all positions (`PLASTICITY_BLOCKED_ROWS_KERNEL` gives a constant
// `width`).
static inline __attribute__((always_inline)) void add_block(float *restrict target, const float *restrict row, long n, long stride, long k,
                                                           long width, const float *values, const int32_t *positions, long count) {
    float block[64];
    for (long j = 0; j < width; j++) block[j] = row[k + j];
    for (long index = 0; index < count; index++) {
        long i = positions[index];
        float value = values[i];
        float *restrict out = target + i * stride + k;
        for (long j = 0; j < width; j++) out[j] += value * block[j];
    }
}

PLASTICITY_BLOCKED_ROWS_KERNEL(plasticity_add_scaled_rows_float, add_block)
