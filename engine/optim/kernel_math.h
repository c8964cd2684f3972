// What the CPU kernels (stats_kernel.cpp, adamw_kernel.cpp) share: the target clones and
// the scalar math they vectorize. Torch-free.
#pragma once

#include <cstdint>
#include <type_traits>

// Compiled for AVX-512, AVX2 with FMA ("arch=haswell": plain "avx2" has no FMA, and an
// fma there would become a library call per element) and baseline x86-64; the loader
// picks one, as ATen's own kernels dispatch on the CPU's capability. (The functions need
// external linkage: target_clones resolves through an ifunc.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MAW_TARGET_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define MAW_TARGET_CLONES
#endif

namespace maw::optim::kernel {

// Sums are accumulated per block of kBlock elements in kLanes independent lanes (64: four
// AVX-512 accumulators per sum, so the fma latency does not bound the loop), lane 0
// taking a block's tail, then reduced lane by lane and block by block in order. Every
// kernel that sums (stats_kernel.cpp, adamw_kernel.cpp) uses these, so their sums agree
// to the bit and do not depend on the thread count.
constexpr int64_t kBlock = 4096;
constexpr int kLanes = 64;

// Builtins, not std::fma / std::sqrt: those are out-of-line functions compiled for the
// baseline target, which a clone would call per element instead of vectorizing.
template <typename T>
__attribute__((always_inline)) inline T fma(T a, T b, T c) {
  if constexpr (std::is_same_v<T, float>)
    return __builtin_fmaf(a, b, c);
  else
    return __builtin_fma(a, b, c);
}

template <typename T>
__attribute__((always_inline)) inline T sqrt(T x) {  // needs -fno-math-errno to vectorize
  if constexpr (std::is_same_v<T, float>)
    return __builtin_sqrtf(x);
  else
    return __builtin_sqrt(x);
}

}  // namespace maw::optim::kernel
