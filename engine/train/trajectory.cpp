#include "train/trajectory.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

namespace maw::train {

Trajectory::Trajectory(const std::vector<torch::Tensor>& params,
                       const std::vector<optim::ParamGroup>& groups, int directions,
                       uint64_t seed) {
  torch::NoGradGuard no_grad;
  for (const auto& p : params) start_.push_back(p.detach().clone());
  for (const auto& g : groups) group_slots_.push_back(g.slots);
  auto gen = at::detail::createCPUGenerator(seed);
  for (int k = 0; k < directions; ++k) {
    std::vector<torch::Tensor> d;
    double norm2 = 0.0;
    for (const auto& p : start_) {
      if (p.dim() < 2) {  // a bias, a norm's scale: no direction (Li et al.)
        d.push_back(torch::Tensor());
        continue;
      }
      const auto p64 = p.to(torch::kCPU, torch::kDouble);
      auto r = at::normal(0.0, 1.0, p64.sizes(), gen, torch::TensorOptions().dtype(torch::kDouble));
      // Filter normalization: each slice along the first axis takes θ_0's slice's norm.
      const auto rows = r.reshape({r.size(0), -1});
      const auto scale =
          p64.reshape({p64.size(0), -1}).norm(2, 1, true) / (rows.norm(2, 1, true) + 1e-10);
      r = (rows * scale).reshape(p64.sizes());
      norm2 += r.square().sum().item<double>();
      checksum_ += static_cast<double>(k + 1) * r.abs().sum().item<double>();
      d.push_back(r.to(p.device(), p.scalar_type()));
    }
    dirs_.push_back(std::move(d));
    norm2_.push_back(norm2);
  }
}

int64_t Trajectory::keep_full(int64_t max_coordinates) {
  int64_t total = 0;
  for (const auto& p : start_) total += p.numel();
  const int64_t stride = std::max<int64_t>(1, (total + max_coordinates - 1) / max_coordinates);
  sampled_.clear();
  int64_t offset = 0, kept = 0;
  for (const auto& p : start_) {
    const int64_t first = (stride - offset % stride) % stride;  // the first multiple here
    auto idx = first < p.numel() ? torch::arange(first, p.numel(), stride, torch::kLong)
                                 : torch::zeros({0}, torch::kLong);
    kept += idx.numel();
    sampled_.push_back(idx.to(p.device()));
    offset += p.numel();
  }
  return kept;
}

TrajectoryRecord Trajectory::measure(int64_t step, const std::vector<torch::Tensor>& params,
                                     bool full) const {
  torch::NoGradGuard no_grad;
  const size_t K = dirs_.size(), P = start_.size();
  // Per parameter: ‖Δ‖², then ⟨Δ, d_k⟩ for each direction; one stack, one copy to the host.
  std::vector<torch::Tensor> parts;
  parts.reserve(P * (K + 1));
  const auto zero = torch::zeros(
      {}, start_.empty() ? torch::TensorOptions() : start_.front().options().dtype(torch::kDouble));
  for (size_t j = 0; j < P; ++j) {
    const auto delta = (params[j].detach() - start_[j]).to(torch::kDouble).flatten();
    parts.push_back(delta.dot(delta));
    for (size_t k = 0; k < K; ++k)
      parts.push_back(dirs_[k][j].defined() ? delta.dot(dirs_[k][j].to(torch::kDouble).flatten())
                                            : zero);
  }
  const auto host = parts.empty() ? torch::zeros({0}, torch::kDouble)
                                  : torch::stack(parts).to(torch::kCPU).contiguous();
  const double* v = host.data_ptr<double>();
  TrajectoryRecord r;
  r.step = step;
  std::vector<double> dots(K, 0.0), sq(P, 0.0);
  double total = 0.0;
  for (size_t j = 0; j < P; ++j) {
    sq[j] = v[j * (K + 1)];
    total += sq[j];
    for (size_t k = 0; k < K; ++k) dots[k] += v[j * (K + 1) + 1 + k];
  }
  for (size_t k = 0; k < K; ++k)
    r.coords.push_back(norm2_[k] > 0 ? static_cast<float>(dots[k] / norm2_[k]) : 0.0f);
  r.distance = std::sqrt(total);
  for (const auto& slots : group_slots_) {
    double g = 0.0;
    for (int s : slots) g += sq[static_cast<size_t>(s)];
    r.group_distance.push_back(static_cast<float>(std::sqrt(g)));
  }
  if (full && !sampled_.empty()) {
    std::vector<torch::Tensor> kept;
    for (size_t j = 0; j < P; ++j)
      if (sampled_[j].numel() > 0)
        kept.push_back((params[j].detach() - start_[j])
                           .flatten()
                           .index_select(0, sampled_[j])
                           .to(torch::kFloat));
    const auto all = torch::cat(kept).to(torch::kCPU).contiguous();
    r.full.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
  }
  return r;
}

}  // namespace maw::train
