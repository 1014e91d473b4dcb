// What the kernels that run at the CPU's full vector width share.
#ifndef PLASTICITY_WIDE_CLONES_H
#define PLASTICITY_WIDE_CLONES_H

// Each kernel's operations and their order are those of the Swift loop it replaces (which still
// serves Double), value for value, and no product is fused with its sum (an FMA rounds once, not
// twice): so every clone gives the bits that loop gives, on any x86-64.
#pragma STDC FP_CONTRACT OFF

// The build targets every x86-64 (SSE2: four floats per instruction); a kernel marked with this
// runs at the CPU's full width through a clone chosen when the library is loaded. Other
// architectures compile it once, for their own target.
#if defined(__x86_64__) && defined(__linux__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define PLASTICITY_WIDE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef PLASTICITY_WIDE_CLONES
#define PLASTICITY_WIDE_CLONES
#endif

// A kernel with clones is static, and the library exports a plain function that calls it, so
// that the exported function's address is an ordinary one: the Swift optimiser merges look-alike
// callers into one that takes the callee as a pointer, and the address it was handed for a
// function with clones (an ifunc) of this same library was null — the release build crashed
// where a caller's scratch went on the heap (LIF, N = 1024, BPTT).

// Defines `exported`(out, matrix, n, stride, values, positions, count), cloned behind a plain
// exported function (as above): BLOCK(out, matrix, n, stride, k, width, values, positions, count)
// over the columns 0..<n in blocks of 64, 16, 4 and 1, the strided rows (of `matrix` or of `out`,
// as the kernel says) `stride` apart. `width` is a constant in each call, so a block's values
// stay in vector registers, and short rows (a readout's 20 classes) run as whole vectors rather
// than the remainder of a loop unrolled for long ones. `out` and `matrix` do not overlap.
#define PLASTICITY_BLOCKED_ROWS_KERNEL(exported, BLOCK)                                                                    \
    PLASTICITY_WIDE_CLONES                                                                                                 \
    static void exported##_clones(float *restrict out, const float *restrict matrix, long n, long stride,                  \
                                  const float *values, const int32_t *positions, long count) {                             \
        long k = 0;                                                                                                        \
        for (; k + 64 <= n; k += 64) BLOCK(out, matrix, n, stride, k, 64, values, positions, count);                      \
        for (; k + 16 <= n; k += 16) BLOCK(out, matrix, n, stride, k, 16, values, positions, count);                      \
        for (; k + 4 <= n; k += 4) BLOCK(out, matrix, n, stride, k, 4, values, positions, count);                         \
        for (; k < n; k++) BLOCK(out, matrix, n, stride, k, 1, values, positions, count);                                  \
    }                                                                                                                      \
    void exported(float *out, const float *matrix, long n, long stride, const float *values, const int32_t *positions,     \
                  long count) {                                                                                            \
        exported##_clones(out, matrix, n, stride, values, positions, count);                                               \
    }

#endif
