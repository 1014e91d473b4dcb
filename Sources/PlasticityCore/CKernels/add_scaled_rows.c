#include "plasticity_kernels.h"
#include "wide_clones.h"

// target[i·n + k…] += values[i] · row[k…] for `width` columns from k, for every position i: the
// row's block is loaded once for all positions (`PLASTICITY_IN_BLOCKS` gives a constant `width`).
static inline __attribute__((always_inline)) void add_block(float *restrict target, const float *restrict row, long n, long k, long width,
                                                           const float *values, const int32_t *positions, long count) {
    float block[64];
    for (long j = 0; j < width; j++) block[j] = row[k + j];
    for (long index = 0; index < count; index++) {
        long i = positions[index];
        float value = values[i];
        float *restrict out = target + i * n + k;
        for (long j = 0; j < width; j++) out[j] += value * block[j];
    }
}

PLASTICITY_WIDE_CLONES
static void add_scaled_rows(float *restrict target, const float *restrict row, long n, const float *values, const int32_t *positions,
                            long count) {
#define ADD_BLOCK(k, width) add_block(target, row, n, k, width, values, positions, count)
    PLASTICITY_IN_BLOCKS(n, ADD_BLOCK);
#undef ADD_BLOCK
}

// Exported without clones: wide_clones.h says why.
void plasticity_add_scaled_rows_float(float *target, const float *row, long n, const float *values, const int32_t *positions, long count) {
    add_scaled_rows(target, row, n, values, positions, count);
}
