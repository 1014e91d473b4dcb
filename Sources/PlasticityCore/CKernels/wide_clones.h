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

#endif
