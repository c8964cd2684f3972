// The modulator (METAADAMW.md §3): shapes, attention rows that sum to 1, factor ranges,
// and permutation equivariance over groups (groups are a set).
#include "optim/modulator.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

namespace maw::optim {
namespace {

torch::Tensor features(int64_t g, int64_t d, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return torch::randn({g, d}, gen, torch::TensorOptions().dtype(torch::kDouble));
}

TEST(Modulator, ShapesAndAttentionRowsSumToOne) {
  const auto o = MetaAdamWOptions().attn_layers(3).attn_heads(2).attn_hidden_dim(8);
  Modulator mod(o, 6, 1, torch::kDouble);
  const auto out = mod.forward(features(5, 6, 2), false, true);
  EXPECT_EQ(out.factors.sizes(), (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(out.raw.sizes(), (std::vector<int64_t>{5, 4}));
  ASSERT_EQ(out.attention.size(), 3u);
  for (const auto& a : out.attention) {
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 5, 5}));
    EXPECT_TRUE(torch::allclose(a.sum(-1), torch::ones({2, 5}, a.options()), 1e-12, 1e-12));
    EXPECT_GE(a.min().item<double>(), 0.0);
  }
}

// The host loop (the per-step inference path) against the LibTorch layers (the path
// with autograd): same factors and attention, to rounding.
// A learning-design head starts at zero; give it values so that the comparison means
// something.
void randomize_head(Modulator& mod, uint64_t seed) {
  torch::NoGradGuard ng;
  auto gen = at::detail::createCPUGenerator(seed);
  auto& st = mod.store();
  for (size_t i = 0; i < st.parameters().size(); ++i)
    if (st.info()[i].name.rfind("head.", 0) == 0 || st.info()[i].name.rfind("final_ln.", 0) == 0)
      st.parameters()[i].add_(torch::randn(st.parameters()[i].sizes(), gen,
                                           torch::TensorOptions().dtype(torch::kDouble))
                                  .to(st.parameters()[i].scalar_type()) *
                              0.5);
}

void host_matches_layers(torch::Dtype dt, double tol, const std::string& design) {
  const auto o = MetaAdamWOptions()
                     .design_defaults(design)
                     .learn_lambdas(true)
                     .attn_layers(8)
                     .attn_heads(2)
                     .attn_hidden_dim(16);
  Modulator mod(o, 6, 5, dt);
  randomize_head(mod, 11);
  const auto x = features(7, 6, 9).to(dt) * 3.0;
  // Per-group offsets (the learning design's) on both paths too.
  const auto offsets = (features(7, 2, 12) * 0.3).to(dt).contiguous();
  const auto layers =
      mod.forward(x, /*training=*/false, /*want_attention=*/true, nullptr, offsets);  // grad on
  const auto host = mod.forward_host(x, true, offsets);
  ASSERT_EQ(host.attention.size(), layers.attention.size());
  EXPECT_TRUE(torch::allclose(host.raw, layers.raw, tol, tol))
      << (host.raw - layers.raw).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(host.factors, layers.factors, tol, tol));
  for (size_t l = 0; l < host.attention.size(); ++l)
    EXPECT_TRUE(torch::allclose(host.attention[l], layers.attention[l], tol, tol)) << "layer " << l;
  // Under NoGradGuard on the CPU, forward() itself takes the host path.
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::equal(mod.forward(x, false, false, nullptr, offsets).factors, host.factors));
}

TEST(Modulator, HostForwardMatchesTheLayersFloat64) {
  host_matches_layers(torch::kDouble, 1e-12, "learning");
  host_matches_layers(torch::kDouble, 1e-12, "paper");
}
TEST(Modulator, HostForwardMatchesTheLayersFloat32) {
  host_matches_layers(torch::kFloat, 2e-5, "learning");
  host_matches_layers(torch::kFloat, 2e-5, "paper");
}

// The learning design's identity start: whatever the features, untrained factors are
// exactly α = β = 1 (and λ = ½, fixed unless learn_lambdas), on both forward paths.
TEST(Modulator, LearningDesignStartsAtTheIdentity) {
  for (const auto dt : {torch::kFloat, torch::kDouble}) {
    Modulator mod(MetaAdamWOptions().attn_layers(3).attn_heads(2), 8, 13, dt);
    const auto x = (features(9, 8, 14) * 1e4).to(dt);  // large inputs: still exactly 1
    const auto layers = mod.forward(x, /*training=*/false, false);
    torch::NoGradGuard ng;
    const auto host = mod.forward_host(x, false);
    const auto want =
        torch::tensor({1.0, 1.0, 0.5, 0.5}, torch::TensorOptions().dtype(dt)).expand({9, 4});
    EXPECT_TRUE(torch::equal(layers.factors.detach(), want));
    EXPECT_TRUE(torch::equal(host.factors, want));
  }
}

// Fixed λ: the head's λ rows get no meta-gradient (they cannot lower L_grad by moving λ).
TEST(Modulator, FixedLambdasCarryNoGradientToTheHead) {
  Modulator mod(MetaAdamWOptions().attn_layers(1).attn_heads(2), 4, 3, torch::kDouble);
  randomize_head(mod, 4);
  const auto f = mod.forward(features(5, 4, 6), /*training=*/false, false).factors;
  f.sum().backward();
  const auto& st = mod.store();
  for (size_t i = 0; i < st.parameters().size(); ++i) {
    if (st.info()[i].name != "head.weight") continue;
    const auto g = st.parameters()[i].grad();
    EXPECT_GT(g.slice(0, 0, 2).abs().sum().item<double>(), 0.0);  // α, β rows
    EXPECT_EQ(g.slice(0, 2, 4).abs().sum().item<double>(), 0.0);  // λ rows
  }
}

TEST(Modulator, FactorsStayInTheirRanges) {
  const auto o = MetaAdamWOptions().design_defaults("paper").alpha_range(1.5).beta_range(0.5);
  Modulator mod(o, 8, 3, torch::kDouble);
  const auto f = mod.forward(features(7, 8, 4) * 50.0, false, false).factors;
  const auto a = f.select(1, 0), b = f.select(1, 1), l = f.slice(1, 2);
  EXPECT_GE(a.min().item<double>(), 1.0 - 0.75);
  EXPECT_LE(a.max().item<double>(), 1.0 + 0.75);
  EXPECT_GE(b.min().item<double>(), 1.0 - 0.25);
  EXPECT_LE(b.max().item<double>(), 1.0 + 0.25);
  EXPECT_GE(l.min().item<double>(), 0.0);
  EXPECT_LE(l.max().item<double>(), 1.0);
  // With zero ranges α and β are exactly 1.
  Modulator flat(MetaAdamWOptions().alpha_range(0).beta_range(0), 8, 3, torch::kFloat);
  const auto ff = flat.forward(features(7, 8, 4).to(torch::kFloat), false, false).factors;
  EXPECT_TRUE(torch::equal(ff.slice(1, 0, 2), torch::ones({7, 2})));
}

TEST(Modulator, PermutingGroupsPermutesFactorsAndAttention) {
  const auto o = MetaAdamWOptions().attn_layers(2).attn_heads(2);
  Modulator mod(o, 4, 5, torch::kDouble);
  randomize_head(mod, 8);
  const auto x = features(6, 4, 6);
  const auto perm = torch::tensor({3, 0, 5, 1, 4, 2}, torch::kLong);
  const auto a = mod.forward(x, false, true);
  const auto b = mod.forward(x.index_select(0, perm), false, true);
  EXPECT_TRUE(torch::allclose(b.factors, a.factors.index_select(0, perm), 1e-12, 1e-12));
  for (size_t l = 0; l < a.attention.size(); ++l) {
    const auto pa = a.attention[l].index_select(1, perm).index_select(2, perm);
    EXPECT_TRUE(torch::allclose(b.attention[l], pa, 1e-12, 1e-12)) << "layer " << l;
  }
}

TEST(Modulator, XavierMatricesZeroBiasesUnitLayerNorm) {
  for (const std::string design : {"paper", "learning"}) {
    Modulator mod(MetaAdamWOptions().design_defaults(design).attn_layers(1).attn_hidden_dim(16), 8,
                  7, torch::kDouble);
    const auto& st = mod.store();
    bool final_ln = false;
    for (size_t i = 0; i < st.parameters().size(); ++i) {
      const auto& p = st.parameters()[i];
      const auto& name = st.info()[i].name;
      final_ln = final_ln || name.rfind("final_ln.", 0) == 0;
      if (design == "learning" && name == "head.weight") {
        EXPECT_EQ(p.abs().max().item<double>(), 0.0) << name;  // the identity start
      } else if (p.dim() == 2) {
        const double bound = std::sqrt(6.0 / static_cast<double>(p.size(0) + p.size(1)));
        EXPECT_LE(p.abs().max().item<double>(), bound) << name;
        EXPECT_GT(p.abs().max().item<double>(), 0.5 * bound) << name;
      } else if (name.find("bias") != std::string::npos) {
        EXPECT_EQ(p.abs().max().item<double>(), 0.0) << name;
      } else {
        EXPECT_TRUE(torch::equal(p, torch::ones_like(p))) << name;
      }
    }
    EXPECT_EQ(final_ln, design == "learning");  // a LayerNorm before the head
  }
}

}  // namespace
}  // namespace maw::optim
