#include "optim/stats_kernel.h"

#include "optim/cpu_isa.h"
#include "optim/kernel_blocks.h"
#include "optim/kernel_math.h"

#include <ATen/Parallel.h>

#include <array>
#include <cmath>
#include <vector>

// The inner loops are written in independent lanes so that the compiler vectorizes them.
#pragma GCC optimize("O3")

namespace maw::optim {
namespace {

using kernel::kBlock;
using kernel::kLanes;

using Sums = std::array<double, kNumSums>;

// Σx² alone (kSumG2), in the lanes and order of block_sums' Σp²: for a step whose
// moments pass summed everything else (adamw_kernel.h).
template <typename T>
__attribute__((always_inline)) inline Sums square_block_sums(const T* x, int64_t n) {
  T sx[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) sx[j] = kernel::fma(x[i + j], x[i + j], sx[j]);
  for (; i < n; ++i) sx[0] = kernel::fma(x[i], x[i], sx[0]);
  Sums s{};
  s[kSumG2] = kernel::reduce_lanes(sx);
  return s;
}

template <typename T>
__attribute__((always_inline)) inline Sums block_sums(const T* g, const T* m, const T* p,
                                                      const T* v, int64_t n, bool zeros) {
  if (!m) return square_block_sums(g, n);  // (zeros: not asked for with one list)
  T sg[kLanes] = {}, sm[kLanes] = {}, sp[kLanes] = {}, sv[kLanes] = {}, sgm[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const T a = g[i + j], b = m[i + j], c = p[i + j], d = v[i + j];
      sg[j] = kernel::fma(a, a, sg[j]);  // explicit: the same rounding on every target, and
      sm[j] = kernel::fma(b, b, sm[j]);  // the same as the fused update's sums (adamw_kernel)
      sp[j] = kernel::fma(c, c, sp[j]);
      sv[j] = kernel::fma(d, d, sv[j]);
      sgm[j] = kernel::fma(a, b, sgm[j]);
    }
  }
  for (; i < n; ++i) {
    sg[0] = kernel::fma(g[i], g[i], sg[0]);
    sm[0] = kernel::fma(m[i], m[i], sm[0]);
    sp[0] = kernel::fma(p[i], p[i], sp[0]);
    sv[0] = kernel::fma(v[i], v[i], sv[0]);
    sgm[0] = kernel::fma(g[i], m[i], sgm[0]);
  }
  Sums s{};
  s[kSumG2] = kernel::reduce_lanes(sg);
  s[kSumM2] = kernel::reduce_lanes(sm);
  s[kSumP2] = kernel::reduce_lanes(sp);
  s[kSumV2] = kernel::reduce_lanes(sv);
  s[kSumGM] = kernel::reduce_lanes(sgm);
  if (zeros) {
    int64_t zg = 0, zm = 0;
    for (int64_t k = 0; k < n; ++k) {
      zg += g[k] == T(0);
      zm += m[k] == T(0);
    }
    s[kZerosG] = static_cast<double>(zg);
    s[kZerosM] = static_cast<double>(zm);
  }
  return s;
}

// The entry point, once per ISA (kernel_math.h).
#define MAW_ISA_KERNELS(NAME, ATTR)                                                          \
  namespace isa_##NAME {                                                                     \
    ATTR Sums block_sums(const float* g, const float* m, const float* p, const float* v,     \
                         int64_t n, bool zeros) {                                            \
      return optim::block_sums<float>(g, m, p, v, n, zeros);                                 \
    }                                                                                        \
    ATTR Sums block_sums(const double* g, const double* m, const double* p, const double* v, \
                         int64_t n, bool zeros) {                                            \
      return optim::block_sums<double>(g, m, p, v, n, zeros);                                \
    }                                                                                        \
  }
MAW_FOR_EACH_ISA(MAW_ISA_KERNELS)
MAW_ISA_ALIASES
#undef MAW_ISA_KERNELS

// The variant of the active ISA.
template <typename T>
auto block_sums_kernel() {
  using Fn = Sums (*)(const T*, const T*, const T*, const T*, int64_t, bool);
  static const Fn table[kernel::kNumIsas] = {&isa_baseline::block_sums, &isa_avx2::block_sums,
                                             &isa_avx512::block_sums};
  return table[static_cast<int>(kernel::active_isa())];
}

// Both entry points: m, p and v empty for the Σx² pass over g.
torch::Tensor tensor_sums(at::TensorList g, at::TensorList m, at::TensorList p, at::TensorList v,
                          bool count_zeros) {
  const size_t n = g.size();
  const bool full = !m.empty();
  std::vector<torch::Tensor> keep;  // contiguous views (copies only if needed)
  keep.reserve(4 * n);
  std::vector<kernel::Block> items;
  for (size_t t = 0; t < n; ++t) {
    for (const auto* list : {&g, &m, &p, &v}) {
      if (list->empty()) {
        keep.emplace_back();
        continue;
      }
      const auto& x = (*list)[t];
      keep.push_back(x.is_contiguous() ? x : x.contiguous());  // no dispatch when contiguous
    }
    kernel::append_blocks(items, t, g[t].numel());
  }
  std::vector<Sums> partial(items.size());
  const auto dtype = g.empty() ? torch::kFloat : g[0].scalar_type();
  kernel::for_each_block(items, [&](size_t k) {
    const auto& it = items[k];
    const auto* ts = &keep[4 * it.tensor];
    AT_DISPATCH_FLOATING_TYPES(dtype, "fused_tensor_sums_cpu", [&] {
      partial[k] = block_sums_kernel<scalar_t>()(
          ts[0].data_ptr<scalar_t>() + it.begin,
          full ? ts[1].data_ptr<scalar_t>() + it.begin : nullptr,
          full ? ts[2].data_ptr<scalar_t>() + it.begin : nullptr,
          full ? ts[3].data_ptr<scalar_t>() + it.begin : nullptr, it.end - it.begin, count_zeros);
    });
  });
  auto out = torch::zeros({static_cast<int64_t>(n), kNumSums}, torch::kDouble);
  auto acc = out.accessor<double, 2>();
  for (size_t k = 0; k < items.size(); ++k)  // in block order: deterministic
    for (int c = 0; c < kNumSums; ++c)
      acc[static_cast<int64_t>(items[k].tensor)][c] += partial[k][static_cast<size_t>(c)];
  return out;
}

}  // namespace

torch::Tensor fused_tensor_sums_cpu(at::TensorList g, at::TensorList m, at::TensorList p,
                                    at::TensorList v, bool count_zeros) {
  return tensor_sums(g, m, p, v, count_zeros);
}

torch::Tensor fused_square_sums_cpu(at::TensorList x) {
  // Summed like the full pass's Σp², so the two agree to the bit.
  return tensor_sums(x, {}, {}, {}, false).select(1, kSumG2).contiguous();
}

}  // namespace maw::optim
