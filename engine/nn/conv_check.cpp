#include "nn/conv_check.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <torch/torch.h>

#include <cmath>
#include <mutex>
#include <sstream>

namespace maw::nn {
namespace {

// Relative to the reference's largest magnitude; NaN counts as infinitely wrong.
double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double scale = std::max(1.0, want.abs().max().item<double>());
  const double e = (got.to(torch::kDouble) - want).abs().max().item<double>();
  return std::isfinite(e) ? e / scale : INFINITY;
}

}  // namespace

ConvCheckResult measure_cpu_convolution() {
  auto gen = at::detail::createCPUGenerator(20251202);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat);
  ConvCheckResult r;
  struct Geometry {
    int64_t kernel, stride, padding;
  };
  // The channel counts cover oneDNN's padded blocks (1–24 with 8- and 16-wide blocks) and
  // the image task's widths; the geometries are ResNet's: 3×3 at stride 1 and 2, the 1×1
  // stride-2 shortcut.
  for (const int64_t c : {1, 3, 4, 8, 12, 16, 20, 24, 32}) {
    for (const Geometry g : {Geometry{3, 1, 1}, Geometry{3, 2, 1}, Geometry{1, 2, 0}}) {
      const int64_t o = 2 * c;
      const auto x = torch::randn({4, c, 12, 12}, gen, f32);
      const auto w = torch::randn({o, c, g.kernel, g.kernel}, gen, f32).mul_(0.1);
      torch::Tensor y, gx, gw, gy;
      {
        torch::AutoGradMode on(true);
        const auto xv = x.clone().requires_grad_(true), wv = w.clone().requires_grad_(true);
        y = torch::conv2d(xv, wv, {}, g.stride, g.padding);
        gy = torch::randn(y.sizes(), gen, f32);
        const auto grads = torch::autograd::grad({y}, {xv, wv}, {gy});
        gx = grads[0];
        gw = grads[1];
      }
      // float64: LibTorch's native kernels (oneDNN has no float64 convolution).
      torch::Tensor ry, rgx, rgw;
      {
        torch::AutoGradMode on(true);
        const auto xd = x.to(torch::kDouble).requires_grad_(true);
        const auto wd = w.to(torch::kDouble).requires_grad_(true);
        ry = torch::conv2d(xd, wd, {}, g.stride, g.padding);
        const auto grads = torch::autograd::grad({ry}, {xd, wd}, {gy.to(torch::kDouble)});
        rgx = grads[0];
        rgw = grads[1];
      }
      const std::pair<const char*, double> errors[] = {
          {"forward", relative_error(y, ry)},
          {"input gradient", relative_error(gx, rgx)},
          {"weight gradient", relative_error(gw, rgw)}};
      for (const auto& [what, e] : errors) {
        if (e > r.worst_error) r.worst_error = e;
        if (e > 1e-3 && r.first_failure.empty()) {
          std::ostringstream s;
          s << what << " of a " << g.kernel << "x" << g.kernel << " stride-" << g.stride
            << " convolution with " << c << (c == 1 ? " input channel" : " input channels")
            << ", relative error " << (std::isfinite(e) ? std::to_string(e) : std::string("NaN"));
          r.first_failure = s.str();
        }
      }
    }
  }
  return r;
}

const ConvCheck& check_cpu_convolution() {
  static ConvCheck result;
  static std::once_flag once;
  std::call_once(once, [] {
    auto& ctx = at::globalContext();
    if (!ctx.userEnabledMkldnn() || !at::hasMKLDNN()) {
      result.summary = "native";
      return;
    }
    const auto m = measure_cpu_convolution();
    if (m.first_failure.empty()) {
      result.onednn_used = true;
      result.summary = "onednn (passed a known-answer check)";
      return;
    }
    ctx.setUserEnabledMkldnn(false);
    result.summary = "native: oneDNN's convolution failed a known-answer check on this CPU (" +
                     m.first_failure + ")";
  });
  return result;
}

}  // namespace maw::nn
