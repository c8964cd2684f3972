// Study statistics against independent computations: the Student-t tail by numerical
// integration of its density, the incomplete beta by a binomial sum, and a paired t-test
// worked by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "services/stats.h"
#include "services/study.h"

namespace maw::stats {
namespace {

// P(|T| > t) for Student's t with df degrees of freedom, by Simpson's rule on the density
// over [0, t] (independent of the incomplete beta).
double t_tail_by_integration(double t, double df) {
  const double c = std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) / std::sqrt(df * M_PI);
  auto pdf = [&](double x) { return c * std::pow(1 + x * x / df, -(df + 1) / 2); };
  const int n = 20000;  // even
  const double h = t / n;
  double s = pdf(0) + pdf(t);
  for (int i = 1; i < n; ++i) s += (i % 2 ? 4 : 2) * pdf(i * h);
  return 1.0 - 2.0 * s * h / 3.0;
}

TEST(Stats, TTailMatchesNumericalIntegrationOfTheDensity) {
  for (double df : {1.0, 2.0, 4.0, 9.0, 30.0})
    for (double t : {0.1, 0.7, 1.5, 2.571, 4.0})
      EXPECT_NEAR(t_two_sided_p(t, df), t_tail_by_integration(t, df), 1e-9)
          << "t=" << t << " df=" << df;
  EXPECT_NEAR(t_two_sided_p(2.570582, 5), 0.05, 1e-6);  // the textbook critical value
  EXPECT_DOUBLE_EQ(t_two_sided_p(-1.5, 4), t_two_sided_p(1.5, 4));
  EXPECT_DOUBLE_EQ(t_two_sided_p(0.0, 3), 1.0);
}

TEST(Stats, IncompleteBetaMatchesTheBinomialSumForIntegerArguments) {
  // I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a) for integer a, b.
  for (int a : {1, 2, 5})
    for (int b : {1, 3, 6})
      for (double x : {0.05, 0.4, 0.8}) {
        const int n = a + b - 1;
        double p = 0;
        for (int k = a; k <= n; ++k)
          p += std::exp(std::lgamma(n + 1) - std::lgamma(k + 1) - std::lgamma(n - k + 1)) *
               std::pow(x, k) * std::pow(1 - x, n - k);
        EXPECT_NEAR(incomplete_beta(a, b, x), p, 1e-12) << a << " " << b << " " << x;
      }
}

TEST(Stats, PairedTTestByHand) {
  // d = b − a = .5 .4 .7 .1: mean .425, sd .25, se .125, t = 3.4, df 3.
  const auto r = paired_t_test({1, 2, 3, 4}, {1.5, 2.4, 3.7, 4.1});
  EXPECT_NEAR(r.mean_diff, 0.425, 1e-12);
  EXPECT_NEAR(r.t, 3.4, 1e-12);
  EXPECT_EQ(r.df, 3.0);
  EXPECT_NEAR(r.p_value, t_tail_by_integration(3.4, 3), 1e-9);
  EXPECT_TRUE(std::isnan(paired_t_test({1}, {2}).p_value));  // one pair: no test
  EXPECT_EQ(paired_t_test({1, 2}, {1, 2}).p_value, 1.0);     // identical
  EXPECT_EQ(paired_t_test({1, 2}, {2, 3}).p_value, 0.0);     // a constant shift
  EXPECT_NEAR(mean({1, 2, 6}), 3.0, 1e-15);
  EXPECT_NEAR(stddev({1, 2, 6}), std::sqrt(7.0), 1e-12);
  EXPECT_EQ(median({5, 1, 3}), 3.0);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
}

// The signed-rank p-value by brute force: every one of the 2^n sign patterns of the
// (mean) ranks, counted — independent of the implementation's dynamic programme.
double signed_rank_p_by_enumeration(const std::vector<double>& d) {
  std::vector<double> nz;
  for (double v : d)
    if (v != 0) nz.push_back(v);
  const size_t n = nz.size();
  std::vector<double> rank(n);
  for (size_t i = 0; i < n; ++i) {
    double less = 0, equal = 0;
    for (size_t j = 0; j < n; ++j) {
      less += std::fabs(nz[j]) < std::fabs(nz[i]);
      equal += std::fabs(nz[j]) == std::fabs(nz[i]);
    }
    rank[i] = less + (equal + 1) / 2;
  }
  double w = 0;
  for (size_t i = 0; i < n; ++i)
    if (nz[i] > 0) w += rank[i];
  double below = 0, above = 0;
  for (uint64_t mask = 0; mask < (uint64_t{1} << n); ++mask) {
    double s = 0;
    for (size_t i = 0; i < n; ++i)
      if (mask >> i & 1) s += rank[i];
    below += s <= w + 1e-9;
    above += s >= w - 1e-9;
  }
  return std::min(1.0, 2 * std::min(below, above) / std::ldexp(1.0, static_cast<int>(n)));
}

TEST(Stats, WilcoxonSignedRankIsExactAgainstEnumerationAndTheTextbook) {
  // SciPy's documented example (Wilcoxon's own data): W− = 24, exact two-sided p = 0.04126.
  const std::vector<double> d = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
  const std::vector<double> zero(d.size(), 0.0);
  const auto r = wilcoxon_signed_rank(zero, d);
  EXPECT_EQ(r.n, 15);
  EXPECT_DOUBLE_EQ(r.w_plus, 120 - 24);
  EXPECT_TRUE(r.exact);
  EXPECT_NEAR(r.p_value, 0.041259765625, 1e-12);
  // Ties, zeros, both signs, small n: against brute force.
  const std::vector<std::vector<double>> cases = {
      {1, 2, 3, 4, 5},
      {-1, 2, -3, 4, 5, 6},
      {1, 1, -1, 2, 2, 3, 0, -3},
      {0.5, -0.5, 0.5, 0.25},
      {3, 3, 3, 3, 3, 3, 3},
      {-2, -1, 0, 0, 1, 4, -4, 6, 7, -8},
      {1e-3, -2e-3, 5e-3, 4e-3, -1e-4, 7e-3, 2e-3, 9e-3, -6e-3, 8e-3, 3e-3, 1e-2}};
  for (const auto& c : cases) {
    const std::vector<double> z(c.size(), 0.0);
    EXPECT_NEAR(wilcoxon_signed_rank(z, c).p_value, signed_rank_p_by_enumeration(c), 1e-12)
        << "case of " << c.size();
  }
  // The sign flips with the order of the pair; the p-value does not.
  EXPECT_NEAR(wilcoxon_signed_rank(d, zero).p_value, r.p_value, 1e-15);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank(d, zero).w_plus, 24);
  // No non-zero difference: nothing to test.
  EXPECT_TRUE(std::isnan(wilcoxon_signed_rank({1, 2}, {1, 2}).p_value));
  // Large n: the normal approximation, close to the exact value near the middle.
  std::vector<double> big, none(60, 0.0);
  for (int i = 1; i <= 60; ++i) big.push_back(i % 3 == 0 ? -i : i);
  const auto b = wilcoxon_signed_rank(none, big);
  EXPECT_FALSE(b.exact);
  EXPECT_GT(b.p_value, 0.0);
  EXPECT_LT(b.p_value, 1.0);
}

TEST(Stats, TCriticalInvertsTheTailAndGivesTheTextbookValues) {
  EXPECT_NEAR(t_critical(0.05, 4), 2.776445, 1e-6);
  EXPECT_NEAR(t_critical(0.05, 9), 2.262157, 1e-6);
  EXPECT_NEAR(t_critical(0.01, 2), 9.924843, 1e-6);
  for (double df : {1.0, 3.0, 20.0})
    for (double p : {0.2, 0.05, 0.001}) EXPECT_NEAR(t_two_sided_p(t_critical(p, df), df), p, 1e-10);
  EXPECT_TRUE(std::isnan(t_critical(0.05, 0)));
}

TEST(Stats, PairedEffectHasATConfidenceIntervalAndCohensDz) {
  // Differences 1, 2, 3, 4, 5: mean 3, sd √2.5, CI 3 ± 2.776445·√2.5/√5 (by hand).
  const auto e = paired_effect({0, 0, 0, 0, 0}, {1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(e.mean_diff, 3.0);
  const double half = 2.7764451051977987 * std::sqrt(2.5) / std::sqrt(5.0);
  EXPECT_NEAR(e.ci_low, 3 - half, 1e-9);
  EXPECT_NEAR(e.ci_high, 3 + half, 1e-9);
  EXPECT_NEAR(e.cohen_dz, 3 / std::sqrt(2.5), 1e-12);
  EXPECT_TRUE(std::isnan(paired_effect({1}, {2}).ci_low));
}

TEST(Stats, HolmAdjustsStepDownAndKeepsTheOrder) {
  // By hand: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06.
  const auto h = holm({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(h.size(), 4u);
  EXPECT_NEAR(h[0], 0.03, 1e-15);
  EXPECT_NEAR(h[1], 0.06, 1e-15);
  EXPECT_NEAR(h[2], 0.06, 1e-15);
  EXPECT_NEAR(h[3], 0.02, 1e-15);
  const auto g = holm({0.5, std::nan(""), 0.4});  // NaN: not part of the family
  EXPECT_NEAR(g[0], 0.8, 1e-15);
  EXPECT_TRUE(std::isnan(g[1]));
  EXPECT_NEAR(g[2], 0.8, 1e-15);
  EXPECT_EQ(holm({0.9, 0.8}), (std::vector<double>{1.0, 1.0}));
}

// A compare study tests the final metric (the model each run ends with), not the best
// evaluation over the run, which is chosen on the evaluation split itself: here the two
// disagree in sign, and the numbers are worked from the runs by hand.
TEST(Study, CompareTestsTheFinalMetricAndOnlyDescribesTheBestEvaluation) {
  // Lower is better. Baseline a dips to 1.0 at step 10 and ends at 3.0 + s; candidate b
  // ends at 2.0 + 0.1·s·s and never dips.
  auto run = [](const std::string& opt, uint64_t seed, double dip, double end) {
    SeedRun r;
    r.summary.optimizer = opt;
    r.summary.seed = seed;
    r.summary.metric_name = "loss";
    r.summary.metric_higher_is_better = false;
    r.summary.eval_metric = end;
    for (int64_t step : {10, 20}) {
      EvalRecord e;
      e.step = step;
      e.metric = step == 10 ? dip : end;
      e.wall_time_s = static_cast<double>(step);
      r.evals.push_back(e);
    }
    return r;
  };
  OptimizerRuns a{"adamw", {}}, b{"metaadamw", {}};
  std::vector<double> d_final, d_best;
  for (uint64_t s = 0; s < 5; ++s) {
    const double ds = static_cast<double>(s);
    a.runs.push_back(run("adamw", s, 1.0 + 0.01 * ds, 3.0 + ds));
    b.runs.push_back(run("metaadamw", s, 2.0 + 0.1 * ds * ds, 2.0 + 0.1 * ds * ds));
    d_final.push_back((2.0 + 0.1 * ds * ds) - (3.0 + ds));
    d_best.push_back((2.0 + 0.1 * ds * ds) - (1.0 + 0.01 * ds));
  }
  double mean = 0, var = 0;
  for (double d : d_final) mean += d / 5;
  for (double d : d_final) var += (d - mean) * (d - mean) / 4;
  const auto j = compare_study(a, b);
  EXPECT_EQ(j["primary"], "final");
  EXPECT_NEAR(j["mean_diff"].get<double>(), mean, 1e-12);
  EXPECT_LT(j["mean_diff"].get<double>(), 0.0);  // b ends better…
  EXPECT_NEAR(j["t"].get<double>(), mean / std::sqrt(var / 5), 1e-9);
  EXPECT_NEAR(j["effect"]["mean_diff"].get<double>(), mean, 1e-12);
  EXPECT_EQ(j["wilcoxon"]["w_plus"].get<double>(), 0.0);  // every final difference < 0
  double mean_best = 0;
  for (double d : d_best) mean_best += d / 5;
  EXPECT_NEAR(j["mean_diff_best"].get<double>(), mean_best, 1e-12);
  EXPECT_GT(j["mean_diff_best"].get<double>(), 0.0);  // …though a's best evaluation is lower
  EXPECT_NEAR(j["adamw"]["final"]["mean"].get<double>(), 5.0, 1e-12);
  EXPECT_NEAR(j["adamw"]["best"]["mean"].get<double>(), 1.02, 1e-12);
  // Time to a's median best (1.02): b never gets there, a at its first evaluation.
  EXPECT_EQ(j["time_to_target"]["metaadamw"]["reached"], 0u);
  EXPECT_EQ(j["time_to_target"]["adamw"]["reached"], 3u);
}

}  // namespace
}  // namespace maw::stats
