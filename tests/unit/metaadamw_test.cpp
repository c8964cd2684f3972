// MetaAdamW (METAADAMW.md §3–§7) checked against independent computations: LibTorch's
// AdamW, a hand-written update loop, central finite differences of the meta-objective.
#include "optim/metaadamw.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "api/errors.h"
#include "isa_variants.h"
#include "nn/models.h"
#include "nn/seq_models.h"
#include "optim/adamw.h"
#include "test_models.h"

namespace maw::optim {
namespace {

using data::Batch;

std::vector<ParamGroup> fine_groups(const nn::ParamStore& s) {
  return make_groups(s.info(), GroupingSpec{});
}

Batch regression_batch(int64_t n, int64_t in, int64_t out, uint64_t seed, torch::Dtype dt) {
  auto gen = at::detail::createCPUGenerator(seed);
  Batch b;
  b.x = torch::randn({n, in}, gen, torch::TensorOptions().dtype(dt));
  b.y = torch::randn({n, out}, gen, torch::TensorOptions().dtype(dt));
  return b;
}

LossAt mse_on(nn::MLP& model, Batch b) {
  return [&model, b](const std::vector<torch::Tensor>& ps) {
    nn::Ctx c = model.ctx(true, false);
    c.params = &ps;
    return torch::mse_loss(model.forward(c, b), b.y);
  };
}

void set_random_grads(const std::vector<torch::Tensor>& ps, at::Generator& gen) {
  for (const auto& p : ps)
    const_cast<torch::Tensor&>(p).mutable_grad() =
        torch::randn(p.sizes(), gen, p.options().requires_grad(false));
}

void copy_grads(const std::vector<torch::Tensor>& from, const std::vector<torch::Tensor>& to) {
  for (size_t i = 0; i < from.size(); ++i)
    const_cast<torch::Tensor&>(to[i]).mutable_grad() = from[i].grad().clone();
}

// ---- §4: the step -------------------------------------------------------------------

void zero_ranges_equal_adamw(torch::Dtype dt, bool device_path) {
  nn::MLP a(3, {5, 5}, 2, 1, dt), b(3, {5, 5}, 2, 1, dt), c(3, {5, 5}, 2, 1, dt);
  const auto base = AdamWOptions(2e-3).weight_decay(0.05);
  const auto meta = MetaAdamWOptions().alpha_range(0).beta_range(0).meta_update_freq(25);
  MetaAdamW mine(a.store().parameters(), a.store().info(), fine_groups(a.store()), base, meta, 7);
  mine.force_device_factor_path(device_path);
  mine.set_fused(false);  // the composite paths are the ones bitwise equal to torch
  AdamW ours({{"all", b.store().parameters(), base}});
  ours.set_fused(false);
  torch::optim::AdamW ref(c.store().parameters(),
                          torch::optim::AdamWOptions(2e-3).weight_decay(0.05));
  const auto b2 = regression_batch(8, 3, 2, 3, dt), bv = regression_batch(8, 3, 2, 4, dt);
  auto batches = [&] { return MetaBatches{mse_on(a, b2), mse_on(a, bv)}; };
  auto gen = at::detail::createCPUGenerator(9);
  for (int step = 1; step <= 200; ++step) {
    set_random_grads(a.store().parameters(), gen);
    copy_grads(a.store().parameters(), b.store().parameters());
    copy_grads(a.store().parameters(), c.store().parameters());
    mine.step(batches);  // meta-updates run every 25 steps; α = β = 1 regardless
    ours.step();
    ref.step();
    for (size_t i = 0; i < a.store().parameters().size(); ++i) {
      ASSERT_TRUE(torch::equal(a.store().parameters()[i], c.store().parameters()[i]))
          << "vs torch, tensor " << i << " step " << step;
      ASSERT_TRUE(torch::equal(a.store().parameters()[i], b.store().parameters()[i]))
          << "vs our AdamW, tensor " << i << " step " << step;
    }
  }
  EXPECT_EQ(mine.meta_updates(), 8);
}

TEST(MetaAdamW, ZeroRangesEqualTorchAdamWFloat32) {
  zero_ranges_equal_adamw(torch::kFloat, false);
}
TEST(MetaAdamW, ZeroRangesEqualTorchAdamWFloat64) {
  zero_ranges_equal_adamw(torch::kDouble, false);
}
TEST(MetaAdamW, ZeroRangesEqualTorchAdamWOnTheDeviceFactorPath) {
  zero_ranges_equal_adamw(torch::kFloat, true);
}

// The fused CPU step (one pass; the next step's ‖p‖, ‖m‖, ‖v‖ summed on the way) against
// the composite path: relative 1e-6 after each of 200 steps, meta-updates included; an
// in-place change to the parameters between steps must not be served from stale sums.
void fused_against_composite_on(torch::Dtype dt, const std::string& features) {
  const bool bitwise = testing::composite_path_uses_fma();
  nn::MLP a(6, {16, 16}, 3, 11, dt), b(6, {16, 16}, 3, 11, dt);
  const auto base = AdamWOptions(3e-3).weight_decay(0.05);
  const auto meta = MetaAdamWOptions().meta_update_freq(10).features(features);
  MetaAdamW fused(a.store().parameters(), a.store().info(), fine_groups(a.store()), base, meta, 7);
  MetaAdamW composite(b.store().parameters(), b.store().info(), fine_groups(b.store()), base, meta,
                      7);
  composite.set_fused(false);
  const auto b2 = regression_batch(16, 6, 3, 3, dt), bv = regression_batch(16, 6, 3, 4, dt);
  auto meta_a = [&] { return MetaBatches{mse_on(a, b2), mse_on(a, bv)}; };
  auto meta_b = [&] { return MetaBatches{mse_on(b, b2), mse_on(b, bv)}; };
  auto gen = at::detail::createCPUGenerator(9);
  const auto& pa = a.store().parameters();
  const auto& pb = b.store().parameters();
  double worst = 0;
  for (int step = 1; step <= 200; ++step) {
    set_random_grads(pa, gen);
    copy_grads(pa, pb);
    if (step == 57) {  // someone rescales the weights between steps (both runs)
      torch::NoGradGuard ng;
      for (size_t i = 0; i < pa.size(); ++i) {
        const_cast<torch::Tensor&>(pa[i]).mul_(0.5);
        const_cast<torch::Tensor&>(pb[i]).mul_(0.5);
      }
    }
    fused.step(meta_a);
    composite.step(meta_b);
    for (size_t i = 0; i < pa.size(); ++i) {
      const double scale = pb[i].abs().max().item<double>();
      const double diff = (pa[i] - pb[i]).abs().max().item<double>();
      worst = std::max(worst, diff / scale);
      ASSERT_LE(diff, 1e-6 * scale) << "tensor " << i << " step " << step;
      if (bitwise) {
        ASSERT_TRUE(torch::equal(pa[i], pb[i])) << "tensor " << i << " step " << step;
      }
    }
  }
  EXPECT_EQ(fused.meta_updates(), composite.meta_updates());
  EXPECT_GT(fused.meta_updates(), 10);
  std::printf("MetaAdamW fused (%s) vs composite (%s): worst relative difference %.3g\n",
              optim::kernel::isa_name(optim::kernel::active_isa()),
              dt == torch::kFloat ? "float32" : "float64", worst);
}

// Once per kernel variant the CPU can run (cpu_isa.h).
void fused_against_composite(torch::Dtype dt, const std::string& features) {
  for (auto isa : testing::runnable_isas()) {
    SCOPED_TRACE(testing::isa_label(isa));
    testing::IsaGuard use(isa);
    fused_against_composite_on(dt, features);
  }
}

// basic features read ‖p‖ and ‖v‖ (the rescale at step 57 bites there); enhanced ones
// read the zeros of m.
TEST(MetaAdamW, FusedStepMatchesTheCompositePathFloat32) {
  fused_against_composite(torch::kFloat, "basic");
}
TEST(MetaAdamW, FusedStepMatchesTheCompositePathFloat64EnhancedFeatures) {
  fused_against_composite(torch::kDouble, "enhanced");
}

TEST(MetaAdamW, FactorsPerGroupMatchAHandWrittenLoop) {
  nn::MLP a(3, {4}, 2, 2, torch::kDouble);
  const double lr = 1e-2, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const auto meta =
      MetaAdamWOptions().design_defaults("paper").alpha_range(1.2).beta_range(0.8).meta_update_freq(
          1000);
  const auto groups = fine_groups(a.store());
  MetaAdamW opt(a.store().parameters(), a.store().info(), groups, AdamWOptions(lr).weight_decay(wd),
                meta, 3);
  const auto& ps = a.store().parameters();
  std::vector<torch::Tensor> p_ref, m_ref, v_ref;
  for (const auto& p : ps) {
    p_ref.push_back(p.detach().clone());
    m_ref.push_back(torch::zeros_like(p));
    v_ref.push_back(torch::zeros_like(p));
  }
  auto gen = at::detail::createCPUGenerator(5);
  for (int t = 1; t <= 30; ++t) {
    set_random_grads(ps, gen);
    // The factors this step will use: the modulator on the current features.
    torch::Tensor factors;
    {
      torch::NoGradGuard ng;
      std::vector<torch::Tensor> g, m, v;
      for (size_t i = 0; i < ps.size(); ++i) {
        g.push_back(ps[i].grad());
        m.push_back(opt.moment(i, false));
        v.push_back(opt.moment(i, true));
      }
      const auto stats = opt.features().statistics(g, m, v, ps);
      factors =
          opt.modulator().forward(opt.features().assemble(stats, {}, {}, t), false, false).factors;
    }
    opt.step();
    const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
    for (const auto& grp : groups) {
      const auto gi = &grp - groups.data();
      const double alpha = factors[gi][0].item<double>(), beta = factors[gi][1].item<double>();
      EXPECT_NE(alpha, 1.0);
      for (int s : grp.slots) {
        const auto i = static_cast<size_t>(s);
        const auto g = ps[i].grad();
        m_ref[i] = b1 * m_ref[i] + (1 - b1) * g;
        v_ref[i] = b2 * v_ref[i] + (1 - b2) * g * g;
        p_ref[i] = p_ref[i] * (1 - lr * alpha * wd * beta) -
                   (lr * alpha / bc1) * m_ref[i] / (v_ref[i].sqrt() / std::sqrt(bc2) + eps);
        ASSERT_TRUE(torch::allclose(ps[i].detach(), p_ref[i], 1e-12, 1e-14))
            << "tensor " << i << " step " << t;
      }
    }
  }
}

// ---- §5: the meta-update --------------------------------------------------------------

struct MetaProblem {
  nn::MLP model{3, {6, 6}, 2, 11, torch::kDouble};
  Batch b1 = regression_batch(10, 3, 2, 21, torch::kDouble);
  Batch b2 = regression_batch(10, 3, 2, 22, torch::kDouble);
  Batch bv = regression_batch(10, 3, 2, 23, torch::kDouble);
};

// Central differences of the meta-objective against autograd, for every meta-parameter
// kind, on a few coordinates of each tensor.
// The meta-objective's inputs at t = 3: g1 on b1, moments before and after its update.
MetaAdamW::MetaInputs meta_inputs(MetaProblem& pb, MetaAdamW& opt) {
  auto& model = pb.model;
  const auto& ps = model.store().parameters();
  auto loss1 = mse_on(model, pb.b1)(ps);
  const auto g1 = torch::autograd::grad({loss1}, ps);
  auto gen = at::detail::createCPUGenerator(31);
  MetaAdamW::MetaInputs in;
  std::vector<torch::Tensor> m0, v0;
  for (size_t i = 0; i < ps.size(); ++i) {
    m0.push_back(0.1 * torch::randn(ps[i].sizes(), gen, ps[i].options().requires_grad(false)));
    v0.push_back(0.01 * torch::rand(ps[i].sizes(), gen, ps[i].options().requires_grad(false)));
    in.m.push_back(0.9 * m0[i] + 0.1 * g1[i]);
    in.v.push_back(0.999 * v0[i] + 0.001 * g1[i] * g1[i]);
  }
  in.stats = opt.features().statistics(g1, m0, v0, ps);
  in.step = 3;
  in.theta = ps;
  in.g1 = g1;
  in.batches = MetaBatches{mse_on(model, pb.b2), mse_on(model, pb.bv)};
  return in;
}

MetaAdamW make_meta_opt(MetaProblem& pb, const MetaAdamWOptions& meta) {
  auto& model = pb.model;
  return MetaAdamW(model.store().parameters(), model.store().info(), fine_groups(model.store()),
                   AdamWOptions(0.05).weight_decay(0.1), meta, 13);
}

// The learning design's head starts at zero (the identity): nothing upstream of it gets a
// meta-gradient until it moves. Give it values, so that every path is checked.
void perturb_head(MetaAdamW& opt, uint64_t seed) {
  torch::NoGradGuard ng;
  auto gen = at::detail::createCPUGenerator(seed);
  auto& st = opt.modulator().store();
  for (size_t i = 0; i < st.parameters().size(); ++i)
    if (st.info()[i].name.rfind("head.", 0) == 0) {
      auto& p = st.parameters()[i];
      p.add_(0.3 * torch::randn(p.sizes(), gen, p.options().requires_grad(false)));
    }
}

void check_meta_gradient_with(const MetaAdamWOptions& meta) {
  MetaProblem pb;
  MetaAdamW opt = make_meta_opt(pb, meta);
  if (!meta.paper_design()) perturb_head(opt, 19);
  auto in = meta_inputs(pb, opt);

  auto total = [&] { return opt.meta_objective(in).total; };
  const auto kinds = opt.meta_parameters();
  std::vector<torch::Tensor> all;
  for (const auto& [kind, ts] : kinds) all.insert(all.end(), ts.begin(), ts.end());
  const auto grads = torch::autograd::grad({total()}, all, {}, false, false, true);
  size_t k = 0;
  auto pick = at::detail::createCPUGenerator(77);
  for (const auto& [kind, ts] : kinds) {
    double kind_norm = 0;
    for (const auto& t : ts) {
      const auto& g = grads[k++];
      ASSERT_TRUE(g.defined()) << kind << " gets no gradient";
      kind_norm += g.abs().sum().item<double>();
      const int64_t n = t.numel();
      for (int trial = 0; trial < 3; ++trial) {
        const int64_t idx = torch::randint(n, {1}, pick, torch::kLong).item<int64_t>();
        auto flat = t.detach().view({-1});
        const double x0 = flat[idx].item<double>(), eps = 1e-6;
        {
          torch::NoGradGuard ng;
          flat[idx] = x0 + eps;
        }
        const double up = total().item<double>();
        {
          torch::NoGradGuard ng;
          flat[idx] = x0 - eps;
        }
        const double down = total().item<double>();
        {
          torch::NoGradGuard ng;
          flat[idx] = x0;
        }
        const double fd = (up - down) / (2 * eps);
        const double an = g.reshape({-1})[idx].item<double>();
        EXPECT_LE(std::abs(an - fd), 1e-4 * std::max(std::abs(fd), std::abs(an)) + 1e-9)
            << name_of(meta.meta_objective()) << ": " << kind << " coordinate " << idx
            << " analytic " << an << " finite difference " << fd;
      }
    }
    EXPECT_GT(kind_norm, 0.0) << kind << " receives no gradient (dead)";
  }
}

// Both ways of forming L_grad's Hessian-vector product (options.h: meta_hessian).
void check_meta_gradient(const MetaAdamWOptions& meta) {
  for (const char* design : {"learning", "paper"})
    for (const char* hessian : {"exact", "finite_difference", "central_difference"}) {
      SCOPED_TRACE(std::string("modulator_design=") + design + ", meta_hessian=" + hessian);
      auto m = meta;
      check_meta_gradient_with(m.modulator_design(design).meta_hessian(hessian));
    }
}

MetaAdamWOptions full_meta() {
  return MetaAdamWOptions()
      .features("enhanced")
      .group_embed_dim(3)
      .use_feature_gating(true)
      .feature_gating_sparsity(1e-3)
      .attn_heads(2)
      .attn_hidden_dim(8)
      .alpha_range(1.0)
      .beta_range(1.0);
}

TEST(MetaGradient, GradientObjectiveMatchesFiniteDifferences) {
  check_meta_gradient(full_meta().meta_objective("gradient"));
}
TEST(MetaGradient, LossDecreaseObjectiveMatchesFiniteDifferences) {
  check_meta_gradient(full_meta().meta_objective("loss_decrease"));
}
TEST(MetaGradient, GenGapObjectiveMatchesFiniteDifferences) {
  check_meta_gradient(full_meta().meta_objective("gen_gap"));
}
TEST(MetaGradient, CombinedHuwObjectiveMatchesFiniteDifferences) {
  check_meta_gradient(
      full_meta()
          .meta_objective("combined")
          .huw_priorities({2, 1, 3})
          .task_types({TermType::regression, TermType::classification, TermType::regression}));
}
TEST(MetaGradient, CombinedFixedWeightsMatchesFiniteDifferences) {
  check_meta_gradient(MetaAdamWOptions().use_huw(false).aux_loss_fixed_weights({0.5, 2, 1}));
}

TEST(MetaGradient, FixedTargetVariantMatchesFiniteDifferences) {
  check_meta_gradient(full_meta().meta_targets("fixed").dec_target(0.02).gap_target(0.01));
}

// The meta-gradient (every meta-parameter, flattened) of one objective evaluation; the
// global generator (the model's dropout) is seeded first so that both modes draw the same
// masks.
torch::Tensor flat_meta_gradient(const MetaAdamW& opt, const MetaAdamW::MetaInputs& in) {
  torch::manual_seed(2024);
  std::vector<torch::Tensor> all;
  for (const auto& [kind, ts] : opt.meta_parameters()) all.insert(all.end(), ts.begin(), ts.end());
  const auto grads =
      torch::autograd::grad({opt.meta_objective(in).total}, all, {}, false, false, true);
  std::vector<torch::Tensor> flat;
  for (size_t i = 0; i < grads.size(); ++i)
    flat.push_back(grads[i].defined() ? grads[i].reshape({-1})
                                      : torch::zeros({all[i].numel()}, all[i].options()));
  return torch::cat(flat).detach();
}

torch::Tensor meta_gradient(MetaProblem& pb, const MetaAdamWOptions& meta, bool dropout) {
  MetaAdamW opt = make_meta_opt(pb, meta);
  auto in = meta_inputs(pb, opt);
  if (dropout) {
    auto with_dropout = [&](const Batch& b) -> LossAt {
      return [&pb, b](const std::vector<torch::Tensor>& ps) {
        nn::Ctx c = pb.model.ctx(true, false);
        c.params = &ps;
        return torch::mse_loss(nn::dropout(c, pb.model.forward(c, b), 0.4), b.y);
      };
    };
    in.batches = MetaBatches{with_dropout(pb.b2), with_dropout(pb.bv)};
  }
  return flat_meta_gradient(opt, in);
}

TEST(MetaGradient, FiniteDifferenceHessianAgreesWithTheExactDoubleBackward) {
  // The same meta-gradient both ways, in float64, for every objective, with dropout in the
  // model's loss: the second gradient must repeat the first one's masks (a fresh draw
  // changes the difference of the two gradients by far more than the tolerance).
  for (bool dropout : {false, true})
    for (const char* obj : {"gradient", "combined"}) {
      MetaProblem pb;
      auto meta = full_meta().meta_objective(obj);
      const auto exact = meta_gradient(pb, meta.meta_hessian("exact"), dropout);
      for (const char* scheme : {"finite_difference", "central_difference"}) {
        const auto fd = meta_gradient(pb, meta.meta_hessian(scheme), dropout);
        const double err = (fd - exact).norm().item<double>() / exact.norm().item<double>();
        EXPECT_LT(err, 1e-6) << obj << " " << scheme << (dropout ? " with dropout" : "");
      }
      EXPECT_GT(exact.norm().item<double>(), 0.0);
    }
}

// float32 on models with what makes second order expensive or delicate: BatchNorm and
// ReLU (a small CNN) and attention with dropout (MiniGPT). The forward difference's error
// is O(√machine-ε) relative: here it must stay far below a meta-gradient's own batch
// noise. Prints the measured agreement (BENCHMARKS.md quotes it).
torch::Tensor meta_gradient_of(nn::Model& model, const std::function<LossAt(int)>& loss_on,
                               const MetaAdamWOptions& meta) {
  const auto& ps = model.store().parameters();
  MetaAdamW opt(ps, model.store().info(), fine_groups(model.store()),
                AdamWOptions(1e-3).weight_decay(0.01), meta, 13);
  torch::manual_seed(7);
  const auto g1 = torch::autograd::grad({loss_on(1)(ps)}, ps);
  auto gen = at::detail::createCPUGenerator(31);
  MetaAdamW::MetaInputs in;
  std::vector<torch::Tensor> m0, v0;
  for (size_t i = 0; i < ps.size(); ++i) {
    const auto o = ps[i].options().requires_grad(false);
    m0.push_back(0.5 * g1[i] + 1e-3 * torch::randn(ps[i].sizes(), gen, o));
    v0.push_back(0.5 * g1[i] * g1[i] + 1e-6 * torch::rand(ps[i].sizes(), gen, o));
    in.m.push_back(0.9 * m0[i] + 0.1 * g1[i]);
    in.v.push_back(0.999 * v0[i] + 0.001 * g1[i] * g1[i]);
  }
  in.stats = opt.features().statistics(g1, m0, v0, ps);
  in.step = 20;
  in.theta = ps;
  in.g1 = g1;
  in.batches = MetaBatches{loss_on(2), loss_on(3)};
  return flat_meta_gradient(opt, in).to(torch::kDouble);
}

void expect_float32_agreement(nn::Model& model, const std::function<LossAt(int)>& loss_on,
                              const char* what) {
  // The forward difference under the combined objective (the default), the central one
  // under the gradient objective alone.
  for (const char* obj : {"gradient", "combined"}) {
    auto meta = MetaAdamWOptions().meta_objective(obj).attn_layers(2).attn_heads(2);
    const auto exact = meta_gradient_of(model, loss_on, meta.meta_hessian("exact"));
    const bool hvp_only = std::string(obj) == "gradient";
    const auto fd = meta_gradient_of(
        model, loss_on, meta.meta_hessian(hvp_only ? "central_difference" : "finite_difference"));
    const double err = (fd - exact).norm().item<double>() / exact.norm().item<double>();
    const double cos = (fd * exact).sum().item<double>() /
                       (fd.norm().item<double>() * exact.norm().item<double>());
    std::printf("[ meta_hessian float32 ] %s, %s: relative error %.2e, cosine %.8f\n", what, obj,
                err, cos);
    // The learning design's λ are fixed, so under the gradient objective H·w is the whole
    // meta-gradient, and its head gradient sums z-scored features over groups (a sum that
    // cancels): there the central difference agrees to 10–15% in norm, cosine > 0.995
    // (the forward difference was 26–290%, cosine 0.92). Under the combined objective L_dec
    // and L_gap's first-order terms dominate: the forward difference agrees to ≤ 3e-3.
    EXPECT_LT(err, hvp_only ? 0.25 : 1e-2) << what << " " << obj;
    EXPECT_GT(cos, hvp_only ? 0.99 : 0.9999) << what << " " << obj;
  }
}

TEST(MetaGradient, FiniteDifferenceHessianInFloat32OnBatchNormAndAttentionModels) {
  testing::SmallCNN cnn(3);
  auto images = [&](int id) -> LossAt {
    auto gen = at::detail::createCPUGenerator(100 + id);
    Batch b;
    b.x = torch::randn({16, 1, 8, 8}, gen, torch::kFloat);
    b.y = torch::randint(3, {16}, gen, torch::kLong);
    return [&cnn, b](const std::vector<torch::Tensor>& ps) {
      nn::Ctx c = cnn.ctx(true, false);
      c.params = &ps;
      return torch::cross_entropy_loss(cnn.forward(c, b), b.y);
    };
  };
  expect_float32_agreement(cnn, images, "CNN with BatchNorm");

  nn::TransformerSize size;
  size.dim = 16;
  size.heads = 2;
  size.ffn_hidden = 32;
  size.layers = 2;
  size.dropout = 0.1;
  nn::MiniGPT gpt(40, 12, size, 5);
  auto tokens = [&](int id) -> LossAt {
    auto gen = at::detail::createCPUGenerator(200 + id);
    Batch b;
    b.x = torch::randint(40, {6, 12}, gen, torch::kLong);
    b.y = torch::randint(40, {6, 12}, gen, torch::kLong);
    return [&gpt, b](const std::vector<torch::Tensor>& ps) {
      nn::Ctx c = gpt.ctx(true, false);
      c.params = &ps;
      return torch::cross_entropy_loss(gpt.forward(c, b).reshape({-1, 40}), b.y.reshape({-1}));
    };
  };
  expect_float32_agreement(gpt, tokens, "MiniGPT with dropout 0.1");
}

TEST(MetaObjective, FixedTargetsAreTheSquaredDistancesOfTheRelativeTerms) {
  // With dec_target 0, L_dec(fixed) = L_dec(relative)²; L_gap(fixed) = (L_gap − γ)².
  MetaProblem pb;
  MetaAdamW rel = make_meta_opt(pb, full_meta());
  const auto r = rel.meta_objective(meta_inputs(pb, rel));
  MetaAdamW fix =
      make_meta_opt(pb, full_meta().meta_targets("fixed").dec_target(0).gap_target(0.01));
  const auto f = fix.meta_objective(meta_inputs(pb, fix));
  const double dec = r.l_dec.item<double>(), gap = r.l_gap.item<double>();
  EXPECT_NE(dec, 0.0);
  EXPECT_NEAR(f.l_dec.item<double>(), dec * dec, 1e-12);
  EXPECT_NEAR(f.l_gap.item<double>(), (gap - 0.01) * (gap - 0.01), 1e-12);
  EXPECT_NEAR(f.l_grad.item<double>(), r.l_grad.item<double>(), 1e-12);  // untouched
  EXPECT_THROW(full_meta().meta_targets("moving").validate(), ConfigError);
}

// With the regularizers off (they would move the weights on their own), the meta-gradient
// itself must reach every block: the head's α and β rows (β is alive: METAADAMW.md §5
// deviation), the encoder, embeddings, gates and HUW s — in the paper design at once, in
// the learning design from the second meta-update (its head starts at zero, so the first
// one reaches the head only). The record's gradient norms are checked against autograd.
TEST(MetaUpdate, TheMetaGradientReachesEveryBlockAndMovesIt) {
  for (const std::string design : {"paper", "learning"}) {
    SCOPED_TRACE(design);
    MetaProblem pb;
    auto& model = pb.model;
    const auto& ps = model.store().parameters();
    auto meta = full_meta().meta_update_freq(1).meta_weight_decay(0).feature_gating_sparsity(0);
    meta.design_defaults(design).learn_lambdas(true).meta_lr(1e-2);
    MetaAdamW opt(ps, model.store().info(), fine_groups(model.store()), AdamWOptions(0.05), meta,
                  5);
    std::vector<std::pair<std::string, torch::Tensor>> before;
    for (const auto& [kind, ts] : opt.meta_parameters())
      for (const auto& t : ts) before.emplace_back(kind, t.detach().clone());
    const int updates = design == "paper" ? 1 : 2;
    for (int u = 0; u < updates; ++u) {
      model.store().zero_grad();
      mse_on(model, pb.b1)(ps).backward();
      opt.step([&] { return MetaBatches{mse_on(model, pb.b2), mse_on(model, pb.bv)}; });
    }
    ASSERT_EQ(opt.meta_updates(), updates);
    size_t k = 0;
    for (const auto& [kind, ts] : opt.meta_parameters())
      for (const auto& t : ts) {
        EXPECT_FALSE(torch::equal(t.detach(), before[k].second))
            << kind << " tensor " << k << " did not change";
        ++k;
      }
    ASSERT_TRUE(opt.last_meta_update().has_value());
    const auto& r = *opt.last_meta_update();
    EXPECT_TRUE(std::isfinite(r.l_grad) && std::isfinite(r.l_dec) && std::isfinite(r.l_gap));
    EXPECT_EQ(r.index, updates);
    // Every block's meta-gradient is non-zero: encoder, head rows α β λ1 λ2, gates,
    // embedding, HUW s (records.h kMetaGradBlocks).
    for (size_t b = 0; b < 8; ++b) EXPECT_GT(r.grad_norm[b], 0.0) << kMetaGradBlocks[b];
    EXPECT_GT(r.rel_change[0], 0.0);
  }
}

// The diagnostics against independent computations: the block norms against autograd on
// the same objective, the relative change against copies taken around the update, the
// at-bound fractions against the factors.
TEST(MetaUpdate, DiagnosticsMatchAnIndependentComputation) {
  MetaProblem pb;
  auto& model = pb.model;
  const auto& ps = model.store().parameters();
  const auto meta = MetaAdamWOptions()
                        .modulator_design("paper")
                        .learn_lambdas(true)
                        .meta_update_freq(1)
                        .attn_heads(2)
                        .meta_weight_decay(0)  // else its gradient W/‖W‖ reaches every row
                        .meta_lr(1e-2);
  MetaAdamW opt(ps, model.store().info(), fine_groups(model.store()), AdamWOptions(0.05), meta, 5);
  auto& st = opt.modulator().store();
  const int head_w = st.slot("head.weight"), head_b = st.slot("head.bias");
  {
    // Saturate α and λ1 in every group: large head biases (the paper design's failure).
    torch::NoGradGuard ng;
    st.parameters()[static_cast<size_t>(head_b)][0].fill_(400.0);
    st.parameters()[static_cast<size_t>(head_b)][2].fill_(-400.0);
  }
  // The objective at the same inputs, through meta_objective (an independent path: no
  // meta-optimizer, no record).
  mse_on(model, pb.b1)(ps).backward();
  std::vector<torch::Tensor> flat_before;
  for (const auto& p : st.parameters()) flat_before.push_back(p.detach().clone().reshape({-1}));
  opt.step([&] { return MetaBatches{mse_on(model, pb.b2), mse_on(model, pb.bv)}; });
  ASSERT_TRUE(opt.last_meta_update().has_value());
  const auto& r = *opt.last_meta_update();
  // The head rows: the gradient the meta-optimizer saw is still in .grad().
  const auto gw = st.parameters()[static_cast<size_t>(head_w)].grad();
  const auto gb = st.parameters()[static_cast<size_t>(head_b)].grad();
  for (int64_t row = 0; row < 4; ++row) {
    const double want =
        std::sqrt(gw[row].pow(2).sum().item<double>() + gb[row].pow(2).item<double>());
    EXPECT_NEAR(r.grad_norm[1 + static_cast<size_t>(row)], want, 1e-12 * (1 + want)) << row;
  }
  // Saturated rows pass no gradient: σ′(400) underflows.
  EXPECT_LT(r.grad_norm[1], 1e-12);
  EXPECT_GT(r.grad_norm[2], 1e-8);
  EXPECT_TRUE(std::isnan(r.grad_norm[5]) && std::isnan(r.grad_norm[6]));  // no gates, embedding
  // Relative change of the whole modulator.
  double d2 = 0, n2 = 0;
  for (size_t i = 0; i < st.parameters().size(); ++i) {
    d2 += (st.parameters()[i].detach().reshape({-1}) - flat_before[i]).pow(2).sum().item<double>();
    n2 += flat_before[i].pow(2).sum().item<double>();
  }
  EXPECT_NEAR(r.rel_change[0], std::sqrt(d2 / n2), 1e-12);
  EXPECT_EQ(r.at_bound[0], 1.0);  // α at its upper bound in every group
  EXPECT_EQ(r.at_bound[2], 1.0);  // λ1 at 0
  EXPECT_LT(r.at_bound[1], 1.0);
}

TEST(MetaUpdate, LeavesParametersMomentsAndBatchNormBuffersBitwiseUnchanged) {
  // Two identical runs of one step; only A runs a meta-update in it. The step's update
  // uses the factors from before the meta-update, so everything must match to the bit.
  testing::SmallCNN a(3, torch::kDouble), b(3, torch::kDouble);
  const auto meta_a = MetaAdamWOptions().meta_update_freq(1);
  const auto meta_b = MetaAdamWOptions().meta_update_freq(1000);
  MetaAdamW oa(a.store().parameters(), a.store().info(), fine_groups(a.store()), AdamWOptions(),
               meta_a, 1);
  MetaAdamW ob(b.store().parameters(), b.store().info(), fine_groups(b.store()), AdamWOptions(),
               meta_b, 1);
  auto gen = at::detail::createCPUGenerator(8);
  Batch batch;
  batch.x = torch::randn({4, 1, 6, 6}, gen, torch::TensorOptions().dtype(torch::kDouble));
  batch.y = torch::tensor({0, 2, 1, 2}, torch::kLong);
  for (auto* m : std::vector<nn::Model*>{&a, &b})
    torch::cross_entropy_loss(m->forward(m->ctx(true, true), batch), batch.y).backward();
  auto loss_on = [&](Batch bt) -> LossAt {
    return [&a, bt](const std::vector<torch::Tensor>& ps) {
      nn::Ctx c = a.ctx(true, false);
      c.params = &ps;
      return torch::cross_entropy_loss(a.forward(c, bt), bt.y);
    };
  };
  const auto buffers_before = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& t : a.store().buffers()) out.push_back(t.clone());
    return out;
  }();
  oa.step([&] { return MetaBatches{loss_on(batch), loss_on(batch)}; });
  ob.step();
  ASSERT_EQ(oa.meta_updates(), 1);
  ASSERT_EQ(ob.meta_updates(), 0);
  for (size_t i = 0; i < a.store().parameters().size(); ++i) {
    EXPECT_TRUE(torch::equal(a.store().parameters()[i], b.store().parameters()[i])) << i;
    EXPECT_TRUE(torch::equal(oa.moment(i, false), ob.moment(i, false))) << i;
    EXPECT_TRUE(torch::equal(oa.moment(i, true), ob.moment(i, true))) << i;
  }
  for (size_t i = 0; i < a.store().buffers().size(); ++i) {
    EXPECT_TRUE(torch::equal(a.store().buffers()[i], buffers_before[i])) << "buffer " << i;
    EXPECT_TRUE(torch::equal(a.store().buffers()[i], b.store().buffers()[i])) << "buffer " << i;
  }
}

TEST(MetaUpdate, HuwStaysBoundedAndFiniteUnderPersistentlyNegativeTerms) {
  // L(θ) = Σ c·θ on both streams with g1 = c: L_grad = λ1‖c‖² − λ2 < 0 and
  // L_dec = −(ηα/bc1)·Σ c·m/denom < 0 at every update; unclamped HUW drives s → −∞.
  nn::MLP model(2, {}, 1, 1, torch::kDouble);
  const auto& ps = model.store().parameters();
  const auto meta =
      MetaAdamWOptions().meta_update_freq(1).meta_optimizer("sgd").meta_lr(1e-2).huw_s_max(6.0);
  MetaAdamW opt(ps, model.store().info(), fine_groups(model.store()),
                AdamWOptions(1e-3).weight_decay(0.0), meta, 2);
  std::vector<torch::Tensor> c;
  for (const auto& p : ps)
    c.push_back(torch::full(p.sizes(), 0.01, p.options().requires_grad(false)));
  LossAt linear = [&](const std::vector<torch::Tensor>& th) {
    auto l = torch::zeros({}, th[0].options());
    for (size_t i = 0; i < th.size(); ++i) l = l + (c[i] * th[i]).sum();
    return l;
  };
  int negative_grad = 0, negative_dec = 0;
  for (int step = 0; step < 10000; ++step) {
    for (size_t i = 0; i < ps.size(); ++i)
      const_cast<torch::Tensor&>(ps[i]).mutable_grad() = c[i].clone();
    opt.step([&] { return MetaBatches{linear, linear}; });
    const auto& r = *opt.last_meta_update();
    negative_grad += r.l_grad < 0;
    negative_dec += r.l_dec < 0;
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(std::isfinite(r.huw_s[i]) && std::isfinite(r.huw_weights[i]))
          << "update " << step;
      ASSERT_GE(r.huw_s[i], -6.0);
      ASSERT_LE(r.huw_s[i], 6.0);
    }
    ASSERT_TRUE(std::isfinite(r.total)) << "update " << step;
  }
  EXPECT_EQ(negative_grad, 10000);
  EXPECT_EQ(negative_dec, 10000);
  // The clamp is what held them: the negative terms' s sit at the bound.
  EXPECT_EQ(opt.huw_s()[0].item<double>(), -6.0);
  EXPECT_EQ(opt.huw_s()[1].item<double>(), -6.0);
  for (const auto& p : ps) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
}

// ---- §6 snapshots, host reads ---------------------------------------------------------

TEST(Snapshot, HoldsEveryViewInOneHostTransfer) {
  nn::MLP model(3, {5, 5}, 2, 1);
  const auto meta = MetaAdamWOptions().attn_layers(2).attn_heads(3).meta_update_freq(1000);
  const auto groups = fine_groups(model.store());
  MetaAdamW opt(model.store().parameters(), model.store().info(), groups,
                AdamWOptions(1e-3).weight_decay(0.02), meta, 4);
  auto gen = at::detail::createCPUGenerator(1);
  set_random_grads(model.store().parameters(), gen);
  opt.step({}, /*keep_snapshot=*/true);
  const int64_t before = host_reads();
  const auto s = opt.snapshot();
  EXPECT_EQ(host_reads() - before, 1);
  const int64_t G = static_cast<int64_t>(groups.size()), D = meta.resolved_feature_dim();
  EXPECT_EQ(s.step, 1);
  EXPECT_EQ(s.groups, G);
  EXPECT_EQ(s.features, D);
  EXPECT_EQ(D, 6);  // 4 basic + |v| + t = 6, a multiple of 3 heads
  EXPECT_EQ(s.group_names.size(), static_cast<size_t>(G));
  EXPECT_EQ(s.feature_names.size(), static_cast<size_t>(D));
  EXPECT_EQ(s.feature_values.size(), static_cast<size_t>(G * D));
  EXPECT_EQ(s.factors.size(), static_cast<size_t>(G * 4));
  ASSERT_EQ(s.attention.size(), static_cast<size_t>(2 * 3 * G * G));
  for (int64_t row = 0; row < 2 * 3 * G; ++row) {
    double sum = 0;
    for (int64_t j = 0; j < G; ++j) sum += s.attention[static_cast<size_t>(row * G + j)];
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
  for (int64_t g = 0; g < G; ++g) {
    EXPECT_NEAR(s.effective_lr[static_cast<size_t>(g)],
                1e-3 * s.factors[static_cast<size_t>(g * 4)], 1e-9);
    EXPECT_NEAR(s.effective_wd[static_cast<size_t>(g)],
                0.02 * s.factors[static_cast<size_t>(g * 4 + 1)], 1e-8);
  }
}

// On a GPU (scripts/gpu-check.sh runs this suite there): the snapshot's one transfer starts
// behind the step that keeps it, and what arrives equals the CPU run's.
TEST(MetaAdamWCuda, DeviceSnapshotIsCopiedBehindTheStepAndMatchesTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  nn::MLP cpu_model{3, {6, 6}, 2, 11, torch::kDouble}, gpu_model{3, {6, 6}, 2, 11, torch::kDouble};
  gpu_model.store().to(torch::kCUDA);
  const auto meta = MetaAdamWOptions().meta_update_freq(1000).attn_heads(3);
  MetaAdamW on_cpu(cpu_model.store().parameters(), cpu_model.store().info(),
                   fine_groups(cpu_model.store()), AdamWOptions(0.01), meta, 5);
  MetaAdamW on_gpu(gpu_model.store().parameters(), gpu_model.store().info(),
                   fine_groups(gpu_model.store()), AdamWOptions(0.01), meta, 5);
  auto gen = at::detail::createCPUGenerator(3);
  for (int step = 1; step <= 3; ++step) {
    set_random_grads(cpu_model.store().parameters(), gen);
    const auto& cp = cpu_model.store().parameters();
    const auto& gp = gpu_model.store().parameters();
    for (size_t i = 0; i < cp.size(); ++i)
      const_cast<torch::Tensor&>(gp[i]).mutable_grad() = cp[i].grad().to(torch::kCUDA);
    on_cpu.step({}, true);
    on_gpu.step({}, true);
    EXPECT_EQ(on_gpu.async_snapshot_copies(), step);
    const auto a = on_cpu.snapshot(), b = on_gpu.snapshot();
    ASSERT_EQ(a.step, b.step);
    ASSERT_EQ(a.factors.size(), b.factors.size());
    for (size_t k = 0; k < a.factors.size(); ++k) EXPECT_NEAR(a.factors[k], b.factors[k], 1e-5);
    for (size_t k = 0; k < a.attention.size(); ++k)
      EXPECT_NEAR(a.attention[k], b.attention[k], 1e-5);
  }
  EXPECT_EQ(on_cpu.async_snapshot_copies(), 0);
}

// The modulator's dropout draws from its own CPU generator; on a GPU its masks are drawn
// there and moved (this threw "expected a CUDA generator" before), and the same seed gives
// the same meta-update on the CPU and the GPU.
TEST(MetaAdamWCuda, ModulatorDropoutRunsOnTheGpuWithTheCpuGeneratorsMasks) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  nn::MLP cpu_model{3, {6, 6}, 2, 11, torch::kDouble}, gpu_model{3, {6, 6}, 2, 11, torch::kDouble};
  gpu_model.store().to(torch::kCUDA);
  const auto meta = MetaAdamWOptions().meta_update_freq(1).attn_heads(2).attn_dropout(0.3);
  MetaAdamW on_cpu(cpu_model.store().parameters(), cpu_model.store().info(),
                   fine_groups(cpu_model.store()), AdamWOptions(0.01), meta, 5);
  MetaAdamW on_gpu(gpu_model.store().parameters(), gpu_model.store().info(),
                   fine_groups(gpu_model.store()), AdamWOptions(0.01), meta, 5);
  const auto b2 = regression_batch(8, 3, 2, 3, torch::kDouble);
  const auto bv = regression_batch(8, 3, 2, 4, torch::kDouble);
  auto on = [](const Batch& b, torch::Device d) {
    Batch x;
    x.x = b.x.to(d);
    x.y = b.y.to(d);
    return x;
  };
  auto gen = at::detail::createCPUGenerator(3);
  for (int step = 1; step <= 3; ++step) {
    set_random_grads(cpu_model.store().parameters(), gen);
    const auto& cp = cpu_model.store().parameters();
    const auto& gp = gpu_model.store().parameters();
    for (size_t i = 0; i < cp.size(); ++i)
      const_cast<torch::Tensor&>(gp[i]).mutable_grad() = cp[i].grad().to(torch::kCUDA);
    on_cpu.step([&] { return MetaBatches{mse_on(cpu_model, b2), mse_on(cpu_model, bv)}; });
    ASSERT_NO_THROW(on_gpu.step([&] {
      return MetaBatches{mse_on(gpu_model, on(b2, torch::kCUDA)),
                         mse_on(gpu_model, on(bv, torch::kCUDA))};
    }));
    ASSERT_TRUE(on_gpu.last_meta_update().has_value());
    EXPECT_NEAR(on_cpu.last_meta_update()->total, on_gpu.last_meta_update()->total,
                1e-9 * (1 + std::abs(on_cpu.last_meta_update()->total)));
  }
}

TEST(HostReads, NoneOnTheDevicePathAndNeverOnePerTensor) {
  testing::SmallCNN model(1);  // 13 tensors
  const auto meta = MetaAdamWOptions().meta_update_freq(1000);
  MetaAdamW opt(model.store().parameters(), model.store().info(), fine_groups(model.store()),
                AdamWOptions(), meta, 4);
  auto gen = at::detail::createCPUGenerator(1);
  opt.force_device_factor_path(true);
  int64_t before = host_reads();
  for (int i = 0; i < 5; ++i) {
    set_random_grads(model.store().parameters(), gen);
    opt.step();
  }
  EXPECT_EQ(host_reads() - before, 0) << "the device path read factors on the host";
  // CPU path: the factors (already in host memory) are read once per step, not per tensor.
  opt.force_device_factor_path(false);
  before = host_reads();
  for (int i = 0; i < 5; ++i) {
    set_random_grads(model.store().parameters(), gen);
    opt.step();
  }
  EXPECT_EQ(host_reads() - before, 5);
}

// ---- §7 state and transfer --------------------------------------------------------------

TEST(ModulatorTransfer, ExportedModulatorLoadsIntoAModelWithAnotherGroupCount) {
  nn::MLP mlp(3, {5, 5}, 2, 1);
  const auto meta = MetaAdamWOptions().meta_update_freq(2).meta_lr(1e-2).use_feature_gating(true);
  MetaAdamW a(mlp.store().parameters(), mlp.store().info(), fine_groups(mlp.store()),
              AdamWOptions(), meta, 1);
  const auto b2 = regression_batch(8, 3, 2, 3, torch::kFloat);
  auto gen = at::detail::createCPUGenerator(2);
  for (int i = 0; i < 4; ++i) {
    set_random_grads(mlp.store().parameters(), gen);
    a.step([&] { return MetaBatches{mse_on(mlp, b2), mse_on(mlp, b2)}; });
  }
  const std::string path = ::testing::TempDir() + "modulator_" + std::to_string(getpid()) + ".pt";
  a.export_modulator(path);

  nn::TransformerClassifierOptions to;
  to.layers = 3;
  nn::TransformerClassifier tr(to, 2);
  const auto tg = fine_groups(tr.store());
  ASSERT_NE(tg.size(), fine_groups(mlp.store()).size());
  MetaAdamW b(tr.store().parameters(), tr.store().info(), tg, AdamWOptions(), meta, 99);
  b.import_modulator(path);
  const auto& sa = a.modulator().store().parameters();
  const auto& sb = b.modulator().store().parameters();
  for (size_t i = 0; i < sa.size(); ++i) EXPECT_TRUE(torch::equal(sa[i], sb[i])) << i;
  // And it runs there.
  set_random_grads(tr.store().parameters(), gen);
  b.step({}, true);
  EXPECT_EQ(b.snapshot().groups, static_cast<int64_t>(tg.size()));

  MetaAdamW c(tr.store().parameters(), tr.store().info(), tg, AdamWOptions(),
              MetaAdamWOptions(meta).attn_layers(3), 99);
  EXPECT_THROW(c.import_modulator(path), ConfigError);
  EXPECT_THROW(c.import_modulator("/nonexistent/modulator.pt"), DataError);
  std::remove(path.c_str());
}

TEST(MetaAdamWOptions, ValidationNamesTheOptionAndWhatIsAllowed) {
  auto msg = [](const MetaAdamWOptions& o) {
    try {
      o.validate();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(msg(MetaAdamWOptions()), "");
  EXPECT_NE(msg(MetaAdamWOptions().alpha_range(2.0)).find("'alpha_range': allowed in [0, 2)"),
            std::string::npos);
  EXPECT_NE(msg(MetaAdamWOptions().meta_update_freq(0)).find("'meta_update_freq'"),
            std::string::npos);
  EXPECT_NE(msg(MetaAdamWOptions().huw_priorities({1, 0, 1})).find("huw_priorities"),
            std::string::npos);
  EXPECT_NE(msg(MetaAdamWOptions().feature_dim(3)).find("'feature_dim'"), std::string::npos);
  EXPECT_NE(msg(MetaAdamWOptions().task_types({TermType::regression, TermType::regression}))
                .find("task_types"),
            std::string::npos);
  // An enum option's name is checked against its one name table, which the message lists.
  try {
    MetaAdamWOptions().meta_hessian("second_order");
    ADD_FAILURE() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "'meta_hessian': allowed finite_difference | central_difference | exact"),
              std::string::npos)
        << e.what();
  }
  // feature_dim rounds up to a multiple of the heads.
  EXPECT_EQ(MetaAdamWOptions().resolved_feature_dim(), 8);  // 6 features, 4 heads
  EXPECT_EQ(MetaAdamWOptions().feature_dim(9).resolved_feature_dim(), 12);
  EXPECT_EQ(paper_best_settings("sentiment").resolved_feature_dim(), 11);
  EXPECT_EQ(paper_best_settings("image").meta_update_freq(), 190);
  EXPECT_THROW(paper_best_settings("chess"), ConfigError);
}

// ---- the learning design and the audit's defects (ISSUE step 7) ---------------------------

// The identity start: with untrained factors (no meta-update yet) MetaAdamW's default
// design steps exactly as LibTorch's AdamW, whatever the features say — α = β = 1 exactly.
TEST(MetaAdamW, LearningDesignStartsAsExactlyAdamW) {
  for (const auto dt : {torch::kFloat, torch::kDouble}) {
    nn::MLP a(3, {5, 5}, 2, 1, dt), c(3, {5, 5}, 2, 1, dt);
    const auto base = AdamWOptions(2e-3).weight_decay(0.05);
    MetaAdamW mine(a.store().parameters(), a.store().info(), fine_groups(a.store()), base,
                   MetaAdamWOptions().meta_update_freq(1000), 7);
    mine.set_fused(false);  // the composite path is the one bitwise equal to torch
    torch::optim::AdamW ref(c.store().parameters(),
                            torch::optim::AdamWOptions(2e-3).weight_decay(0.05));
    auto gen = at::detail::createCPUGenerator(9);
    for (int step = 1; step <= 50; ++step) {
      set_random_grads(a.store().parameters(), gen);
      copy_grads(a.store().parameters(), c.store().parameters());
      mine.step({}, /*keep_snapshot=*/true);
      ref.step();
      for (size_t i = 0; i < a.store().parameters().size(); ++i)
        ASSERT_TRUE(torch::equal(a.store().parameters()[i], c.store().parameters()[i]))
            << "tensor " << i << " step " << step;
    }
    const auto snap = mine.snapshot();
    for (int64_t g = 0; g < snap.groups; ++g) {
      EXPECT_EQ(snap.factors[static_cast<size_t>(4 * g)], 1.0f);
      EXPECT_EQ(snap.factors[static_cast<size_t>(4 * g + 1)], 1.0f);
    }
  }
}

// A tensor without a gradient takes no step — no decay, no move by old momentum, its
// moments and step count kept — as in torch's AdamW, on every path.
TEST(MetaAdamW, TensorsWithoutAGradientAreNeitherDecayedNorMoved) {
  for (const bool fused : {false, true})
    for (const bool device_path : {false, true}) {
      if (fused && device_path) continue;
      SCOPED_TRACE(std::string(fused ? "fused" : "composite") + (device_path ? ", device" : ""));
      nn::MLP a(3, {5, 5}, 2, 1, torch::kDouble), c(3, {5, 5}, 2, 1, torch::kDouble);
      const auto base = AdamWOptions(2e-3).weight_decay(0.05);
      const auto meta = MetaAdamWOptions().alpha_range(0).beta_range(0).meta_update_freq(7);
      MetaAdamW mine(a.store().parameters(), a.store().info(), fine_groups(a.store()), base, meta,
                     7);
      mine.set_fused(fused);
      mine.force_device_factor_path(device_path);
      torch::optim::AdamW ref(c.store().parameters(),
                              torch::optim::AdamWOptions(2e-3).weight_decay(0.05));
      const auto b2 = regression_batch(8, 3, 2, 3, torch::kDouble);
      const auto bv = regression_batch(8, 3, 2, 4, torch::kDouble);
      auto batches = [&] { return MetaBatches{mse_on(a, b2), mse_on(a, bv)}; };
      auto gen = at::detail::createCPUGenerator(9);
      const auto& pa = a.store().parameters();
      const auto& pc = c.store().parameters();
      for (int step = 1; step <= 40; ++step) {
        set_random_grads(pa, gen);
        // Tensor 1 is unused on steps 5..14 (after it has momentum); tensor 3 from step 30 on.
        for (size_t i : {size_t{1}, size_t{3}}) {
          const bool unused = (i == 1 && step >= 5 && step < 15) || (i == 3 && step >= 30);
          if (unused) const_cast<torch::Tensor&>(pa[i]).mutable_grad() = torch::Tensor();
        }
        for (size_t i = 0; i < pa.size(); ++i)
          const_cast<torch::Tensor&>(pc[i]).mutable_grad() =
              pa[i].grad().defined() ? pa[i].grad().clone() : torch::Tensor();
        const auto held = pa[1].detach().clone();
        mine.step(batches);
        ref.step();
        if (step >= 5 && step < 15) {
          ASSERT_TRUE(torch::equal(pa[1], held)) << "step " << step;
        }
        for (size_t i = 0; i < pa.size(); ++i) {
          if (fused)
            ASSERT_TRUE(torch::allclose(pa[i], pc[i], 1e-12, 1e-14)) << i << " step " << step;
          else
            ASSERT_TRUE(torch::equal(pa[i], pc[i])) << "tensor " << i << " step " << step;
        }
      }
    }
}

// L_dec's reference L(θ; bv) is taken under the dropout masks of L(θ′; bv): at η = 0 (θ′ =
// θ) it is exactly 0, on both Hessian paths; drawn under fresh masks it was not.
TEST(MetaObjective, LossDecreaseComparesThetaPrimeAndThetaUnderTheSameDropoutMasks) {
  for (const char* hessian : {"exact", "finite_difference"}) {
    SCOPED_TRACE(hessian);
    MetaProblem pb;
    auto& model = pb.model;
    MetaAdamW opt(model.store().parameters(), model.store().info(), fine_groups(model.store()),
                  AdamWOptions(0.0).weight_decay(0.1),
                  MetaAdamWOptions().meta_hessian(hessian).meta_objective("loss_decrease"), 13);
    auto in = meta_inputs(pb, opt);
    auto dropped = [&model](Batch b) -> LossAt {
      return [&model, b](const std::vector<torch::Tensor>& ps) {
        nn::Ctx c = model.ctx(true, false);
        c.params = &ps;
        return torch::mse_loss(torch::dropout(model.forward(c, b), 0.5, /*train=*/true), b.y);
      };
    };
    in.batches = MetaBatches{dropped(pb.b2), dropped(pb.bv)};
    torch::manual_seed(3);
    const auto terms = opt.meta_objective(in);
    EXPECT_EQ(terms.l_dec.item<double>(), 0.0);
  }
}

// The meta-optimizer's state, per-tensor step counts and the design survive save/load; a
// modulator exported by one design is refused by the other, with a message.
TEST(ModulatorTransfer, TheDesignMustMatch) {
  nn::MLP m(3, {5}, 2, 1, torch::kDouble);
  MetaAdamW learning(m.store().parameters(), m.store().info(), fine_groups(m.store()),
                     AdamWOptions(), MetaAdamWOptions(), 1);
  const std::string path = ::testing::TempDir() + "/design.mod";
  learning.export_modulator(path);
  MetaAdamW paper(m.store().parameters(), m.store().info(), fine_groups(m.store()), AdamWOptions(),
                  MetaAdamWOptions().design_defaults("paper"), 1);
  try {
    paper.import_modulator(path);
    FAIL() << "a learning-design modulator loaded into a paper-design run";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("learning design"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(learning.import_modulator(path));
}

// adam_tensorwise against a hand-written loop: one second moment per tensor, the mean of
// g² over its elements; 20 steps, then a save/load round trip continues identically.
TEST(MetaOptimizer, TensorwiseAdamMatchesAHandWrittenLoopAndRoundTrips) {
  auto gen = at::detail::createCPUGenerator(8);
  const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
  std::vector<torch::Tensor> ps = {torch::randn({3, 4}, gen, dbl).requires_grad_(true),
                                   torch::randn({5}, gen, dbl).requires_grad_(true)};
  std::vector<torch::Tensor> ref = {ps[0].detach().clone(), ps[1].detach().clone()};
  auto opt = make_meta_optimizer(MetaOptimizerKind::adam_tensorwise, ps, 0.01);
  std::vector<torch::Tensor> m = {torch::zeros_like(ref[0]), torch::zeros_like(ref[1])};
  std::vector<double> v = {0, 0};
  auto step = [&](int t, bool check) {
    opt->zero_grad();
    for (size_t i = 0; i < ps.size(); ++i)
      ps[i].mutable_grad() = torch::randn(ps[i].sizes(), gen, dbl) * (i == 0 ? 1e-3 : 10.0);
    for (size_t i = 0; i < ps.size(); ++i) {
      const auto g = ps[i].grad();
      m[i] = 0.9 * m[i] + 0.1 * g;
      double ms = 0;
      for (int64_t k = 0; k < g.numel(); ++k) ms += std::pow(g.reshape({-1})[k].item<double>(), 2);
      v[i] = 0.999 * v[i] + 0.001 * ms / static_cast<double>(g.numel());
      const double bc1 = 1 - std::pow(0.9, t), bc2 = 1 - std::pow(0.999, t);
      ref[i] = ref[i] - 0.01 * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + 1e-8);
    }
    opt->step();
    if (!check) return;
    for (size_t i = 0; i < ps.size(); ++i) {
      ASSERT_TRUE(torch::allclose(ps[i].detach(), ref[i], 1e-12, 1e-14)) << i << " step " << t;
    }
  };
  for (int t = 1; t <= 20; ++t) step(t, true);
  // Both tensors moved by about lr per step despite gradients 1e4 apart (scale-free).
  torch::serialize::OutputArchive out;
  opt->save(out);
  std::ostringstream buf;
  out.save_to(buf);
  std::vector<torch::Tensor> copy = {ps[0].detach().clone().requires_grad_(true),
                                     ps[1].detach().clone().requires_grad_(true)};
  auto restored = make_meta_optimizer(MetaOptimizerKind::adam_tensorwise, copy, 0.01);
  torch::serialize::InputArchive in;
  std::istringstream ibuf(buf.str());
  in.load_from(ibuf);
  restored->load(in);
  for (size_t i = 0; i < ps.size(); ++i) copy[i].mutable_grad() = torch::ones_like(copy[i]);
  for (size_t i = 0; i < ps.size(); ++i) ps[i].mutable_grad() = torch::ones_like(ps[i]);
  opt->step();
  restored->step();
  for (size_t i = 0; i < ps.size(); ++i) EXPECT_TRUE(torch::equal(ps[i], copy[i])) << i;
}

// The learning design's per-group offsets move each group's α by its own meta-gradient:
// after a few meta-updates α differs between groups, and the offsets are in the state.
TEST(MetaUpdate, PerGroupOffsetsGiveEachGroupItsOwnAlpha) {
  MetaProblem pb;
  auto& model = pb.model;
  const auto& ps = model.store().parameters();
  MetaAdamW opt(ps, model.store().info(), fine_groups(model.store()), AdamWOptions(0.05),
                MetaAdamWOptions().meta_update_freq(1).meta_lr(3e-2), 5);
  for (int u = 0; u < 5; ++u) {
    model.store().zero_grad();
    mse_on(model, pb.b1)(ps).backward();
    opt.step([&] { return MetaBatches{mse_on(model, pb.b2), mse_on(model, pb.bv)}; }, true);
  }
  const auto snap = opt.snapshot();
  ASSERT_GE(snap.groups, 2);
  double lo = 10, hi = -10;
  for (int64_t g = 0; g < snap.groups; ++g) {
    lo = std::min<double>(lo, snap.factors[static_cast<size_t>(4 * g)]);
    hi = std::max<double>(hi, snap.factors[static_cast<size_t>(4 * g)]);
  }
  EXPECT_GT(hi - lo, 1e-3);
  bool found = false;
  for (const auto& [kind, ts] : opt.meta_parameters())
    if (kind == "group_offsets") {
      found = true;
      EXPECT_GT(ts[0].abs().sum().item<double>(), 0.0);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace maw::optim
