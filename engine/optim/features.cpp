#include "optim/features.h"

#include <algorithm>
#include <cmath>

#include "optim/stats_kernel.h"

namespace maw::optim {
namespace {

torch::Tensor stack_norms(at::TensorList xs, double ord = 2.0) {
  return torch::stack(at::_foreach_norm(xs, ord));  // [N]
}

}  // namespace

FeatureExtractor::FeatureExtractor(const MetaAdamWOptions& o, const std::vector<ParamGroup>& groups,
                                   const std::vector<nn::ParamInfo>& infos,
                                   const torch::Device& device, torch::Dtype dtype)
    : o_(o), groups_(static_cast<int64_t>(groups.size())), dim_(o.resolved_feature_dim()) {
  const auto n = static_cast<int64_t>(infos.size());
  std::vector<int64_t> gidx(static_cast<size_t>(n), -1);
  std::vector<double> counts(groups.size(), 0.0);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int s : groups[g].slots) gidx[static_cast<size_t>(s)] = static_cast<int64_t>(g);
    counts[g] = static_cast<double>(groups[g].slots.size());
  }
  // Layer position in [0, 1], consistent with the depth buckets of param_groups.cpp.
  std::vector<double> log_numel, one_d, pos, numel;
  int64_t lo = -1, hi = -1;
  int64_t first = -1, last = -1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t li = layer_index(infos[static_cast<size_t>(i)].name);
    if (li < 0) continue;
    lo = lo < 0 ? li : std::min(lo, li);
    hi = std::max(hi, li);
    if (first < 0) first = i;
    last = i;
  }
  for (int64_t i = 0; i < n; ++i) {
    const auto& info = infos[static_cast<size_t>(i)];
    log_numel.push_back(std::log(static_cast<double>(info.numel) + 1.0));
    one_d.push_back(info.shape.size() == 1 ? 1.0 : 0.0);
    numel.push_back(static_cast<double>(info.numel));
    const int64_t li = layer_index(info.name);
    double p = 0.5;
    if (li >= 0 && hi > lo)
      p = static_cast<double>(li - lo) / static_cast<double>(hi - lo);
    else if (li < 0 && first >= 0 && i < first)
      p = 0.0;
    else if (li < 0 && first >= 0 && i > last)
      p = 1.0;
    pos.push_back(p);
  }
  auto to_col = [&](const std::vector<double>& v) {
    return torch::tensor(v, torch::kDouble).view({-1, 1}).to(device, dtype);
  };
  group_of_ = gidx;
  count_of_ = counts;
  log_numel_h_ = log_numel;
  is_1d_h_ = one_d;
  layer_pos_h_ = pos;
  numel_h_ = numel;
  group_index_ = torch::tensor(gidx, torch::kLong).to(device);
  counts_ = to_col(counts);
  log_numel_ = to_col(log_numel);
  is_1d_ = to_col(one_d);
  layer_pos_ = to_col(pos);
  numel_ = to_col(numel);

  const FeatureSet f = o.features();
  const bool z = f == FeatureSet::norm_basic || f == FeatureSet::norm_basic_plus;
  log_ = !o.paper_design();
  // Magnitudes: the norm (paper) or log RMS = log(‖x‖/√numel) (learning).
  const std::string lg = log_ ? "log rms " : "|", rg = log_ ? "" : "|";
  std::vector<std::string> base = {lg + "g" + rg, lg + "m" + rg, lg + "p" + rg, "cos(g,m)"};
  std::vector<int64_t> magnitude_means = {0, 1, 2};
  if (o.use_v_norms()) {
    base.push_back(lg + "v" + rg);
    magnitude_means.push_back(4);
  }
  if (f == FeatureSet::enhanced) {
    names_ = {"mean " + lg + "g" + rg,
              "var " + lg + "g" + rg,
              "mean " + lg + "m" + rg,
              "var " + lg + "m" + rg,
              "sparsity g",
              "sparsity m",
              "log(numel+1)",
              "frac 1-D",
              "layer pos"};
    for (int64_t e = 0; e < o.group_embed_dim(); ++e)
      names_.push_back("embed " + std::to_string(e));
    magnitude_means = {0, 2, 6};
  } else {
    for (const auto& b : base) names_.push_back((z ? "z mean " : "mean ") + b);
    if (f == FeatureSet::basic_plus || f == FeatureSet::norm_basic_plus)
      for (const auto& b : base) names_.push_back((z ? "z std " : "std ") + b);
  }
  num_stats_ = f == FeatureSet::enhanced ? 9 : static_cast<int64_t>(names_.size());
  // Standardized across groups: every statistic (norm_ families), else the magnitude means
  // in the learning design (scale-free: the groups' positions relative to each other).
  if (z) {
    for (int64_t j = 0; j < num_stats_; ++j) standardized_.push_back(j);
  } else if (log_) {
    standardized_ = magnitude_means;
    for (const auto j : magnitude_means)
      if (names_[static_cast<size_t>(j)].rfind("z ", 0) != 0)
        names_[static_cast<size_t>(j)] = "z " + names_[static_cast<size_t>(j)];
  }
  if (o.include_time_step()) names_.push_back("t");
  while (static_cast<int64_t>(names_.size()) < dim_) names_.push_back("pad");
}

std::pair<torch::Tensor, torch::Tensor> FeatureExtractor::group_mean_var(
    const torch::Tensor& x) const {
  auto sum = torch::zeros({groups_, x.size(1)}, x.options()).index_add_(0, group_index_, x);
  auto mean = sum / counts_;
  auto dev = x - mean.index_select(0, group_index_);
  auto var = torch::zeros_like(mean).index_add_(0, group_index_, dev * dev) / counts_;
  return {mean, var};
}

FeatureExtractor::PerTensor FeatureExtractor::per_tensor(at::TensorList grads, at::TensorList m,
                                                         at::TensorList v, at::TensorList params,
                                                         bool zeros) const {
  PerTensor t;
  // Foreach path (GPU): fused multi-tensor norms; g·m = (‖g+m‖² − ‖g‖² − ‖m‖²) / 2.
  t.ng = stack_norms(grads);
  t.nm = stack_norms(m);
  t.np = stack_norms(params);
  t.nv = stack_norms(v);
  const auto nsum = stack_norms(at::_foreach_add(grads, m));
  t.dot = (nsum * nsum - t.ng * t.ng - t.nm * t.nm) * 0.5;
  if (zeros) {  // the 0-"norm" counts non-zeros
    t.nnz_g = stack_norms(grads, 0.0);
    t.nnz_m = stack_norms(m, 0.0);
  }
  return t;
}

torch::Tensor FeatureExtractor::statistics(at::TensorList grads, at::TensorList m, at::TensorList v,
                                           at::TensorList params) const {
  torch::NoGradGuard no_grad;
  const auto dt = params[0].scalar_type();
  // CPU: one pass over (g, m, p, v) per tensor, dot products exact (no polarization), then
  // the host aggregation.
  if (params[0].device().is_cpu() && !force_foreach_ &&
      (dt == torch::kFloat || dt == torch::kDouble))
    return statistics_from_sums(fused_tensor_sums_cpu(grads, m, params, v, counts_zeros()));
  return aggregate(per_tensor(grads, m, v, params, counts_zeros()));
}

torch::Tensor FeatureExtractor::statistics_from_sums(const torch::Tensor& sums) const {
  torch::NoGradGuard no_grad;
  TORCH_CHECK(sums.device().is_cpu() && sums.scalar_type() == torch::kDouble && sums.dim() == 2 &&
                  sums.size(0) == static_cast<int64_t>(group_of_.size()) &&
                  sums.size(1) == kNumSums,
              "statistics_from_sums: [N, kNumSums] double sums on the CPU");
  const auto s = sums.contiguous();
  const double* a = s.data_ptr<double>();
  const size_t n = group_of_.size(), G = static_cast<size_t>(groups_);
  const FeatureSet f = o_.features();
  const bool enhanced = f == FeatureSet::enhanced;
  // Per-tensor columns [n, k], as aggregate() forms them.
  const size_t k = enhanced ? 7 : (o_.use_v_norms() ? 5 : 4);
  std::vector<double> cols(n * k);
  for (size_t i = 0; i < n; ++i) {
    const double* r = a + i * kNumSums;
    double* c = cols.data() + i * k;
    c[0] = std::sqrt(r[kSumG2]);
    c[1] = std::sqrt(r[kSumM2]);
    const double cos_denom = c[0] * c[1];
    auto mag = [&](double norm) { return log_ ? log_rms(norm, numel_h_[i]) : norm; };
    c[0] = mag(c[0]);
    c[1] = mag(c[1]);
    if (enhanced) {
      const double nnz_g = numel_h_[i] - r[kZerosG], nnz_m = numel_h_[i] - r[kZerosM];
      c[2] = 1.0 - nnz_g / numel_h_[i];
      c[3] = 1.0 - nnz_m / numel_h_[i];
      c[4] = log_numel_h_[i];
      c[5] = is_1d_h_[i];
      c[6] = layer_pos_h_[i];
    } else {
      c[2] = mag(std::sqrt(r[kSumP2]));
      c[3] = cos_denom > 0 ? std::clamp(r[kSumGM] / cos_denom, -1.0, 1.0) : 0.0;
      if (k == 5) c[4] = mag(std::sqrt(r[kSumV2]));
    }
  }
  // Group mean and population variance (two passes, as group_mean_var).
  std::vector<double> mean(G * k, 0.0), var(G * k, 0.0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < k; ++j)
      mean[static_cast<size_t>(group_of_[i]) * k + j] += cols[i * k + j];
  for (size_t g = 0; g < G; ++g)
    for (size_t j = 0; j < k; ++j) mean[g * k + j] /= count_of_[g];
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < k; ++j) {
      const double d = cols[i * k + j] - mean[static_cast<size_t>(group_of_[i]) * k + j];
      var[static_cast<size_t>(group_of_[i]) * k + j] += d * d;
    }
  for (size_t g = 0; g < G; ++g)
    for (size_t j = 0; j < k; ++j) var[g * k + j] /= count_of_[g];

  const auto S = static_cast<size_t>(num_stats_);
  std::vector<double> out(G * S);
  for (size_t g = 0; g < G; ++g) {
    double* o = out.data() + g * S;
    const double* mu = mean.data() + g * k;
    const double* va = var.data() + g * k;
    if (enhanced) {
      const double row[9] = {mu[0], va[0], mu[1], va[1], mu[2], mu[3], mu[4], mu[5], mu[6]};
      std::copy(row, row + 9, o);
    } else {
      std::copy(mu, mu + k, o);
      if (S == 2 * k)
        for (size_t j = 0; j < k; ++j) o[k + j] = std::sqrt(va[j]);
    }
  }
  {
    // Standardize the chosen statistics across groups (population std).
    for (const int64_t jj : standardized_) {
      const auto j = static_cast<size_t>(jj);
      double mu = 0, sd = 0;
      for (size_t g = 0; g < G; ++g) mu += out[g * S + j];
      mu /= static_cast<double>(G);
      for (size_t g = 0; g < G; ++g) sd += (out[g * S + j] - mu) * (out[g * S + j] - mu);
      sd = std::sqrt(sd / static_cast<double>(G));
      for (size_t g = 0; g < G; ++g) out[g * S + j] = (out[g * S + j] - mu) / (sd + 1e-8);
    }
  }
  return torch::from_blob(out.data(), {groups_, num_stats_}, torch::kDouble)
      .to(log_numel_.device(), log_numel_.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
}

torch::Tensor FeatureExtractor::aggregate(const PerTensor& t) const {
  const FeatureSet f = o_.features();
  // Magnitudes as they are, or as log RMS (the learning design).
  const auto numel = numel_.view({-1});
  auto mag = [&](const torch::Tensor& norm) {
    return log_ ? (norm / numel.sqrt()).clamp_min(kRmsFloor).log() : norm;
  };
  if (f == FeatureSet::enhanced) {
    const auto sg = 1.0 - t.nnz_g.view({-1, 1}) / numel_;  // sparsity: fraction of zeros
    const auto sm = 1.0 - t.nnz_m.view({-1, 1}) / numel_;
    auto [mean_gm, var_gm] = group_mean_var(torch::stack({mag(t.ng), mag(t.nm)}, 1));
    const auto mean_rest =
        group_mean_var(torch::cat({sg, sm, log_numel_, is_1d_, layer_pos_}, 1)).first;
    return standardize(
        torch::cat({mean_gm.select(1, 0).unsqueeze(1), var_gm.select(1, 0).unsqueeze(1),
                    mean_gm.select(1, 1).unsqueeze(1), var_gm.select(1, 1).unsqueeze(1), mean_rest},
                   1));
  }
  // cos(g, m) = 0 when either is zero.
  const auto denom = t.ng * t.nm;
  const auto cos =
      torch::where(denom > 0, (t.dot / denom).clamp(-1.0, 1.0), torch::zeros_like(t.dot));
  std::vector<torch::Tensor> cols = {mag(t.ng), mag(t.nm), mag(t.np), cos};
  if (o_.use_v_norms()) cols.push_back(mag(t.nv));
  auto [mean, var] = group_mean_var(torch::stack(cols, 1));  // [G, k] each
  auto stats = (f == FeatureSet::basic_plus || f == FeatureSet::norm_basic_plus)
                   ? torch::cat({mean, var.sqrt()}, 1)
                   : mean;
  return standardize(stats);
}

torch::Tensor FeatureExtractor::standardize(torch::Tensor stats) const {
  if (standardized_.empty()) return stats;
  const auto idx = torch::tensor(standardized_, torch::kLong).to(stats.device());
  const auto x = stats.index_select(1, idx);
  const auto mu = x.mean(0, true);
  const auto sd = (x - mu).pow(2).mean(0, true).sqrt();
  return stats.index_copy(1, idx, (x - mu) / (sd + 1e-8));
}

double FeatureExtractor::time_feature(int64_t step) const {
  const double t = static_cast<double>(step);
  if (o_.total_steps() > 0) return t / static_cast<double>(o_.total_steps());
  return 2.0 / (1.0 + std::exp(-t / 1000.0)) - 1.0;
}

torch::Tensor FeatureExtractor::assemble(const torch::Tensor& stats, const torch::Tensor& embedding,
                                         const torch::Tensor& gates, int64_t step) const {
  std::vector<torch::Tensor> parts = {stats};
  if (o_.features() == FeatureSet::enhanced && o_.group_embed_dim() > 0) parts.push_back(embedding);
  if (o_.include_time_step())
    parts.push_back(torch::full({groups_, 1}, time_feature(step), stats.options()));
  auto x = torch::cat(parts, 1);
  if (x.size(1) < dim_) x = torch::constant_pad_nd(x, {0, dim_ - x.size(1)});
  if (o_.use_feature_gating()) x = x * torch::sigmoid(gates);
  return x;  // [G, D]
}

}  // namespace maw::optim
