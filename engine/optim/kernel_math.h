// What the CPU kernels (stats_kernel.cpp, adamw_kernel.cpp) share: the per-ISA variants
// and the scalar math they vectorize. Torch-free.
#pragma once

#include <cstdint>
#include <type_traits>

// Each kernel is compiled once per instruction set and chosen at run time by the CPU's
// features (cpu_isa.h). MAW_FOR_EACH_ISA(X) expands X(name, attribute) per ISA: a kernel
// file defines its entry points in a namespace isa_<name> with that attribute, and its
// dispatch table takes them in Isa order (kBaseline, kAvx2Fma, kAvx512). AVX2 always with
// FMA: without it an fma becomes a library call per element. (Separate namespaces, not
// one name with several targets: GCC would make those a multiversioned function, which
// it dispatches through an ifunc of its own.) Elsewhere than x86-64 only the baseline is
// built and MAW_ISA_ALIASES maps the other names onto it.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAW_FOR_EACH_ISA(X)                        \
  X(baseline, /* the compiler's default target */) \
  X(avx2, __attribute__((target("avx2,fma"))))     \
  X(avx512, __attribute__((target("avx512f,avx2,fma"))))
#define MAW_ISA_ALIASES
#else
#define MAW_FOR_EACH_ISA(X) X(baseline, )
#define MAW_ISA_ALIASES              \
  namespace isa_avx2 = isa_baseline; \
  namespace isa_avx512 = isa_baseline;
#endif

namespace maw::optim::kernel {

// Sums are accumulated per block of kBlock elements in kLanes independent lanes (64: four
// AVX-512 accumulators per sum, so the fma latency does not bound the loop), lane 0
// taking a block's tail, then reduced lane by lane and block by block in order. Every
// kernel that sums (stats_kernel.cpp, adamw_kernel.cpp) uses these, so their sums agree
// to the bit and do not depend on the thread count.
constexpr int64_t kBlock = 4096;
constexpr int kLanes = 64;

// Blocks per parallel chunk at the least (at::parallel_for's grain: 128 K elements). The
// kernels' translation units compile with OpenMP (engine/CMakeLists.txt), so a model of
// 1 M parameters already splits over the threads.
constexpr int64_t kGrainBlocks = 32;

// A block's lanes summed in double, pairwise (lane j + lane j+32, then j+16, …): one
// fixed order, so every kernel and variant gets the same bits, and vectorizable, unlike a
// running sum (64 dependent additions per sum and block: ~15% of a pass over small
// tensors).
template <typename T>
__attribute__((always_inline)) inline double reduce_lanes(const T* lanes) {
  double d[kLanes];
  for (int j = 0; j < kLanes; ++j) d[j] = static_cast<double>(lanes[j]);
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) d[j] += d[j + w];
  return d[0];
}

// Builtins, not std::fma / std::sqrt: those are out-of-line functions compiled for the
// baseline target, which a variant would call per element instead of vectorizing. (In the
// baseline variant the fma is glibc's fmaf: exact, and slow without hardware FMA.)
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
