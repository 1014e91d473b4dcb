// Small kernels of the core that plain Swift cannot express efficiently on every target.
#ifndef PLASTICITY_KERNELS_H
#define PLASTICITY_KERNELS_H

#include <stdint.h>

/// Writes the positions of the non-zero values of row[0..<count] to positions (ascending) and
/// returns how many there are. -0.0 counts as zero, NaN as non-zero.
long plasticity_find_nonzero_float(const float *row, long count, int32_t *positions);
long plasticity_find_nonzero_double(const double *row, long count, int32_t *positions);

/// out[b][k] = Σ_m input[b][m] · weights[m][k] (out B×K, weights M×K, input B×M, all row-major):
/// LinearAlgebra.transposedProduct for Float, in the same order of operations.
void plasticity_transposed_product_float(float *out, const float *weights, const float *input, long batch, long rows, long columns);

/// For each of the `count` positions i: target[i·stride + j] += values[i] · row[j] for j < n (the
/// rows of target do not overlap `row`): rows added per non-zero value for Float
/// (LinearAlgebra.accumulateSparseOuterProducts: e-prop's and the readout's gradients, BPTT's).
void plasticity_add_scaled_rows_float(float *target, const float *row, long n, long stride, const float *values, const int32_t *positions,
                                      long count);

/// For each of the `count` positions m: out[k] += values[m] · weights[m·stride + k] for k < n
/// (`out` does not overlap `weights`): one sequence's share of a product of weights with
/// mostly-zero inputs (LinearAlgebra.accumulateSparseProduct for Float, in the same order of
/// operations).
void plasticity_sparse_product_float(float *out, const float *weights, long n, long stride, const float *values, const int32_t *positions,
                                     long count);

/// out[i] += a[i] · b[i] for i < n: LinearAlgebra.accumulateProducts for Float.
void plasticity_multiply_add_float(float *out, const float *a, const float *b, long n);

/// The exact element-wise operations of a neuron's step program (BuiltinOp), for Float.
enum plasticity_elementwise_op {
    PLASTICITY_ADD, PLASTICITY_SUBTRACT, PLASTICITY_MULTIPLY, PLASTICITY_DIVIDE, PLASTICITY_MINIMUM, PLASTICITY_MAXIMUM,
    PLASTICITY_LESS, PLASTICITY_LESS_OR_EQUAL, PLASTICITY_GREATER, PLASTICITY_GREATER_OR_EQUAL,
    PLASTICITY_NEGATE, PLASTICITY_ABS, PLASTICITY_HEAVISIDE, PLASTICITY_COPY, PLASTICITY_SELECT
};

/// o[i] = op(a[i], b[i], c[i]) for i < n, as BuiltinOp.evaluate computes it for Float (arguments
/// the operation does not take are not read; `o` may be one of them).
void plasticity_elementwise_float(int op, float *o, const float *a, const float *b, const float *c, long n);

/// Adam's step on Float weights from its updated moments, in Double, as `Adam.update` computes
/// it: w − rate·(m/c1)/(√(v/c2) + ε) − rate·decay·w.
void plasticity_adam_weights_float(float *weights, const float *means, const float *variances, long count, double rate, double correction1,
                                   double correction2, double epsilon, double decay);

#endif
