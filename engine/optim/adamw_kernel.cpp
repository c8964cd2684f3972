#include "optim/adamw_kernel.h"

#include <ATen/Parallel.h>

#include <array>
#include <cmath>
#include <stdexcept>

#include "optim/cpu_isa.h"
#include "optim/kernel_blocks.h"
#include "optim/kernel_math.h"
#include "optim/stats_kernel.h"

// Independent lanes, so that the compiler vectorizes the loops (the square root too: this
// file compiles with -fno-math-errno, engine/CMakeLists.txt). No contraction beyond the
// explicit fma calls: the composite path's roundings, one for one.
#pragma GCC optimize("O3", "fp-contract=off")

namespace maw::optim {
namespace {
template <typename T>
struct Coeffs {
  T b1, omb1, b2, omb2, sqrt_bc2, eps, decay, step;
};
using Sums = std::array<double, kNumSums>;
using kernel::kBlock;
using kernel::kLanes;

// The composite path's order: m·β1 + (1−β1)·g (ATen's add with alpha: one fmadd);
// v·β2 + (1−β2)·g·g (as ATen's addcmul compiles: one fma); d = √v / √bc2 + ε;
// p·decay + (step·m) / d (addcdiv's order).
template <typename T>
__attribute__((always_inline)) inline T new_m(T g, T m, const Coeffs<T>& c) {
  return kernel::fma(g, c.omb1, m * c.b1);
}
template <typename T>
__attribute__((always_inline)) inline T new_v(T g, T v, const Coeffs<T>& c) {
  return kernel::fma(c.omb2 * g, g, v * c.b2);
}
template <typename T>
__attribute__((always_inline)) inline T new_p(T p, T m, T v, const Coeffs<T>& c) {
  const T d = kernel::sqrt(v) / c.sqrt_bc2 + c.eps;
  return p * c.decay + c.step * m / d;
}

template <typename T>
__attribute__((always_inline)) inline void adamw_one(T* __restrict p, const T* __restrict g,
                                                     T* __restrict m, T* __restrict v, int64_t i,
                                                     const Coeffs<T>& c) {
  const T mi = new_m(g[i], m[i], c);
  const T vi = new_v(g[i], v[i], c);
  m[i] = mi;
  v[i] = vi;
  p[i] = new_p(p[i], mi, vi, c);
}

// The moments, and the statistics of g and of the old m, v — stats_kernel.cpp's sums,
// element for element in the same lanes.
template <typename T, bool Zeros>
__attribute__((always_inline)) inline void moments_one(const T* __restrict g, T* __restrict m,
                                                       T* __restrict v, int64_t i,
                                                       const Coeffs<T>& c, T& sg, T& sm, T& sv,
                                                       T& sgm, T& zg, T& zm) {
  const T gi = g[i], mo = m[i], vo = v[i];
  sg = kernel::fma(gi, gi, sg);
  sm = kernel::fma(mo, mo, sm);
  sv = kernel::fma(vo, vo, sv);
  sgm = kernel::fma(gi, mo, sgm);
  if constexpr (Zeros) {
    zg += gi == T(0) ? T(1) : T(0);  // ≤ 4096 per block: exact in float
    zm += mo == T(0) ? T(1) : T(0);
  }
  m[i] = new_m(gi, mo, c);
  v[i] = new_v(gi, vo, c);
}

template <typename T>
__attribute__((always_inline)) inline void params_one(T* __restrict p, const T* __restrict m,
                                                      const T* __restrict v, int64_t i,
                                                      const Coeffs<T>& c, T& sp) {
  const T pi = new_p(p[i], m[i], v[i], c);
  p[i] = pi;
  sp = kernel::fma(pi, pi, sp);
}

template <typename T>
__attribute__((always_inline)) inline void adamw_block_impl(T* p, const T* g, T* m, T* v, int64_t n,
                                                            const Coeffs<T>& c) {
  for (int64_t i = 0; i < n; ++i) adamw_one(p, g, m, v, i, c);
}

template <typename T, bool Zeros>
__attribute__((always_inline)) inline Sums moments_block_impl(const T* g, T* m, T* v, int64_t n,
                                                              const Coeffs<T>& c) {
  T sg[kLanes] = {}, sm[kLanes] = {}, sv[kLanes] = {}, sgm[kLanes] = {}, zg[kLanes] = {},
    zm[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j)
      moments_one<T, Zeros>(g, m, v, i + j, c, sg[j], sm[j], sv[j], sgm[j], zg[j], zm[j]);
  for (; i < n; ++i)
    moments_one<T, Zeros>(g, m, v, i, c, sg[0], sm[0], sv[0], sgm[0], zg[0], zm[0]);
  Sums s{};
  s[kSumG2] = kernel::reduce_lanes(sg);
  s[kSumM2] = kernel::reduce_lanes(sm);
  s[kSumV2] = kernel::reduce_lanes(sv);
  s[kSumGM] = kernel::reduce_lanes(sgm);
  if constexpr (Zeros) {
    s[kZerosG] = kernel::reduce_lanes(zg);
    s[kZerosM] = kernel::reduce_lanes(zm);
  }
  return s;
}

template <typename T>
__attribute__((always_inline)) inline double params_block_impl(T* p, const T* m, const T* v,
                                                               int64_t n, const Coeffs<T>& c) {
  T sp[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) params_one(p, m, v, i + j, c, sp[j]);
  for (; i < n; ++i) params_one(p, m, v, i, c, sp[0]);
  return kernel::reduce_lanes(sp);
}

// The entry points, once per ISA (kernel_math.h).
#define MAW_KERNELS(T, ATTR)                                                                   \
  ATTR void adamw_block(T* p, const T* g, T* m, T* v, int64_t n, const Coeffs<T>& c) {         \
    adamw_block_impl<T>(p, g, m, v, n, c);                                                     \
  }                                                                                            \
  ATTR Sums moments_block(const T* g, T* m, T* v, int64_t n, const Coeffs<T>& c, bool zeros) { \
    return zeros ? moments_block_impl<T, true>(g, m, v, n, c)                                  \
                 : moments_block_impl<T, false>(g, m, v, n, c);                                \
  }                                                                                            \
  ATTR double params_block(T* p, const T* m, const T* v, int64_t n, const Coeffs<T>& c) {      \
    return params_block_impl<T>(p, m, v, n, c);                                                \
  }
#define MAW_ISA_KERNELS(NAME, ATTR) \
  namespace isa_##NAME {            \
    MAW_KERNELS(float, ATTR)        \
    MAW_KERNELS(double, ATTR)       \
  }
MAW_FOR_EACH_ISA(MAW_ISA_KERNELS)
MAW_ISA_ALIASES
#undef MAW_ISA_KERNELS
#undef MAW_KERNELS

template <typename T>
struct Kernels {
  void (*adamw)(T*, const T*, T*, T*, int64_t, const Coeffs<T>&);
  Sums (*moments)(const T*, T*, T*, int64_t, const Coeffs<T>&, bool);
  double (*params)(T*, const T*, const T*, int64_t, const Coeffs<T>&);
};

// The variant of the active ISA (read once per call: a test may switch between calls).
template <typename T>
const Kernels<T>& kernels() {
  static const Kernels<T> table[kernel::kNumIsas] = {
      {&isa_baseline::adamw_block, &isa_baseline::moments_block, &isa_baseline::params_block},
      {&isa_avx2::adamw_block, &isa_avx2::moments_block, &isa_avx2::params_block},
      {&isa_avx512::adamw_block, &isa_avx512::moments_block, &isa_avx512::params_block}};
  return table[static_cast<int>(kernel::active_isa())];
}

// The blocks of a tensor list, in order (kernel_blocks.h).
std::vector<kernel::Block> blocks_of(at::TensorList x) {
  std::vector<kernel::Block> items;
  for (size_t t = 0; t < x.size(); ++t) kernel::append_blocks(items, t, x[t].numel());
  return items;
}

template <typename T>
std::vector<Coeffs<T>> coeffs_of(const FusedAdamWScalars& s, size_t n,
                                 const std::vector<double>* decay,
                                 const std::vector<double>* step_size) {
  // Scalars rounded to the tensors' type once, as ATen does with a Scalar argument.
  std::vector<Coeffs<T>> c(n);
  for (size_t t = 0; t < n; ++t)
    c[t] = {static_cast<T>(s.beta1),
            static_cast<T>(1.0 - s.beta1),
            static_cast<T>(s.beta2),
            static_cast<T>(1.0 - s.beta2),
            static_cast<T>(std::sqrt(s.bias_correction2)),
            static_cast<T>(s.eps),
            static_cast<T>(decay ? (*decay)[t] : 1.0),
            static_cast<T>(step_size ? (*step_size)[t] : 0.0)};
  return c;
}

template <typename T>
std::vector<T*> ptrs(at::TensorList x) {
  std::vector<T*> out;
  out.reserve(x.size());
  for (const auto& t : x) out.push_back(t.data_ptr<T>());
  return out;
}

void check(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string(what) + ": unsupported tensors");
}

}  // namespace

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
                     const FusedAdamWScalars& s) {
  check(
      fused_adamw_supported(p, g, m, v) && decay.size() == p.size() && step_size.size() == p.size(),
      "fused_adamw_cpu");
  const auto items = blocks_of(p);
  AT_DISPATCH_FLOATING_TYPES(p[0].scalar_type(), "fused_adamw_cpu", [&] {
    const auto c = coeffs_of<scalar_t>(s, p.size(), &decay, &step_size);
    const auto pp = ptrs<scalar_t>(p), gp = ptrs<scalar_t>(g), mp = ptrs<scalar_t>(m),
               vp = ptrs<scalar_t>(v);
    const auto adamw_block = kernels<scalar_t>().adamw;
    kernel::for_each_block(items, [&](size_t k) {
      const auto& it = items[k];
      const size_t t = it.tensor;
      adamw_block(pp[t] + it.begin, gp[t] + it.begin, mp[t] + it.begin, vp[t] + it.begin,
                  it.end - it.begin, c[t]);
    });
  });
}

torch::Tensor fused_moments_cpu(at::TensorList g, at::TensorList m, at::TensorList v,
                                const FusedAdamWScalars& s, bool count_zeros) {
  check(fused_adamw_supported(g, g, m, v), "fused_moments_cpu");
  const auto items = blocks_of(g);
  std::vector<Sums> partial(items.size());
  AT_DISPATCH_FLOATING_TYPES(g[0].scalar_type(), "fused_moments_cpu", [&] {
    const auto c = coeffs_of<scalar_t>(s, g.size(), nullptr, nullptr);
    const auto gp = ptrs<scalar_t>(g), mp = ptrs<scalar_t>(m), vp = ptrs<scalar_t>(v);
    const auto moments_block = kernels<scalar_t>().moments;
    kernel::for_each_block(items, [&](size_t k) {
      const auto& it = items[k];
      const size_t t = it.tensor;
      partial[k] = moments_block(static_cast<const scalar_t*>(gp[t]) + it.begin, mp[t] + it.begin,
                                 vp[t] + it.begin, it.end - it.begin, c[t], count_zeros);
    });
  });
  auto out = torch::zeros({static_cast<int64_t>(g.size()), kNumSums}, torch::kDouble);
  auto acc = out.accessor<double, 2>();
  for (size_t k = 0; k < items.size(); ++k)  // in block order: deterministic
    for (int col = 0; col < kNumSums; ++col)
      acc[static_cast<int64_t>(items[k].tensor)][col] += partial[k][static_cast<size_t>(col)];
  return out;
}

torch::Tensor fused_param_update_cpu(at::TensorList p, at::TensorList m, at::TensorList v,
                                     const std::vector<double>& decay,
                                     const std::vector<double>& step_size,
                                     const FusedAdamWScalars& s) {
  check(
      fused_adamw_supported(p, p, m, v) && decay.size() == p.size() && step_size.size() == p.size(),
      "fused_param_update_cpu");
  const auto items = blocks_of(p);
  std::vector<double> partial(items.size());
  AT_DISPATCH_FLOATING_TYPES(p[0].scalar_type(), "fused_param_update_cpu", [&] {
    const auto c = coeffs_of<scalar_t>(s, p.size(), &decay, &step_size);
    const auto pp = ptrs<scalar_t>(p), mp = ptrs<scalar_t>(m), vp = ptrs<scalar_t>(v);
    const auto params_block = kernels<scalar_t>().params;
    kernel::for_each_block(items, [&](size_t k) {
      const auto& it = items[k];
      const size_t t = it.tensor;
      partial[k] =
          params_block(pp[t] + it.begin, static_cast<const scalar_t*>(mp[t]) + it.begin,
                       static_cast<const scalar_t*>(vp[t]) + it.begin, it.end - it.begin, c[t]);
    });
  });
  auto out = torch::zeros({static_cast<int64_t>(p.size())}, torch::kDouble);
  auto acc = out.accessor<double, 1>();
  for (size_t k = 0; k < items.size(); ++k)
    acc[static_cast<int64_t>(items[k].tensor)] += partial[k];
  return out;
}

}  // namespace maw::optim
