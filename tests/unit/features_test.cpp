// Group features (METAADAMW.md §2) against a naive per-tensor loop in double precision:
// every version, with a zero gradient, a zero moment (cos = 0) and a single-tensor group
// (std = 0).
#include "optim/features.h"

#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace maw::optim {
namespace {

struct Fixture {
  std::vector<nn::ParamInfo> infos;
  std::vector<ParamGroup> groups;
  std::vector<torch::Tensor> g, m, v, p;
};

Fixture make_fixture() {
  Fixture f;
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"layers.0.weight", {3, 4}}, {"layers.0.bias", {4}}, {"layers.1.weight", {4, 4}},
      {"layers.2.weight", {2, 4}}, {"layers.2.bias", {2}}, {"head.weight", {1, 2}},
      {"emb.weight", {5, 3}}};
  auto gen = at::detail::createCPUGenerator(42);
  const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
  for (const auto& [name, shape] : shapes) {
    nn::ParamInfo i;
    i.name = name;
    i.shape = shape;
    i.numel = 1;
    for (auto s : shape) i.numel *= s;
    f.infos.push_back(i);
    f.p.push_back(torch::randn(shape, gen, dbl));
    f.g.push_back(torch::randn(shape, gen, dbl));
    f.m.push_back(torch::randn(shape, gen, dbl) * 0.1);
    f.v.push_back(torch::rand(shape, gen, dbl) * 0.01);
  }
  f.g[1].zero_();               // a zero gradient
  f.m[3].zero_();               // a zero moment: cos = 0
  f.g[2].index_put_({0}, 0.0);  // some sparsity
  // groups: {0, 2}, {1, 4}, {3}, {5, 6}  — group 2 has a single tensor (std = 0)
  const std::vector<std::vector<int>> members = {{0, 2}, {1, 4}, {3}, {5, 6}};
  for (size_t gi = 0; gi < members.size(); ++gi) {
    ParamGroup pg;
    pg.name = "g" + std::to_string(gi);
    pg.slots = members[gi];
    for (int s : pg.slots) {
      pg.tensor_names.push_back(f.infos[static_cast<size_t>(s)].name);
      pg.numel += f.infos[static_cast<size_t>(s)].numel;
    }
    f.groups.push_back(pg);
  }
  return f;
}

void expect_matches_naive(const MetaAdamWOptions& o, bool foreach_path);

// The naive reference: loops over elements with plain doubles.
struct Naive {
  static double norm(const torch::Tensor& t) {
    double s = 0;
    const auto c = t.contiguous();
    for (int64_t i = 0; i < c.numel(); ++i) s += c.data_ptr<double>()[i] * c.data_ptr<double>()[i];
    return std::sqrt(s);
  }
  static double dot(const torch::Tensor& a, const torch::Tensor& b) {
    double s = 0;
    const auto x = a.contiguous(), y = b.contiguous();
    for (int64_t i = 0; i < x.numel(); ++i) s += x.data_ptr<double>()[i] * y.data_ptr<double>()[i];
    return s;
  }
  static double sparsity(const torch::Tensor& t) {
    int64_t zeros = 0;
    const auto c = t.contiguous();
    for (int64_t i = 0; i < c.numel(); ++i) zeros += c.data_ptr<double>()[i] == 0.0;
    return static_cast<double>(zeros) / static_cast<double>(c.numel());
  }
  static double mean(const std::vector<double>& x) {
    double s = 0;
    for (double v : x) s += v;
    return s / static_cast<double>(x.size());
  }
  static double var(const std::vector<double>& x) {
    const double mu = mean(x);
    double s = 0;
    for (double v : x) s += (v - mu) * (v - mu);
    return s / static_cast<double>(x.size());
  }
};

std::vector<std::vector<double>> naive_stats(const Fixture& f, const MetaAdamWOptions& o) {
  std::vector<std::vector<double>> rows;
  const std::string version = name_of(o.features());
  // layer position: indices 0..2 over "layers.i"; head and emb come after: 1.0.
  const std::vector<double> pos = {0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0};
  // The learning design reads magnitudes as log RMS, floored at 1e-12 (a zero gradient).
  const bool logs = !o.paper_design();
  for (const auto& grp : f.groups) {
    std::vector<std::vector<double>> cols(5);
    std::vector<double> sg, sm, ln, d1, lp;
    for (int s : grp.slots) {
      const auto i = static_cast<size_t>(s);
      const auto n = static_cast<double>(f.infos[i].numel);
      auto mag = [&](double norm) {
        return logs ? std::log(std::max(norm / std::sqrt(n), 1e-12)) : norm;
      };
      const double ng = Naive::norm(f.g[i]), nm = Naive::norm(f.m[i]);
      cols[0].push_back(mag(ng));
      cols[1].push_back(mag(nm));
      cols[2].push_back(mag(Naive::norm(f.p[i])));
      cols[3].push_back(ng > 0 && nm > 0 ? Naive::dot(f.g[i], f.m[i]) / (ng * nm) : 0.0);
      cols[4].push_back(mag(Naive::norm(f.v[i])));
      sg.push_back(Naive::sparsity(f.g[i]));
      sm.push_back(Naive::sparsity(f.m[i]));
      ln.push_back(std::log(static_cast<double>(f.infos[i].numel) + 1.0));
      d1.push_back(f.infos[i].shape.size() == 1 ? 1.0 : 0.0);
      lp.push_back(pos[i]);
    }
    std::vector<double> row;
    if (version == "enhanced") {
      row = {Naive::mean(cols[0]), Naive::var(cols[0]), Naive::mean(cols[1]),
             Naive::var(cols[1]),  Naive::mean(sg),     Naive::mean(sm),
             Naive::mean(ln),      Naive::mean(d1),     Naive::mean(lp)};
    } else {
      const size_t k = o.use_v_norms() ? 5 : 4;
      for (size_t c = 0; c < k; ++c) row.push_back(Naive::mean(cols[c]));
      if (version == "basic_plus" || version == "norm_basic_plus")
        for (size_t c = 0; c < k; ++c) row.push_back(std::sqrt(Naive::var(cols[c])));
    }
    rows.push_back(row);
  }
  // Standardized across groups: every column (norm_ families), else the magnitude means in
  // the learning design.
  std::vector<size_t> z;
  if (version == "norm_basic" || version == "norm_basic_plus")
    for (size_t c = 0; c < rows[0].size(); ++c) z.push_back(c);
  else if (logs && version == "enhanced")
    z = {0, 2, 6};
  else if (logs)
    z = o.use_v_norms() ? std::vector<size_t>{0, 1, 2, 4} : std::vector<size_t>{0, 1, 2};
  {
    for (const size_t c : z) {
      std::vector<double> col;
      for (const auto& r : rows) col.push_back(r[c]);
      const double mu = Naive::mean(col), sd = std::sqrt(Naive::var(col));
      for (auto& r : rows) r[c] = (r[c] - mu) / (sd + 1e-8);
    }
  }
  return rows;
}

void expect_matches_naive(const MetaAdamWOptions& options) {
  for (const std::string design : {"learning", "paper"})
    for (bool foreach_path : {false, true}) {
      SCOPED_TRACE(design + (foreach_path ? ", foreach path" : ", fused CPU path"));
      auto o = options;
      expect_matches_naive(o.modulator_design(design), foreach_path);
    }
}

void expect_matches_naive(const MetaAdamWOptions& o, bool foreach_path) {
  const auto f = make_fixture();
  FeatureExtractor fx(o, f.groups, f.infos, torch::kCPU, torch::kDouble);
  fx.force_foreach(foreach_path);
  const auto stats = fx.statistics(f.g, f.m, f.v, f.p);
  const auto want = naive_stats(f, o);
  ASSERT_EQ(stats.size(0), static_cast<int64_t>(want.size()));
  ASSERT_EQ(stats.size(1), static_cast<int64_t>(want[0].size())) << name_of(o.features());
  EXPECT_EQ(fx.num_statistics(), stats.size(1));
  for (size_t r = 0; r < want.size(); ++r)
    for (size_t c = 0; c < want[r].size(); ++c)
      EXPECT_NEAR(stats[static_cast<int64_t>(r)][static_cast<int64_t>(c)].item<double>(),
                  want[r][c], 1e-10 * std::max(1.0, std::abs(want[r][c])))
          << name_of(o.features()) << " group " << r << " column " << c << " (" << fx.names()[c]
          << ")";
}

TEST(Features, BasicMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions());
}
TEST(Features, BasicWithoutVNormsMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions().use_v_norms(false));
}
TEST(Features, BasicPlusMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions().features("basic_plus"));
}
TEST(Features, EnhancedMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions().features("enhanced"));
}
TEST(Features, NormBasicMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions().features("norm_basic"));
}
TEST(Features, NormBasicPlusMatchesNaiveLoop) {
  expect_matches_naive(MetaAdamWOptions().features("norm_basic_plus"));
}

TEST(Features, ZeroMomentGivesZeroCosineAndSingleTensorGroupHasZeroStd) {
  const auto f = make_fixture();
  const auto o = MetaAdamWOptions().features("basic_plus");
  FeatureExtractor fx(o, f.groups, f.infos, torch::kCPU, torch::kDouble);
  const auto s = fx.statistics(f.g, f.m, f.v, f.p);
  EXPECT_TRUE(torch::isfinite(s).all().item<bool>());  // the zero gradient's log is floored
  EXPECT_EQ(s[2][3].item<double>(), 0.0);              // group 2 = tensor 3, whose m is zero
  for (int64_t c = 5; c < 10; ++c) EXPECT_EQ(s[2][c].item<double>(), 0.0);  // stds
}

TEST(Features, AssembleAppendsTimePadsToHeadsAndGates) {
  const auto f = make_fixture();
  auto o = MetaAdamWOptions().features("enhanced").group_embed_dim(3).attn_heads(4);
  o.use_feature_gating(true).total_steps(200);
  EXPECT_EQ(o.raw_feature_count(), 9 + 3 + 1);
  EXPECT_EQ(o.resolved_feature_dim(), 16);  // rounded up to a multiple of 4 heads
  FeatureExtractor fx(o, f.groups, f.infos, torch::kCPU, torch::kDouble);
  ASSERT_EQ(fx.dim(), 16);
  ASSERT_EQ(fx.names().size(), 16u);
  EXPECT_EQ(fx.names()[12], "t");
  EXPECT_EQ(fx.names()[15], "pad");
  const auto stats = fx.statistics(f.g, f.m, f.v, f.p);
  const auto emb = torch::arange(12, torch::kDouble).view({4, 3});
  auto gates = torch::zeros({16}, torch::kDouble);
  gates[0] = 2.0;
  const auto x = fx.assemble(stats, emb, gates, 50);
  ASSERT_EQ(x.sizes(), (std::vector<int64_t>{4, 16}));
  const double half = 0.5, s2 = 1.0 / (1.0 + std::exp(-2.0));
  EXPECT_NEAR(x[1][0].item<double>(), stats[1][0].item<double>() * s2, 1e-15);
  EXPECT_NEAR(x[1][9].item<double>(), 3.0 * half, 1e-15);            // embedding [1][0]
  EXPECT_NEAR(x[3][12].item<double>(), 50.0 / 200.0 * half, 1e-15);  // t/T
  EXPECT_EQ(x[3][15].item<double>(), 0.0);
  // Unknown T: 2σ(t/1000) − 1.
  FeatureExtractor fx2(MetaAdamWOptions(), f.groups, f.infos, torch::kCPU, torch::kDouble);
  EXPECT_NEAR(fx2.time_feature(500), 2.0 / (1.0 + std::exp(-0.5)) - 1.0, 1e-15);
}

}  // namespace
}  // namespace maw::optim
