#include "plasticity_kernels.h"
#include "wide_clones.h"

// Each case is the expression BuiltinOp.evaluate gives for Float, so every clone gives its bits
// (min and max as Swift.min and Swift.max choose: y < x ? y : x and y >= x ? y : x).
PLASTICITY_WIDE_CLONES
static void elementwise(int op, float *o, const float *a, const float *b, const float *c, long n) {
    switch (op) {
    case PLASTICITY_ADD: for (long i = 0; i < n; i++) o[i] = a[i] + b[i]; break;
    case PLASTICITY_SUBTRACT: for (long i = 0; i < n; i++) o[i] = a[i] - b[i]; break;
    case PLASTICITY_MULTIPLY: for (long i = 0; i < n; i++) o[i] = a[i] * b[i]; break;
    case PLASTICITY_DIVIDE: for (long i = 0; i < n; i++) o[i] = a[i] / b[i]; break;
    case PLASTICITY_MINIMUM: for (long i = 0; i < n; i++) o[i] = b[i] < a[i] ? b[i] : a[i]; break;
    case PLASTICITY_MAXIMUM: for (long i = 0; i < n; i++) o[i] = b[i] >= a[i] ? b[i] : a[i]; break;
    case PLASTICITY_LESS: for (long i = 0; i < n; i++) o[i] = a[i] < b[i] ? 1.0f : 0.0f; break;
    case PLASTICITY_LESS_OR_EQUAL: for (long i = 0; i < n; i++) o[i] = a[i] <= b[i] ? 1.0f : 0.0f; break;
    case PLASTICITY_GREATER: for (long i = 0; i < n; i++) o[i] = a[i] > b[i] ? 1.0f : 0.0f; break;
    case PLASTICITY_GREATER_OR_EQUAL: for (long i = 0; i < n; i++) o[i] = a[i] >= b[i] ? 1.0f : 0.0f; break;
    case PLASTICITY_NEGATE: for (long i = 0; i < n; i++) o[i] = -a[i]; break;
    case PLASTICITY_ABS: for (long i = 0; i < n; i++) o[i] = __builtin_fabsf(a[i]); break;
    case PLASTICITY_HEAVISIDE: for (long i = 0; i < n; i++) o[i] = a[i] > 0 ? 1.0f : 0.0f; break;
    case PLASTICITY_COPY: for (long i = 0; i < n; i++) o[i] = a[i]; break;
    case PLASTICITY_SELECT: for (long i = 0; i < n; i++) o[i] = a[i] != 0 ? b[i] : c[i]; break;
    }
}

// Exported without clones: wide_clones.h says why.
void plasticity_elementwise_float(int op, float *o, const float *a, const float *b, const float *c, long n) {
    elementwise(op, o, a, b, c, n);
}
