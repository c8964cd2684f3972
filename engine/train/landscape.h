// The loss around a point of parameter space, on a fixed evaluation batch (the evaluation
// split's first max(batch, 256) examples): over a grid in the trajectory's plane (Li et al.,
// 2018) and along the line between two points (Goodfellow et al., 2015). The trainer computes
// the end-of-run landscape with it; the probes (api/probe.h) compute both after a run, from
// its log. The parameters are moved in place and restored after, however it ends.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "api/records.h"
#include "tasks/task.h"

namespace maw::train {

// "cpu", "cuda" or "auto" (CUDA when this LibTorch has a device); ConfigError for "cuda"
// without one.
torch::Device resolve_device(const std::string& name);

// The seed stream of the trajectory's directions (every optimizer of a seed: one plane).
inline constexpr uint64_t kTrajectoryStream = 0xd6e8feb86659fd93ULL;

// Checked before every evaluation (true: abandon, nothing reported); told after each.
struct ProbeSteps {
  std::function<bool()> cancelled;
  std::function<void(int64_t done, int64_t total)> progress;
};

// The half-width that shows a path around (cx, cy): its farthest point on either axis,
// × 1.25 (1e-3 for a path that has not moved).
double path_half_width(const std::vector<std::pair<double, double>>& path, double cx, double cy);

// The fixed batch: the evaluation split's first min(size, eval_batch) examples.
data::Batch fixed_batch(const tasks::Task& task, int64_t eval_batch, const torch::Device& device,
                        int64_t* examples);

// Fills rec.loss over an N × N grid (n = `grid`) around rec.center_x/y of half-width
// rec.half_width, the parameters at θ + (x − rec.anchor_x)·d₁ + (y − rec.anchor_y)·d₂ where
// θ = `params` now. False when cancelled.
bool landscape_grid(tasks::Task& task, const std::vector<torch::Tensor>& params,
                    const std::vector<torch::Tensor>& d1, const std::vector<torch::Tensor>& d2,
                    const data::Batch& batch, int64_t grid, LandscapeRecord& rec,
                    const ProbeSteps& steps = {});

// A model's state: its parameters and buffers (BatchNorm's running statistics), in the
// store's order.
struct ModelState {
  std::vector<torch::Tensor> params, buffers;
};

// Fills rec.loss at (1 − a)·θ_a + a·θ_b for each a of rec.alpha — the floating-point buffers
// interpolated alike (BatchNorm's statistics of θ(a) are not known; the line between the two
// ends' is the usual stand-in), integer ones a's — the task's model moved from and restored
// to what it holds now. False when cancelled.
bool interpolation_line(tasks::Task& task, const ModelState& a, const ModelState& b,
                        const data::Batch& batch, InterpolationRecord& rec,
                        const ProbeSteps& steps = {});

}  // namespace maw::train
