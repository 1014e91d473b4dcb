// Small kernels of the core that plain Swift cannot express efficiently on every target.
#ifndef PLASTICITY_KERNELS_H
#define PLASTICITY_KERNELS_H

#include <stdint.h>

/// Writes the positions of the non-zero values of row[0..<count] to positions (ascending) and
/// returns how many there are. -0.0 counts as zero, NaN as non-zero.
long plasticity_find_nonzero_float(const float *row, long count, int32_t *positions);
long plasticity_find_nonzero_double(const double *row, long count, int32_t *positions);

#endif
