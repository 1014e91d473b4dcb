#include "plasticity_kernels.h"
#include "wide_clones.h"

// out[k..<k+width] += Σ over the positions of values[m] · weights[m·stride + k…], kept in registers
// from the first position to the last: every position adds to the same row of `out`, and
// storing and reloading it per position chains each addition to the last one through memory
// (a readout of 20 classes took twice as long that way). Each value still sums the positions in
// order. `width` is a constant wherever this is inlined (`PLASTICITY_BLOCKED_ROWS_KERNEL`), so
// `sum` lives in vector registers.
static inline __attribute__((always_inline)) void add_rows_in_registers(float *restrict out, const float *restrict weights, long n,
                                                                       long stride, long k, long width, const float *values,
                                                                       const int32_t *positions, long count) {
    float sum[64];
    for (long j = 0; j < width; j++) sum[j] = out[k + j];
    for (long index = 0; index < count; index++) {
        long m = positions[index];
        float value = values[m];
        const float *restrict row = weights + m * stride + k;
        for (long j = 0; j < width; j++) sum[j] += value * row[j];
    }
    for (long j = 0; j < width; j++) out[k + j] = sum[j];
}

PLASTICITY_BLOCKED_ROWS_KERNEL(plasticity_sparse_product_float, add_rows_in_registers)
