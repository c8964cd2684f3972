// Study statistics against independent computations: the Student-t tail by numerical
// integration of its density, the incomplete beta by a binomial sum, and a paired t-test
// worked by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "api/stats.h"

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

}  // namespace
}  // namespace maw::stats
