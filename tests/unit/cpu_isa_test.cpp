// The fused CPU kernels' instruction-set variants (optim/cpu_isa.h): the one chosen is the
// best the CPU's *features* allow (read here independently, from /proc/cpuinfo), and
// every variant the CPU can run gives the same numbers — to the bit, and equal to the
// composite path where ATen's kernels contract multiply-adds as ours do.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "isa_variants.h"
#include "optim/adamw.h"
#include "optim/adamw_kernel.h"
#include "optim/cpu_isa.h"
#include "optim/stats_kernel.h"

namespace maw::optim {
namespace {

using kernel::Isa;
using testing::IsaGuard;
using testing::runnable_isas;

std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> out;
      for (std::string w; words >> w;) out.insert(w);
      return out;
    }
  return {};
}

TEST(CpuIsa, KernelsRunTheBestVariantTheCpuFeaturesAllow) {
  const auto flags = cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags on this system";
  const bool avx2 = flags.count("avx2") && flags.count("fma");
  if (!avx2) GTEST_SKIP() << "this CPU has no AVX2+FMA: only the baseline variant can run";
  const Isa expected = flags.count("avx512f") ? Isa::kAvx512 : Isa::kAvx2Fma;
  EXPECT_EQ(kernel::best_isa(), expected) << "best " << kernel::isa_name(kernel::best_isa())
                                          << ", CPU flags say " << kernel::isa_name(expected);
  const char* env = std::getenv("METAADAMW_CPU_ISA");
  if (!env || !*env) {
    EXPECT_EQ(kernel::active_isa(), expected) << kernel::cpu_kernel_summary();
    EXPECT_NE(kernel::active_isa(), Isa::kBaseline);
  }
  EXPECT_NE(kernel::cpu_kernel_summary().find(kernel::isa_name(kernel::active_isa())),
            std::string::npos);
  std::printf("CPU kernels: %s\n", kernel::cpu_kernel_summary().c_str());
}

TEST(CpuIsa, NamesParseAndUnsupportedVariantsAreRefused) {
  for (Isa isa : {Isa::kBaseline, Isa::kAvx2Fma, Isa::kAvx512})
    EXPECT_EQ(kernel::parse_isa(kernel::isa_name(isa)), isa);
  EXPECT_EQ(kernel::parse_isa("avx2"), Isa::kAvx2Fma);
  EXPECT_EQ(kernel::parse_isa("avx512"), Isa::kAvx512);
  EXPECT_FALSE(kernel::parse_isa("haswell").has_value());
  EXPECT_TRUE(kernel::isa_supported(Isa::kBaseline));
  for (Isa isa : {Isa::kAvx2Fma, Isa::kAvx512})
    if (!kernel::isa_supported(isa)) {
      EXPECT_THROW(kernel::set_active_isa(isa), std::invalid_argument);
    }
}

// Sizes that exercise whole 64-lane chunks, tails, several 4096-element blocks and a
// block split across the parallel chunks.
const std::vector<std::vector<int64_t>> kShapes = {{1},         {63},           {64, 3},    {4095},
                                                   {4096 + 65}, {3, 4096 + 77}, {2, 300000}};

std::vector<torch::Tensor> random_tensors(torch::Dtype dt, uint64_t seed, double scale) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> out;
  for (const auto& s : kShapes)
    out.push_back(torch::randn(s, gen, torch::TensorOptions().dtype(dt)) * scale);
  return out;
}

std::vector<torch::Tensor> clones(const std::vector<torch::Tensor>& xs) {
  std::vector<torch::Tensor> out;
  for (const auto& x : xs) out.push_back(x.clone());
  return out;
}

void expect_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                  bool bitwise, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (bitwise) {
      EXPECT_TRUE(torch::equal(a[i], b[i])) << what << ", tensor " << i << ": max |diff| "
                                            << (a[i] - b[i]).abs().max().item<double>();
    } else {
      const double scale = b[i].abs().max().item<double>();
      EXPECT_LE((a[i] - b[i]).abs().max().item<double>(), 1e-6 * scale) << what << ", tensor " << i;
    }
  }
}

// AdamW: each variant's fused step against the composite foreach path, 12 steps.
void adamw_each_variant(torch::Dtype dt) {
  const auto p0 = random_tensors(dt, 1, 0.05);
  for (Isa isa : runnable_isas()) {
    SCOPED_TRACE(testing::isa_label(isa));
    IsaGuard use(isa);
    auto pf = clones(p0), pc = clones(p0);
    for (auto* l : {&pf, &pc})
      for (auto& p : *l) p.set_requires_grad(true);
    const auto o = AdamWOptions(3e-3).weight_decay(0.05).betas(0.8, 0.99).eps(1e-7);
    AdamW fused({{"all", pf, o}}), composite({{"all", pc, o}});
    composite.set_fused(false);
    auto gen = at::detail::createCPUGenerator(2);
    for (int step = 1; step <= 12; ++step) {
      for (size_t i = 0; i < pf.size(); ++i) {
        auto g = torch::randn(pf[i].sizes(), gen, pf[i].options().requires_grad(false)) * 1e-2;
        pf[i].mutable_grad() = g;
        pc[i].mutable_grad() = g.clone();
      }
      fused.step();
      composite.step();
    }
    expect_equal(pf, pc, testing::composite_path_uses_fma(), "AdamW parameters");
    for (size_t k = 0; k < pf.size(); ++k) {
      EXPECT_TRUE(torch::equal(fused.state(0, k).exp_avg, composite.state(0, k).exp_avg) ||
                  !testing::composite_path_uses_fma());
      EXPECT_FALSE(fused.state(0, k).denom.defined());  // it really took the fused path
    }
  }
}

TEST(CpuIsa, EveryVariantsAdamWStepEqualsTheCompositePathFloat32) {
  adamw_each_variant(torch::kFloat);
}
TEST(CpuIsa, EveryVariantsAdamWStepEqualsTheCompositePathFloat64) {
  adamw_each_variant(torch::kDouble);
}

// MetaAdamW's two passes and the statistics pass: every variant returns the same sums and
// writes the same moments and parameters as the baseline variant, to the bit; the sums
// agree with sums in double precision.
void passes_each_variant(torch::Dtype dt) {
  const auto g = random_tensors(dt, 3, 1e-2), m0 = random_tensors(dt, 4, 1e-3),
             p0 = random_tensors(dt, 5, 0.05);
  auto v0 = random_tensors(dt, 6, 1e-3);
  for (auto& v : v0) v = v * v;
  for (size_t i = 0; i < g.size(); ++i)  // zeros to count
    g[i].view(-1).slice(0, 0, g[i].numel(), 7).zero_();
  const FusedAdamWScalars s{0.9, 0.999, 1 - 0.9 * 0.9, 1 - 0.999 * 0.999, 1e-8};
  const std::vector<double> decay(g.size(), 1 - 1e-3 * 0.3),
      step(g.size(), -1e-3 / s.bias_correction1);

  struct Out {
    torch::Tensor stats, moments_sums, param_sums, square_sums;
    std::vector<torch::Tensor> m, v, p;
  };
  std::vector<Out> outs;
  for (Isa isa : runnable_isas()) {
    IsaGuard use(isa);
    Out o;
    o.m = clones(m0);
    o.v = clones(v0);
    o.p = clones(p0);
    o.stats = fused_tensor_sums_cpu(g, o.m, o.p, o.v, true);
    o.moments_sums = fused_moments_cpu(g, o.m, o.v, s, true);
    o.param_sums = fused_param_update_cpu(o.p, o.m, o.v, decay, step, s);
    o.square_sums = fused_square_sums_cpu(o.p);
    outs.push_back(o);
  }
  ASSERT_FALSE(outs.empty());
  const auto isas = runnable_isas();
  for (size_t k = 1; k < outs.size(); ++k) {
    SCOPED_TRACE(testing::isa_label(isas[k]) + " against " + testing::isa_label(isas[0]));
    EXPECT_TRUE(torch::equal(outs[k].stats, outs[0].stats));
    EXPECT_TRUE(torch::equal(outs[k].moments_sums, outs[0].moments_sums));
    EXPECT_TRUE(torch::equal(outs[k].param_sums, outs[0].param_sums));
    expect_equal(outs[k].m, outs[0].m, true, "moments m");
    expect_equal(outs[k].v, outs[0].v, true, "moments v");
    expect_equal(outs[k].p, outs[0].p, true, "parameters");
  }
  // Independent: the sums in double precision.
  const double tol = dt == torch::kFloat ? 1e-5 : 1e-12;
  for (size_t i = 0; i < g.size(); ++i) {
    const auto gd = g[i].to(torch::kDouble), md = m0[i].to(torch::kDouble),
               pd = p0[i].to(torch::kDouble), vd = v0[i].to(torch::kDouble);
    const double want[] = {gd.pow(2).sum().item<double>(),   md.pow(2).sum().item<double>(),
                           pd.pow(2).sum().item<double>(),   vd.pow(2).sum().item<double>(),
                           (gd * md).sum().item<double>(),   (g[i] == 0).sum().item<double>(),
                           (m0[i] == 0).sum().item<double>()};
    for (int c = 0; c < kNumSums; ++c) {
      const double got = outs[0].stats[static_cast<int64_t>(i)][c].item<double>();
      EXPECT_NEAR(got, want[c], tol * std::abs(want[c]) + 1e-30) << "tensor " << i << " sum " << c;
    }
    // The param pass's Σp² is the square-sum pass's, to the bit.
    EXPECT_EQ(outs[0].param_sums[static_cast<int64_t>(i)].item<double>(),
              outs[0].square_sums[static_cast<int64_t>(i)].item<double>());
  }
}

TEST(CpuIsa, EveryVariantsMetaAdamWPassesAndStatisticsAgreeToTheBitFloat32) {
  passes_each_variant(torch::kFloat);
}
TEST(CpuIsa, EveryVariantsMetaAdamWPassesAndStatisticsAgreeToTheBitFloat64) {
  passes_each_variant(torch::kDouble);
}

}  // namespace
}  // namespace maw::optim
