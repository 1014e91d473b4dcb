#include "plasticity_kernels.h"

#if defined(__SSE2__)
#include <emmintrin.h>

// Left-packing without branches: a compare of four (two) values gives a bit mask, a table gives
// the offsets of its set bits, and all four (two) candidate positions are stored at once while
// the count advances by the mask's population. A scan that branches per value, or per group
// of values, mispredicts at the unpredictable positions of spikes. A group starting at i has
// found ≤ i, so the store never passes the row's end.
static const int32_t set_bit_offsets[16][4] = {
    {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0}, {1, 2, 0, 0}, {0, 1, 2, 0},
    {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0}, {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3},
};
static const uint8_t set_bit_count[16] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4};
#endif

long plasticity_find_nonzero_float(const float *row, long count, int32_t *positions) {
    long found = 0, i = 0;
#if defined(__SSE2__)
    const __m128 zero = _mm_setzero_ps();
    for (; i + 4 <= count; i += 4) {
        int mask = _mm_movemask_ps(_mm_cmpneq_ps(_mm_loadu_ps(row + i), zero));
        __m128i offsets = _mm_loadu_si128((const __m128i *)set_bit_offsets[mask]);
        _mm_storeu_si128((__m128i *)(positions + found), _mm_add_epi32(offsets, _mm_set1_epi32((int32_t)i)));
        found += set_bit_count[mask];
    }
#endif
    for (; i < count; i++) {
        positions[found] = (int32_t)i;
        found += row[i] != 0.0f;
    }
    return found;
}

long plasticity_find_nonzero_double(const double *row, long count, int32_t *positions) {
    long found = 0, i = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    for (; i + 2 <= count; i += 2) {
        int mask = _mm_movemask_pd(_mm_cmpneq_pd(_mm_loadu_pd(row + i), zero));
        __m128i offsets = _mm_loadl_epi64((const __m128i *)set_bit_offsets[mask]);
        _mm_storel_epi64((__m128i *)(positions + found), _mm_add_epi32(offsets, _mm_set1_epi32((int32_t)i)));
        found += set_bit_count[mask];
    }
#endif
    for (; i < count; i++) {
        positions[found] = (int32_t)i;
        found += row[i] != 0.0;
    }
    return found;
}
