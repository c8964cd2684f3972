#include "optim/adamw_kernel.h"

#include <ATen/Parallel.h>

#include <array>
#include <cmath>
#include <stdexcept>

// Independent lanes, so that the compiler vectorizes the loop (square root included:
// errno is never read here).
#pragma GCC optimize("O3", "no-math-errno", "fp-contract=off")

namespace maw::optim {
namespace detail {
// (Outside the anonymous namespace: the target_clones functions below have external
// linkage, resolved through an ifunc.)
template <typename T>
struct Coeffs {
  T b1, omb1, b2, omb2, sqrt_bc2, eps, decay, step;
};
}  // namespace detail
namespace {
using detail::Coeffs;

constexpr int64_t kBlock = 4096;  // elements per partial sum
constexpr int kLanes = 16;
// Blocks per parallel chunk (1 M elements): below this an OpenMP region costs more than
// a second core's bandwidth brings (measured: tests/bench/optim_bench.cpp).
constexpr int64_t kGrainBlocks = 256;

using Sums = std::array<double, kNumUpdatedSums>;

template <typename T>
__attribute__((always_inline)) inline Sums block_update(T* __restrict p, const T* __restrict g,
                                                        T* __restrict m, T* __restrict v, int64_t n,
                                                        const Coeffs<T>& c, bool sums) {
  // The composite path's order: m·β1 + (1−β1)·g; v·β2 + (1−β2)·g·g;
  // d = √v / √bc2 + ε; p·decay + (step·m) / d (addcdiv's order).
  auto one = [&](int64_t i, T& sp, T& sm, T& sv, T& zm) {
    const T gi = g[i];
    const T mi = std::fma(gi, c.omb1, m[i] * c.b1);       // ATen's add(alpha): one fmadd
    const T vi = std::fma(c.omb2 * gi, gi, v[i] * c.b2);  // as ATen's addcmul compiles
    const T d = std::sqrt(vi) / c.sqrt_bc2 + c.eps;
    const T pi = p[i] * c.decay + c.step * mi / d;  // addcdiv: (s·m) / d
    m[i] = mi;
    v[i] = vi;
    p[i] = pi;
    sp = std::fma(pi, pi, sp);  // as stats_kernel.cpp: the next step's fresh pass would agree
    sm = std::fma(mi, mi, sm);
    sv = std::fma(vi, vi, sv);
    zm += mi == T(0) ? T(1) : T(0);
  };
  T sp[kLanes] = {}, sm[kLanes] = {}, sv[kLanes] = {}, zm[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) one(i + j, sp[j], sm[j], sv[j], zm[j]);
  for (; i < n; ++i) one(i, sp[0], sm[0], sv[0], zm[0]);
  Sums s{};
  if (!sums) return s;
  for (int j = 0; j < kLanes; ++j) {
    s[kUpdP2] += static_cast<double>(sp[j]);
    s[kUpdM2] += static_cast<double>(sm[j]);
    s[kUpdV2] += static_cast<double>(sv[j]);
    s[kUpdZerosM] += static_cast<double>(zm[j]);
  }
  return s;
}

}  // namespace

namespace detail {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MAW_ADAMW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MAW_ADAMW_CLONES
#endif

MAW_ADAMW_CLONES std::array<double, kNumUpdatedSums> adamw_block(float* p, const float* g, float* m,
                                                                 float* v, int64_t n,
                                                                 const Coeffs<float>& c,
                                                                 bool sums) {
  return block_update<float>(p, g, m, v, n, c, sums);
}

MAW_ADAMW_CLONES std::array<double, kNumUpdatedSums> adamw_block(double* p, const double* g,
                                                                 double* m, double* v, int64_t n,
                                                                 const Coeffs<double>& c,
                                                                 bool sums) {
  return block_update<double>(p, g, m, v, n, c, sums);
}
}  // namespace detail

bool fused_adamw_supported(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v) {
  if (p.empty()) return false;
  const auto dt = p[0].scalar_type();
  if (dt != torch::kFloat && dt != torch::kDouble) return false;
  if (g.size() != p.size() || m.size() != p.size() || v.size() != p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i)
    for (const auto* t : {&p[i], &g[i], &m[i], &v[i]})
      if (!t->defined() || !t->device().is_cpu() || t->scalar_type() != dt || !t->is_contiguous() ||
          t->numel() != p[i].numel())
        return false;
  return true;
}

void fused_adamw_cpu(at::TensorList p, at::TensorList g, at::TensorList m, at::TensorList v,
                     const std::vector<double>& decay, const std::vector<double>& step_size,
                     const FusedAdamWScalars& s, torch::Tensor* sums_out) {
  if (!fused_adamw_supported(p, g, m, v) || decay.size() != p.size() ||
      step_size.size() != p.size())
    throw std::invalid_argument("fused_adamw_cpu: unsupported tensors");
  struct Item {
    size_t tensor;
    int64_t begin, end;
  };
  std::vector<Item> items;
  for (size_t t = 0; t < p.size(); ++t)
    for (int64_t b = 0, n = p[t].numel(); b < n; b += kBlock)
      items.push_back({t, b, std::min(n, b + kBlock)});
  const bool sums = sums_out != nullptr;
  std::vector<Sums> partial(sums ? items.size() : 0);
  AT_DISPATCH_FLOATING_TYPES(p[0].scalar_type(), "fused_adamw_cpu", [&] {
    // Scalars rounded to the tensors' type once, as ATen does with a Scalar argument.
    std::vector<Coeffs<scalar_t>> coeffs(p.size());
    for (size_t t = 0; t < p.size(); ++t)
      coeffs[t] = {static_cast<scalar_t>(s.beta1),
                   static_cast<scalar_t>(1.0 - s.beta1),
                   static_cast<scalar_t>(s.beta2),
                   static_cast<scalar_t>(1.0 - s.beta2),
                   static_cast<scalar_t>(std::sqrt(s.bias_correction2)),
                   static_cast<scalar_t>(s.eps),
                   static_cast<scalar_t>(decay[t]),
                   static_cast<scalar_t>(step_size[t])};
    std::vector<scalar_t*> pp(p.size()), mp(p.size()), vp(p.size());
    std::vector<const scalar_t*> gp(p.size());
    for (size_t t = 0; t < p.size(); ++t) {
      pp[t] = p[t].data_ptr<scalar_t>();
      gp[t] = g[t].data_ptr<scalar_t>();
      mp[t] = m[t].data_ptr<scalar_t>();
      vp[t] = v[t].data_ptr<scalar_t>();
    }
    at::parallel_for(
        0, static_cast<int64_t>(items.size()), kGrainBlocks, [&](int64_t lo, int64_t hi) {
          for (int64_t k = lo; k < hi; ++k) {
            const auto& it = items[static_cast<size_t>(k)];
            const size_t t = it.tensor;
            const auto r =
                detail::adamw_block(pp[t] + it.begin, gp[t] + it.begin, mp[t] + it.begin,
                                    vp[t] + it.begin, it.end - it.begin, coeffs[t], sums);
            if (sums) partial[static_cast<size_t>(k)] = r;
          }
        });
  });
  if (!sums) return;
  *sums_out = torch::zeros({static_cast<int64_t>(p.size()), kNumUpdatedSums}, torch::kDouble);
  auto acc = sums_out->accessor<double, 2>();
  for (size_t k = 0; k < items.size(); ++k)  // in block order: deterministic
    for (int c = 0; c < kNumUpdatedSums; ++c)
      acc[static_cast<int64_t>(items[k].tensor)][c] += partial[k][static_cast<size_t>(c)];
}

}  // namespace maw::optim
