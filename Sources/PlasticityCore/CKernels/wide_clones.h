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

// Runs BLOCK(k, width) over the columns 0..<n in blocks of 64, 16, 4 and 1: `width` is a
// constant in each call, so the block's values stay in vector registers, and short rows (a
// readout's 20 classes) run as whole vectors rather than the remainder of a loop unrolled for
// long ones.
#define PLASTICITY_IN_BLOCKS(n, BLOCK)                                                                                     \
    do {                                                                                                                   \
        long column_ = 0;                                                                                                  \
        for (; column_ + 64 <= (n); column_ += 64) BLOCK(column_, 64);                                                     \
        for (; column_ + 16 <= (n); column_ += 16) BLOCK(column_, 16);                                                     \
        for (; column_ + 4 <= (n); column_ += 4) BLOCK(column_, 4);                                                        \
        for (; column_ < (n); column_++) BLOCK(column_, 1);                                                                \
    } while (0)

#endif
