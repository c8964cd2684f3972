// Our AdamW against LibTorch's torch::optim::AdamW: same options, same gradients, the
// parameters must be bitwise equal after every one of 200 steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <string>
#include <vector>

#include "optim/adamw.h"

namespace maw::optim {
namespace {

const std::vector<std::vector<int64_t>> kShapes = {{7},     {3, 5},       {2, 3, 4}, {1},
                                                   {16, 8}, {2, 1, 3, 3}, {33},      {4, 1}};

std::vector<torch::Tensor> make_params(torch::Dtype dtype, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> ps;
  for (const auto& s : kShapes)
    ps.push_back(torch::randn(s, gen, torch::TensorOptions().dtype(dtype)).set_requires_grad(true));
  return ps;
}

std::vector<torch::Tensor> clone_all(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

// The same gradient values into each parameter list; `skip` leaves some without grad.
void set_grads(std::vector<std::vector<torch::Tensor>*> lists, at::Generator& gen, int step,
               bool skip) {
  const auto& ref = *lists[0];
  for (size_t i = 0; i < ref.size(); ++i) {
    auto g = torch::randn(ref[i].sizes(), gen, ref[i].options().requires_grad(false)) *
             (1.0 + static_cast<double>(i));
    const bool none = skip && (step + static_cast<int>(i)) % 5 == 0;
    for (auto* l : lists) (*l)[i].mutable_grad() = none ? torch::Tensor() : g.clone();
  }
}

void expect_bitwise_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                          int step) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    ASSERT_TRUE(torch::equal(a[i], b[i]))
        << "tensor " << i << " differs at step " << step << ", max |diff| "
        << (a[i] - b[i]).abs().max().item<double>();
}

void run_against_torch(torch::Dtype dtype, bool skip_some) {
  auto ours = make_params(dtype, 1);
  auto theirs = clone_all(ours);
  const double lr = 3e-3, wd = 0.05;
  AdamW mine({{"all", ours, AdamWOptions(lr).weight_decay(wd).betas(0.8, 0.99).eps(1e-7)}});
  mine.set_fused(false);  // the composite path is the one bitwise equal to torch
  torch::optim::AdamW ref(
      theirs, torch::optim::AdamWOptions(lr).weight_decay(wd).betas({0.8, 0.99}).eps(1e-7));
  auto gen = at::detail::createCPUGenerator(2);
  for (int step = 1; step <= 200; ++step) {
    set_grads({&ours, &theirs}, gen, step, skip_some);
    mine.step();
    ref.step();
    expect_bitwise_equal(ours, theirs, step);
  }
}

TEST(AdamW, BitwiseEqualTorchAdamWFloat32) {
  run_against_torch(torch::kFloat, false);
}

TEST(AdamW, BitwiseEqualTorchAdamWFloat64) {
  run_against_torch(torch::kDouble, false);
}

TEST(AdamW, TensorsWithoutGradientSkipTheirStepLikeTorch) {
  run_against_torch(torch::kFloat, true);
}

TEST(AdamW, PerGroupOptionsMatchTorchParamGroups) {
  auto ours = make_params(torch::kFloat, 3);
  auto theirs = clone_all(ours);
  const auto o1 = AdamWOptions(1e-2).weight_decay(0.1);
  const auto o2 = AdamWOptions(5e-4).weight_decay(0.0).betas(0.95, 0.9).eps(1e-6);
  std::vector<torch::Tensor> a(ours.begin(), ours.begin() + 3), b(ours.begin() + 3, ours.end());
  AdamW mine({{"first", a, o1}, {"second", b, o2}});
  mine.set_fused(false);
  std::vector<torch::Tensor> ta(theirs.begin(), theirs.begin() + 3),
      tb(theirs.begin() + 3, theirs.end());
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(ta, std::make_unique<torch::optim::AdamWOptions>(
                              torch::optim::AdamWOptions(1e-2).weight_decay(0.1)));
  groups.emplace_back(
      tb, std::make_unique<torch::optim::AdamWOptions>(
              torch::optim::AdamWOptions(5e-4).weight_decay(0.0).betas({0.95, 0.9}).eps(1e-6)));
  torch::optim::AdamW ref(std::move(groups));
  auto gen = at::detail::createCPUGenerator(4);
  for (int step = 1; step <= 200; ++step) {
    set_grads({&ours, &theirs}, gen, step, false);
    mine.step();
    ref.step();
    expect_bitwise_equal(ours, theirs, step);
  }
}

// Saved after `half` steps and resumed by a new optimizer (all state from the file): bitwise
// the uninterrupted run after 2·half steps.
void resumed_equals_uninterrupted(AdamWKernel kernel, int half, bool skip_some) {
  auto straight = make_params(torch::kFloat, 5);
  auto resumed = clone_all(straight);
  const auto o = AdamWOptions(2e-3).weight_decay(0.02);
  AdamW a({{"g", straight, o}});
  a.set_kernel(kernel);
  auto gen_a = at::detail::createCPUGenerator(6);
  auto gen_b = at::detail::createCPUGenerator(6);
  const std::string path =
      ::testing::TempDir() + "adamw_state_" + adamw_kernel_name(kernel) + ".pt";
  {
    AdamW b({{"g", resumed, o}});
    b.set_kernel(kernel);
    for (int step = 1; step <= half; ++step) {
      set_grads({&straight}, gen_a, step, skip_some);
      a.step();
      set_grads({&resumed}, gen_b, step, skip_some);
      b.step();
    }
    b.save(path);
  }
  AdamW c({{"g", resumed, o}});
  c.set_kernel(kernel);
  c.load(path);
  for (int step = half + 1; step <= 2 * half; ++step) {
    set_grads({&straight}, gen_a, step, skip_some);
    a.step();
    set_grads({&resumed}, gen_b, step, skip_some);
    c.step();
  }
  expect_bitwise_equal(straight, resumed, 2 * half);
  EXPECT_EQ(c.state(0, 0).step, a.state(0, 0).step);
  if (!skip_some) {
    EXPECT_EQ(c.state(0, 0).step, 2 * half);
  }
  std::remove(path.c_str());
}

TEST(AdamW, SavedAtStep100AndResumedEqualsUninterruptedAtStep200) {
  resumed_equals_uninterrupted(AdamWKernel::kAuto, 100, false);
}

// The fused CPU kernel against the composite path (the reference): one rounding per
// contracted multiply-add may differ, nothing more — relative 1e-6 after each of 200 steps.
void fused_against_composite(torch::Dtype dtype, bool skip_some,
                             AdamWKernel kernel = AdamWKernel::kAuto, double tol = 1e-6) {
  auto fused = make_params(dtype, 11);
  auto composite = clone_all(fused);
  const auto o = AdamWOptions(3e-3).weight_decay(0.05).betas(0.8, 0.99).eps(1e-7);
  std::vector<torch::Tensor> fa(fused.begin(), fused.begin() + 4),
      fb(fused.begin() + 4, fused.end());
  std::vector<torch::Tensor> ca(composite.begin(), composite.begin() + 4),
      cb(composite.begin() + 4, composite.end());
  const auto o2 = AdamWOptions(1e-3).weight_decay(0.0);
  AdamW f({{"a", fa, o}, {"b", fb, o2}});
  AdamW c({{"a", ca, o}, {"b", cb, o2}});
  f.set_kernel(kernel);
  ASSERT_TRUE(f.fused());
  c.set_fused(false);
  auto gen = at::detail::createCPUGenerator(12);
  double worst = 0;
  for (int step = 1; step <= 200; ++step) {
    set_grads({&fused, &composite}, gen, step, skip_some);
    f.step();
    c.step();
    for (size_t i = 0; i < fused.size(); ++i) {
      const double scale = composite[i].abs().max().item<double>();
      const double diff = (fused[i] - composite[i]).abs().max().item<double>();
      worst = std::max(worst, diff / scale);
      ASSERT_LE(diff, tol * scale) << "tensor " << i << " at step " << step;
    }
  }
  // The moments agree too, and the run really took the fused path (not bitwise equal
  // everywhere: contraction changes some roundings).
  for (size_t g = 0; g < 2; ++g)
    for (size_t k = 0; k < 4; ++k) {
      const auto& a = f.state(g, k);
      const auto& b = c.state(g, k);
      EXPECT_EQ(a.step, b.step);
      EXPECT_TRUE(torch::allclose(a.exp_avg_sq, b.exp_avg_sq, 1e-5, 0));
      EXPECT_FALSE(a.denom.defined());  // the fused path allocates no scratch
    }
  std::printf("fused (%s) vs composite (%s): worst relative difference %.3g\n",
              adamw_kernel_name(f.kernel_for(torch::kCPU)),
              dtype == torch::kFloat ? "float32" : "float64", worst);
}

TEST(AdamW, FusedKernelMatchesTheCompositePathFloat32) {
  fused_against_composite(torch::kFloat, false);
}

TEST(AdamW, FusedKernelMatchesTheCompositePathFloat64WithSkippedTensors) {
  fused_against_composite(torch::kDouble, true);
}

TEST(AdamW, AutoTakesOurKernelOnCpu) {
  auto ps = make_params(torch::kFloat, 3);
  AdamW a({{"g", ps, AdamWOptions()}});
  EXPECT_EQ(a.kernel_for(torch::kCPU), AdamWKernel::kOurs);
  EXPECT_EQ(a.kernel_for(torch::Device(torch::kCUDA, 0)),
            aten_fused_adamw_available() ? AdamWKernel::kAten : AdamWKernel::kComposite);
  a.set_fused(false);
  EXPECT_EQ(a.kernel_for(torch::kCPU), AdamWKernel::kComposite);
  for (auto k :
       {AdamWKernel::kAuto, AdamWKernel::kOurs, AdamWKernel::kAten, AdamWKernel::kComposite})
    EXPECT_EQ(parse_adamw_kernel(adamw_kernel_name(k)), k);
  EXPECT_FALSE(parse_adamw_kernel("fused").has_value());
}

// ATen's fused AdamW (LibTorch >= 2.4): another operation order (m by lerp), so equal to
// rounding — relative 1e-5 after each of 200 steps, tensors without gradient included —
// and it continues exactly from a saved state (its step scalars are remade from ours).
TEST(AdamW, AtenFusedKernelMatchesTheCompositePath) {
  if (!aten_fused_adamw_available()) {
    auto ps = make_params(torch::kFloat, 3);
    AdamW a({{"g", ps, AdamWOptions()}});
    try {
      a.set_kernel(AdamWKernel::kAten);
      ADD_FAILURE() << "kernel 'aten' accepted without at::_fused_adamw_";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("LibTorch >= 2.4"), std::string::npos) << e.what();
    }
    GTEST_SKIP() << "LibTorch " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR
                 << " has no CPU at::_fused_adamw_ (2.4+): the refusal is checked";
  }
  fused_against_composite(torch::kFloat, true, AdamWKernel::kAten, 1e-5);
  fused_against_composite(torch::kDouble, false, AdamWKernel::kAten, 1e-12);
}

TEST(AdamW, AtenFusedKernelResumesFromASavedState) {
  if (!aten_fused_adamw_available()) GTEST_SKIP() << "no at::_fused_adamw_ (LibTorch < 2.4)";
  resumed_equals_uninterrupted(AdamWKernel::kAten, 50, true);
}

// On CUDA `auto` takes ATen's fused kernel where built in (LibTorch >= 2.4): one
// multi-tensor launch, equal to the composite path to rounding (run by
// scripts/gpu-check.sh when a GPU is there).
TEST(AdamWCuda, AutoTakesAtenFusedKernelAndMatchesTheCompositePath) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  if (!aten_fused_adamw_available()) GTEST_SKIP() << "no at::_fused_adamw_ (LibTorch < 2.4)";
  std::vector<torch::Tensor> a, b;
  for (const auto& p : make_params(torch::kFloat, 21)) {
    a.push_back(p.detach().to(torch::kCUDA).set_requires_grad(true));
    b.push_back(p.detach().to(torch::kCUDA).set_requires_grad(true));
  }
  const auto o = AdamWOptions(3e-3).weight_decay(0.05).betas(0.8, 0.99).eps(1e-7);
  AdamW fused({{"g", a, o}}), composite({{"g", b, o}});
  ASSERT_EQ(fused.kernel_for(a[0].device()), AdamWKernel::kAten);
  composite.set_fused(false);
  auto gen = at::detail::createCPUGenerator(22);
  for (int step = 1; step <= 100; ++step) {
    for (size_t i = 0; i < a.size(); ++i) {
      const bool none = (step + static_cast<int>(i)) % 5 == 0;
      auto g = torch::randn(a[i].sizes(), gen).to(torch::kCUDA);
      a[i].mutable_grad() = none ? torch::Tensor() : g;
      b[i].mutable_grad() = none ? torch::Tensor() : g.clone();
    }
    fused.step();
    composite.step();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    const double scale = b[i].abs().max().item<double>();
    EXPECT_LE((a[i] - b[i]).abs().max().item<double>(), 1e-5 * scale) << "tensor " << i;
    EXPECT_EQ(fused.state(0, i).step, composite.state(0, i).step);
  }
}

TEST(AdamW, LoadRejectsStateOfAnotherShape) {
  auto ps = make_params(torch::kFloat, 7);
  AdamW a({{"g", ps, AdamWOptions()}});
  for (auto& p : ps) p.mutable_grad() = torch::ones_like(p);
  a.step();
  const std::string path = ::testing::TempDir() + "adamw_state_shape.pt";
  a.save(path);
  std::vector<torch::Tensor> other;
  for (auto& p : ps) other.push_back(torch::zeros({p.numel() + 1}).set_requires_grad(true));
  AdamW b({{"g", other, AdamWOptions()}});
  EXPECT_THROW(b.load(path), std::runtime_error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace maw::optim
