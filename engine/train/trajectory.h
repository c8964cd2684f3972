// The run's path in parameter space (issue step 14): θ_t − θ_0 projected on K fixed random
// directions, filter-normalized to θ_0 (Li et al., "Visualizing the Loss Landscape of Neural
// Nets", 2018: each filter — a weight's slice along its first axis — of a direction has the
// norm of θ_0's filter; biases and other 1-d parameters get no direction), and ‖θ_t − θ_0‖
// overall and per group. The directions depend on the seed and θ_0 only, so every
// optimizer of a comparison (one seed, one initialization) is drawn on the same plane.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "api/records.h"
#include "optim/param_groups.h"

namespace maw::train {

class Trajectory {
 public:
  // θ_0 = `params` now (copied), K = `directions` drawn from a generator seeded by `seed`
  // (on the CPU: the same directions on every device).
  Trajectory(const std::vector<torch::Tensor>& params, const std::vector<optim::ParamGroup>& groups,
             int directions, uint64_t seed);
  int directions() const { return static_cast<int>(dirs_.size()); }
  // d_k per parameter (a zero-size tensor where a parameter has no direction).
  const std::vector<std::vector<torch::Tensor>>& direction_tensors() const { return dirs_; }
  // Σ over the directions' elements of |d|·(k+1): equal for runs on one plane.
  double checksum() const { return checksum_; }
  // Where `params` are: one pass over them, one host copy. With `full`, also θ_t − θ_0 at
  // the sampled coordinates (keep_full).
  TrajectoryRecord measure(int64_t step, const std::vector<torch::Tensor>& params,
                           bool full = false) const;
  // Samples every ⌈P / max⌉-th parameter (model order) for the full snapshots; returns M.
  int64_t keep_full(int64_t max_coordinates);

 private:
  std::vector<torch::Tensor> start_;              // θ_0
  std::vector<std::vector<torch::Tensor>> dirs_;  // [K][param]
  std::vector<double> norm2_;                     // ‖d_k‖²
  std::vector<std::vector<int>> group_slots_;     // [G]: parameter slots
  double checksum_ = 0.0;
  std::vector<torch::Tensor> sampled_;  // per parameter: the local indices kept (may be empty)
};

}  // namespace maw::train
