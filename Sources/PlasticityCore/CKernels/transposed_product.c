#include "plasticity_kernels.h"
#include "wide_clones.h"

#include <string.h>

// Four rows of out (sequences b) and `chunk` of its columns, summed over every row m of the
// weights in registers: each value of the weights is loaded once for four sequences, and out is
// written once. A group of four m is skipped only when it is zero for all four sequences; a
// sequence whose group is zero then adds products ±0 to a sum that is never -0 (it starts at +0,
// and a sum of finite values is -0 only if both terms are), which leaves it as it was — so each
// value's operations are those of the loop that skips per sequence, whatever the tiling.
static inline __attribute__((always_inline)) void tile(float *restrict out, const float *restrict weights, const float *restrict input, long sequences,
                                                      long rows, long columns, long first, long chunk) {
    float sums[4][16] = {{0}};
    long m = 0;
    for (; m + 4 <= rows; m += 4) {
        float s[4][4] = {{0}};
        int any = 0;
        for (long i = 0; i < sequences; i++) {
            for (long r = 0; r < 4; r++) {
                s[i][r] = input[i * rows + m + r];
                any |= s[i][r] != 0;
            }
        }
        if (!any) continue;
        const float *w0 = weights + m * columns + first, *w1 = w0 + columns, *w2 = w1 + columns, *w3 = w2 + columns;
        for (long i = 0; i < 4; i++) {
            for (long k = 0; k < chunk; k++) sums[i][k] += (s[i][0] * w0[k] + s[i][1] * w1[k]) + (s[i][2] * w2[k] + s[i][3] * w3[k]);
        }
    }
    for (; m < rows; m++) {
        float s[4] = {0};
        int any = 0;
        for (long i = 0; i < sequences; i++) {
            s[i] = input[i * rows + m];
            any |= s[i] != 0;
        }
        if (!any) continue;
        const float *w = weights + m * columns + first;
        for (long i = 0; i < 4; i++) {
            for (long k = 0; k < chunk; k++) sums[i][k] += s[i] * w[k];
        }
    }
    for (long i = 0; i < sequences; i++) memcpy(out + i * columns + first, sums[i], (size_t)chunk * sizeof(float));
}

PLASTICITY_WIDE_CLONES
static void transposed_product(float *restrict out, const float *restrict weights, const float *restrict input, long batch, long rows,
                               long columns) {
    for (long b = 0; b < batch; b += 4) {
        long sequences = batch - b < 4 ? batch - b : 4;
        float *block = out + b * columns;
        const float *x = input + b * rows;
        long first = 0;
        for (; first + 16 <= columns; first += 16) tile(block, weights, x, sequences, rows, columns, first, 16);
        if (first < columns) tile(block, weights, x, sequences, rows, columns, first, columns - first);
    }
}

// Exported without clones: wide_clones.h says why.
void plasticity_transposed_product_float(float *out, const float *weights, const float *input, long batch, long rows, long columns) {
    transposed_product(out, weights, input, batch, rows, columns);
}
