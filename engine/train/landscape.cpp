#include "train/landscape.h"

#include <algorithm>
#include <cmath>

#include "api/errors.h"

namespace maw::train {
namespace {

// The parameters as they are now, put back when the scope ends (an exception included).
class Restore {
 public:
  explicit Restore(const std::vector<torch::Tensor>& params) : params_(params) {
    for (const auto& p : params) saved_.push_back(p.detach().clone());
  }
  ~Restore() {
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < params_.size(); ++k) params_[k].detach().copy_(saved_[k]);
  }
  const torch::Tensor& operator[](size_t k) const { return saved_[k]; }

 private:
  const std::vector<torch::Tensor>& params_;
  std::vector<torch::Tensor> saved_;
};

double loss_at(tasks::Task& task, const data::Batch& batch) {
  auto ctx = task.model().ctx(/*training=*/false, /*update_buffers=*/false);
  return task.loss(task.model().forward(ctx, batch), batch).item<double>();
}

}  // namespace

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw ConfigError(
          "device 'cuda' requested, but no CUDA device is available to this build of LibTorch "
          "(Debian's is CPU-only; build against a CUDA LibTorch)");
    return torch::kCUDA;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

double path_half_width(const std::vector<std::pair<double, double>>& path, double cx, double cy) {
  double r = 0.0;
  for (const auto& [x, y] : path) r = std::max({r, std::abs(x - cx), std::abs(y - cy)});
  return r > 0 ? 1.25 * r : 1e-3;
}

data::Batch fixed_batch(const tasks::Task& task, int64_t eval_batch, const torch::Device& device,
                        int64_t* examples) {
  const int64_t n = std::min<int64_t>(task.eval().size(), eval_batch);
  if (examples) *examples = n;
  return task.eval().get(torch::arange(0, n, torch::kLong)).to(device);
}

bool landscape_grid(tasks::Task& task, const std::vector<torch::Tensor>& params,
                    const std::vector<torch::Tensor>& d1, const std::vector<torch::Tensor>& d2,
                    const data::Batch& batch, int64_t grid, LandscapeRecord& rec,
                    const ProbeSteps& steps) {
  torch::NoGradGuard no_grad;
  const Restore theta(params);
  const int64_t n = grid;
  const double r = rec.half_width;
  auto at = [n, r](double centre, int64_t i) {
    return centre +
           (n > 1 ? r * (2.0 * static_cast<double>(i) / static_cast<double>(n - 1) - 1.0) : 0.0);
  };
  const double ax = rec.anchor_or_center_x(), ay = rec.anchor_or_center_y();
  rec.loss.clear();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (steps.cancelled && steps.cancelled()) return false;
      const double dx = at(rec.center_x, j) - ax, dy = at(rec.center_y, i) - ay;
      for (size_t k = 0; k < params.size(); ++k) {
        auto p = params[k].detach();
        p.copy_(theta[k]);
        if (d1[k].defined() && d1[k].numel() > 0) p.add_(d1[k].to(p.device()), dx);
        if (d2[k].defined() && d2[k].numel() > 0) p.add_(d2[k].to(p.device()), dy);
      }
      rec.loss.push_back(static_cast<float>(loss_at(task, batch)));
      if (steps.progress) steps.progress(i * n + j + 1, n * n);
    }
  return true;
}

bool interpolation_line(tasks::Task& task, const ModelState& a, const ModelState& b,
                        const data::Batch& batch, InterpolationRecord& rec,
                        const ProbeSteps& steps) {
  torch::NoGradGuard no_grad;
  auto& store = task.model().store();
  const auto& params = store.parameters();
  auto& buffers = store.buffers();
  const Restore theta(params), stats(buffers);
  const auto n = static_cast<int64_t>(rec.alpha.size());
  rec.loss.clear();
  for (int64_t i = 0; i < n; ++i) {
    if (steps.cancelled && steps.cancelled()) return false;
    const double t = rec.alpha[static_cast<size_t>(i)];
    for (size_t k = 0; k < params.size(); ++k) {
      auto p = params[k].detach();
      p.copy_(a.params[k]);
      p.add_(b.params[k] - a.params[k], t);
    }
    for (size_t k = 0; k < buffers.size() && k < a.buffers.size() && k < b.buffers.size(); ++k) {
      buffers[k].copy_(a.buffers[k]);
      if (buffers[k].is_floating_point()) buffers[k].add_(b.buffers[k] - a.buffers[k], t);
    }
    rec.loss.push_back(static_cast<float>(loss_at(task, batch)));
    if (steps.progress) steps.progress(i + 1, n);
  }
  return true;
}

}  // namespace maw::train
