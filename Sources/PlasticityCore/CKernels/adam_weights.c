#include "plasticity_kernels.h"
#include "wide_clones.h"

// A square root that sets no errno, so that it vectorises (sqrt may call the library for a
// negative value); the same correctly rounded result.
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define PLASTICITY_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef PLASTICITY_SQRT
#include <math.h>
#define PLASTICITY_SQRT(x) sqrt(x)
#endif

PLASTICITY_WIDE_CLONES
static void adam_weights(float *restrict weights, const float *restrict means, const float *restrict variances, long count, double rate,
                         double correction1, double correction2, double epsilon, double decay) {
    for (long i = 0; i < count; i++) {
        double w = weights[i];
        weights[i] = (float)(w - rate * ((double)means[i] / correction1) / (PLASTICITY_SQRT((double)variances[i] / correction2) + epsilon) - rate * decay * w);
    }
}

// Exported without clones: wide_clones.h says why.
void plasticity_adam_weights_float(float *weights, const float *means, const float *variances, long count, double rate, double correction1,
                                   double correction2, double epsilon, double decay) {
    adam_weights(weights, means, variances, count, rate, correction1, correction2, epsilon, decay);
}
