// Group features (METAADAMW.md §2): per-tensor statistics of the gradient, the moments
// (before this step's moment update) and the parameters, aggregated per group. On the CPU:
// one fused pass over (g, m, p, v) per tensor (stats_kernel.h) or the sums MetaAdamW's fused
// moments pass takes, then plain loops over the N tensors' sums. Elsewhere batched on the
// parameters' device: foreach norms, one index_add per aggregate, no host synchronisation.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "nn/param_info.h"
#include "api/options.h"
#include "optim/param_groups.h"

namespace maw::optim {

class FeatureExtractor {
 public:
  FeatureExtractor(const MetaAdamWOptions& options, const std::vector<ParamGroup>& groups,
                   const std::vector<nn::ParamInfo>& infos, const torch::Device& device,
                   torch::Dtype dtype);

  // The statistics part of the features, [G, S], constant (no graph). Lists in parameter
  // (store) order; m and v are the moments before this step's update.
  torch::Tensor statistics(at::TensorList grads, at::TensorList m, at::TensorList v,
                           at::TensorList params) const;
  // The same from per-tensor sums already taken ([N, kNumSums] double, stats_kernel.h's
  // columns: what fused_tensor_sums_cpu returns, or MetaAdamW's fused moments pass),
  // aggregated as plain loops over the N tensors on the host, in double: the ~25 small
  // ATen ops of the tensor form cost ~0.2 ms a step in dispatch (BENCHMARKS.md). Agrees
  // with statistics() to rounding (tests).
  torch::Tensor statistics_from_sums(const torch::Tensor& sums) const;
  // Whether the statistics use the zero counts (enhanced features).
  bool counts_zeros() const { return o_.features() == FeatureSet::enhanced; }
  // The modulator's input [G, D]: statistics, then the group embedding (enhanced), then
  // the time feature, zero-padded to D, times σ(gates) when gating. Differentiable in
  // `embedding` [G, E] and `gates` [D] (either may be undefined when unused).
  torch::Tensor assemble(const torch::Tensor& stats, const torch::Tensor& embedding,
                         const torch::Tensor& gates, int64_t step) const;
  // The time feature: t/T when T is known, else 2·σ(t/1000) − 1.
  double time_feature(int64_t step) const;

  int64_t dim() const { return dim_; }                              // D
  int64_t num_statistics() const { return num_stats_; }             // S
  const std::vector<std::string>& names() const { return names_; }  // D names

  // Tests: use the foreach path (the GPU's) on the CPU too, instead of the fused kernel.
  void force_foreach(bool on) { force_foreach_ = on; }

 private:
  // Per-tensor norms, g·m and non-zero counts [N] from foreach ops (the device path).
  struct PerTensor {
    torch::Tensor ng, nm, np, nv, dot, nnz_g, nnz_m;
  };
  PerTensor per_tensor(at::TensorList grads, at::TensorList m, at::TensorList v,
                       at::TensorList params, bool zeros) const;
  torch::Tensor aggregate(const PerTensor& t) const;  // → [G, S]
  // Columns of `standardized_` standardized across groups: (x − mean) / (std + 1e-8).
  torch::Tensor standardize(torch::Tensor stats) const;
  static double log_rms(double norm, double numel) {
    return std::log(std::max(norm / std::sqrt(numel), kRmsFloor));
  }
  // Below this RMS a magnitude counts as zero (an unused tensor, an all-zero gradient): its
  // log stays finite.
  static constexpr double kRmsFloor = 1e-12;
  // Mean and population variance over each group's tensors of x [N, k] → [G, k] each.
  std::pair<torch::Tensor, torch::Tensor> group_mean_var(const torch::Tensor& x) const;

  MetaAdamWOptions o_;
  int64_t groups_ = 0;
  int64_t dim_ = 0;
  int64_t num_stats_ = 0;
  torch::Tensor group_index_;  // [N] int64: the group of each tensor
  torch::Tensor counts_;       // [G, 1]: tensors per group
  torch::Tensor log_numel_;    // [N, 1]: log(numel + 1)
  torch::Tensor is_1d_;        // [N, 1]
  torch::Tensor layer_pos_;    // [N, 1]: normalized layer index in [0, 1]
  torch::Tensor numel_;        // [N, 1]
  // The same per-tensor constants on the host, for statistics_from_sums.
  std::vector<int64_t> group_of_;
  std::vector<double> count_of_, log_numel_h_, is_1d_h_, layer_pos_h_, numel_h_;
  std::vector<std::string> names_;
  bool log_ = false;                   // magnitudes as log RMS (learning design)
  std::vector<int64_t> standardized_;  // statistic columns standardized across groups
  bool force_foreach_ = false;
};

}  // namespace maw::optim
