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

TEST(AdamW, SavedAtStep100AndResumedEqualsUninterruptedAtStep200) {
  auto straight = make_params(torch::kFloat, 5);
  auto resumed = clone_all(straight);
  const auto o = AdamWOptions(2e-3).weight_decay(0.02);
  AdamW a({{"g", straight, o}});
  auto gen_a = at::detail::createCPUGenerator(6);
  auto gen_b = at::detail::createCPUGenerator(6);
  const std::string path = ::testing::TempDir() + "adamw_state.pt";
  {
    AdamW b({{"g", resumed, o}});
    for (int step = 1; step <= 100; ++step) {
      set_grads({&straight}, gen_a, step, false);
      a.step();
      set_grads({&resumed}, gen_b, step, false);
      b.step();
    }
    b.save(path);
  }
  AdamW c({{"g", resumed, o}});  // a new optimizer: all state comes from the file
  c.load(path);
  for (int step = 101; step <= 200; ++step) {
    set_grads({&straight}, gen_a, step, false);
    a.step();
    set_grads({&resumed}, gen_b, step, false);
    c.step();
  }
  expect_bitwise_equal(straight, resumed, 200);
  EXPECT_EQ(c.state(0, 0).step, 200);
  std::remove(path.c_str());
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
