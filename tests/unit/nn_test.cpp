// Models on substitutable parameters (METAADAMW.md §5): a forward on a copied parameter
// list equals the forward on the model's own; gradients into a substituted list match
// finite differences; and the gradient of a gradient norm (second order) matches finite
// differences through every layer, in double precision.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include "nn/models.h"
#include "test_models.h"

namespace maw::nn {
namespace {

using maw::testing::Probe;
using Batch = data::Batch;

Ctx ctx_on(const std::vector<torch::Tensor>& params, Model& m, bool training = true) {
  Ctx c = m.ctx(training, false);
  c.params = &params;
  return c;
}

// A scalar with non-zero second derivatives in the outputs.
torch::Tensor objective(const torch::Tensor& out) {
  auto w = torch::linspace(-1.0, 1.5, out.numel(), out.options()).view(out.sizes());
  return (torch::tanh(out) * w).sum() + 0.1 * out.pow(2).sum();
}

std::vector<torch::Tensor> shifted(const std::vector<torch::Tensor>& ps,
                                   const std::vector<torch::Tensor>& dir, double eps) {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < ps.size(); ++i)
    out.push_back((ps[i].detach() + eps * dir[i]).set_requires_grad(true));
  return out;
}

std::vector<torch::Tensor> random_direction(const std::vector<torch::Tensor>& ps, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> d;
  for (const auto& p : ps)
    d.push_back(torch::randn(p.sizes(), gen, p.options().requires_grad(false)));
  return d;
}

double dot(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (a[i] * b[i]).sum().item<double>();
  return s;
}

double loss_at(Model& m, const Batch& b, const std::vector<torch::Tensor>& ps) {
  torch::NoGradGuard ng;
  return objective(m.forward(ctx_on(ps, m), b)).item<double>();
}

// h(θ) = ‖∇L(θ)‖²: the quantity whose gradient needs double backward.
torch::Tensor grad_norm_sq(Model& m, const Batch& b, const std::vector<torch::Tensor>& ps,
                           bool create_graph) {
  auto L = objective(m.forward(ctx_on(ps, m), b));
  auto g = torch::autograd::grad({L}, ps, {}, /*retain_graph=*/true, create_graph,
                                 /*allow_unused=*/true);
  auto h = torch::zeros({}, L.options());
  for (const auto& gi : g)
    if (gi.defined()) h = h + gi.pow(2).sum();
  return h;
}

// Checks first and second order along two random directions.
void check_gradients(Model& m, const Batch& b) {
  auto ps = m.store().clone_parameters();  // a substituted list, not the model's own
  // First order: ⟨∇L, u⟩ vs central differences of L.
  auto L = objective(m.forward(ctx_on(ps, m), b));
  auto g = torch::autograd::grad({L}, ps, {}, true, false, true);
  for (auto& gi : g)
    if (!gi.defined()) gi = torch::zeros({}, L.options());
  // Second order: ⟨∇h, u⟩ vs central differences of h.
  auto h = grad_norm_sq(m, b, ps, /*create_graph=*/true);
  auto gh = torch::autograd::grad({h}, ps, {}, false, false, true);
  double gh_norm = 0;
  for (auto& x : gh) {
    if (!x.defined()) x = torch::zeros({}, h.options());
    gh_norm += x.pow(2).sum().item<double>();
  }
  EXPECT_GT(gh_norm, 0.0) << "second-order gradient is identically zero";
  for (uint64_t seed : {101u, 202u}) {
    const auto u = random_direction(ps, seed);
    const double eps = 1e-5;
    const double fd1 =
        (loss_at(m, b, shifted(ps, u, eps)) - loss_at(m, b, shifted(ps, u, -eps))) / (2 * eps);
    const double an1 = dot(g, u);
    EXPECT_NEAR(an1, fd1, 1e-6 * std::max(1.0, std::abs(fd1))) << "first order";
    const double fd2 = (grad_norm_sq(m, b, shifted(ps, u, eps), false).item<double>() -
                        grad_norm_sq(m, b, shifted(ps, u, -eps), false).item<double>()) /
                       (2 * eps);
    const double an2 = dot(gh, u);
    EXPECT_NEAR(an2, fd2, 1e-6 * std::max(1.0, std::abs(fd2))) << "second order";
  }
}

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn(shape, gen, torch::TensorOptions().dtype(torch::kDouble));
}

TEST(SubstitutedParams, ForwardOnCopiedListEqualsForwardOnOwnParameters) {
  TransformerClassifierOptions o;
  o.vocab = 30;
  o.max_len = 10;
  TransformerClassifier model(o, 3);
  Batch b;
  b.x = torch::randint(0, 30, {4, 10}, torch::kLong);
  b.x_mask = torch::zeros({4, 10}, torch::kBool);
  b.x_mask.index_put_({1, torch::indexing::Slice(6)}, true);
  auto own = model.forward(model.ctx(true, false), b);
  auto copy = model.store().clone_parameters();
  auto sub = model.forward(ctx_on(copy, model), b);
  EXPECT_TRUE(torch::equal(own, sub));
  // And the substituted list really is what the forward reads.
  copy[0] = copy[0].detach() + 1.0;
  EXPECT_FALSE(torch::equal(own, model.forward(ctx_on(copy, model), b)));
}

TEST(SubstitutedParams, GradientsFlowIntoTheSubstitutedListNotTheModel) {
  MLP mlp(3, {5}, 2, 0, torch::kDouble);
  Batch b;
  b.x = randn({6, 3}, 1);
  auto ps = mlp.store().clone_parameters();
  objective(mlp.forward(ctx_on(ps, mlp), b)).backward();
  for (const auto& p : ps) EXPECT_TRUE(p.grad().defined());
  for (const auto& p : mlp.store().parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(SecondOrder, Linear) {
  Probe m([](const Scope& s) {
    Linear l(s.child("lin", "Linear"), 3, 4);
    return Probe::Forward([l](const Ctx& c, const Batch& b) { return l.forward(c, b.x); });
  });
  Batch b;
  b.x = randn({5, 3}, 2);
  check_gradients(m, b);
}

TEST(SecondOrder, Mlp) {
  MLP m(3, {6, 6}, 2, 4, torch::kDouble);
  Batch b;
  b.x = randn({5, 3}, 3);
  check_gradients(m, b);
}

TEST(SecondOrder, EmbeddingAndLayerNorm) {
  Probe m([](const Scope& s) {
    Embedding e(s.child("emb", "Embedding"), 7, 4);
    LayerNorm ln(s.child("ln", "LayerNorm"), 4);
    return Probe::Forward(
        [e, ln](const Ctx& c, const Batch& b) { return ln.forward(c, e.forward(c, b.x)); });
  });
  Batch b;
  b.x = torch::tensor({{1, 3, 3}, {0, 6, 2}}, torch::kLong);
  check_gradients(m, b);
}

TEST(SecondOrder, Conv2dAndBatchNormInTraining) {
  Probe m([](const Scope& s) {
    Conv2d conv(s.child("conv", "Conv2d"), 2, 3, 3, 1, 1);
    BatchNorm2d bn(s.child("bn", "BatchNorm2d"), 3);
    return Probe::Forward(
        [conv, bn](const Ctx& c, const Batch& b) { return bn.forward(c, conv.forward(c, b.x)); });
  });
  Batch b;
  b.x = randn({3, 2, 4, 4}, 5);
  check_gradients(m, b);
}

TEST(SecondOrder, TransformerBlockWithCausalAndPaddingMasks) {
  Probe m([](const Scope& s) {
    TransformerBlock blk(s.sub("layers").child("0", "TransformerBlock"), 8, 2, 16);
    return Probe::Forward([blk](const Ctx& c, const Batch& b) {
      return blk.forward(c, b.x, AttentionMask{b.x_mask, true});
    });
  });
  Batch b;
  b.x = randn({2, 5, 8}, 6);
  b.x_mask = torch::zeros({2, 5}, torch::kBool);
  b.x_mask.index_put_({1, torch::indexing::Slice(3)}, true);
  check_gradients(m, b);
}

TEST(SecondOrder, BidirectionalLstmWithLengths) {
  Probe m([](const Scope& s) {
    LSTM lstm(s.child("lstm", "LSTM"), 3, 4, 2, true);
    return Probe::Forward(
        [lstm](const Ctx& c, const Batch& b) { return lstm.forward(c, b.x, b.lengths).sequence; });
  });
  Batch b;
  b.x = randn({2, 4, 3}, 7);
  b.lengths = torch::tensor({4, 2}, torch::kLong);
  check_gradients(m, b);
}

TEST(BatchNorm, RunningStatisticsChangeOnlyWhenAsked) {
  Probe m(
      [](const Scope& s) {
        BatchNorm2d bn(s.child("bn", "BatchNorm2d"), 2);
        return Probe::Forward([bn](const Ctx& c, const Batch& b) { return bn.forward(c, b.x); });
      },
      torch::kFloat);
  Batch b;
  b.x = torch::randn({4, 2, 3, 3}) * 3 + 1;
  const auto before = m.store().buffers()[0].clone();
  m.forward(m.ctx(/*training=*/true, /*update_buffers=*/false), b);
  EXPECT_TRUE(torch::equal(before, m.store().buffers()[0]));
  m.forward(m.ctx(true, true), b);
  EXPECT_FALSE(torch::equal(before, m.store().buffers()[0]));
  // Eval mode normalizes with the running statistics, so the output depends on them.
  auto e1 = m.forward(m.ctx(false, false), b);
  m.store().buffers()[0].add_(1.0);
  auto e2 = m.forward(m.ctx(false, false), b);
  EXPECT_FALSE(torch::allclose(e1, e2));
}

TEST(Lstm, PaddingDoesNotLeakIntoOutputsOrFinalStates) {
  Probe m([](const Scope& s) {
    LSTM lstm(s.child("lstm", "LSTM"), 3, 4, 2, true);
    return Probe::Forward([lstm](const Ctx& c, const Batch& b) {
      auto o = lstm.forward(c, b.x, b.lengths);
      return torch::cat({o.sequence.flatten(1), o.h_n.transpose(0, 1).flatten(1)}, 1);
    });
  });
  auto x = randn({1, 6, 3}, 8);
  Batch padded, garbage, trimmed;
  padded.x = x;
  padded.lengths = torch::tensor({4}, torch::kLong);
  garbage.x = x.clone();
  garbage.x.index_put_({0, torch::indexing::Slice(4)}, 100.0);  // different padding values
  garbage.lengths = padded.lengths;
  trimmed.x = x.slice(1, 0, 4);
  auto c = m.ctx(true, false);
  auto a = m.forward(c, padded), g = m.forward(c, garbage), t = m.forward(c, trimmed);
  EXPECT_TRUE(torch::allclose(a, g, 0, 0));
  // Real positions and final states equal those of the unpadded sequence.
  const int64_t H2 = 8;
  EXPECT_TRUE(torch::allclose(a.slice(1, 0, 4 * H2), t.slice(1, 0, 4 * H2), 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(a.slice(1, 6 * H2), t.slice(1, 4 * H2), 1e-12, 1e-12));
  EXPECT_TRUE(torch::equal(a.slice(1, 4 * H2, 6 * H2), torch::zeros({1, 2 * H2}, a.options())));
}

TEST(Attention, CausalMaskHidesTheFutureAndPaddingIsIgnored) {
  Probe m([](const Scope& s) {
    TransformerBlock blk(s.child("blk", "TransformerBlock"), 8, 2, 16);
    return Probe::Forward([blk](const Ctx& c, const Batch& b) {
      return blk.forward(c, b.x, AttentionMask{b.x_mask, b.y.defined()});
    });
  });
  auto c = m.ctx(true, false);
  Batch causal;
  causal.x = randn({1, 5, 8}, 9);
  causal.y = torch::zeros({1});  // marks "causal" for this probe
  auto changed = causal;
  changed.x = causal.x.clone();
  changed.x.index_put_({0, 4}, 3.0);
  auto a = m.forward(c, causal), b = m.forward(c, changed);
  EXPECT_TRUE(torch::equal(a.slice(1, 0, 4), b.slice(1, 0, 4)));
  EXPECT_FALSE(torch::equal(a.slice(1, 4), b.slice(1, 4)));

  Batch pad;
  pad.x = randn({1, 5, 8}, 10);
  pad.x_mask = torch::tensor({{false, false, false, true, true}});
  auto pad2 = pad;
  pad2.x = pad.x.clone();
  pad2.x.index_put_({0, torch::indexing::Slice(3)}, -7.0);
  EXPECT_TRUE(
      torch::allclose(m.forward(c, pad).slice(1, 0, 3), m.forward(c, pad2).slice(1, 0, 3), 0, 0));
}

}  // namespace
}  // namespace maw::nn
