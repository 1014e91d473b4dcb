#include "plasticity_kernels.h"

#include <string.h>

// The operations and their order are those of the Swift loop (which still serves Double), value
// for value, and no product is fused with its sum (an FMA rounds once, not twice): so every clone
// below gives the bits that loop gives, on any x86-64.
#pragma STDC FP_CONTRACT OFF

// The build targets every x86-64 (SSE2: four floats per instruction); this loop, the learning
// signal δ·W of every e-prop step, runs at the CPU's full width through a clone chosen when
// the library is loaded. Other architectures compile it once, for their own target.
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define PLASTICITY_WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef PLASTICITY_WIDE_CLONES
#define PLASTICITY_WIDE_CLONES
#endif

PLASTICITY_WIDE_CLONES
void plasticity_transposed_product_float(float *restrict out, const float *restrict weights, const float *restrict input, long batch, long rows,
                                         long columns) {
    memset(out, 0, (size_t)(batch * columns) * sizeof(float));
    // Blocks of columns small enough that the weights' block stays in L1 for every row b.
    long width = (16L << 10) / (rows > 0 ? rows * (long)sizeof(float) : 1);
    width = (width > 16 ? width : 16) & ~15L;
    for (long first = 0; first < columns; first += width) {
        long count = columns - first < width ? columns - first : width;
        for (long b = 0; b < batch; b++) {
            float *restrict o = out + b * columns + first;
            const float *x = input + b * rows;
            long m = 0;
            for (; m + 4 <= rows; m += 4) {
                float s0 = x[m], s1 = x[m + 1], s2 = x[m + 2], s3 = x[m + 3];
                if (s0 == 0 && s1 == 0 && s2 == 0 && s3 == 0) continue;
                const float *w0 = weights + m * columns + first, *w1 = w0 + columns, *w2 = w1 + columns, *w3 = w2 + columns;
                for (long k = 0; k < count; k++) o[k] += (s0 * w0[k] + s1 * w1[k]) + (s2 * w2[k] + s3 * w3[k]);
            }
            for (; m < rows; m++) {
                float s = x[m];
                if (s == 0) continue;
                const float *w = weights + m * columns + first;
                for (long k = 0; k < count; k++) o[k] += s * w[k];
            }
        }
    }
}
