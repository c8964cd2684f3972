// Statistics for studies over seeds (compare, sweep): summaries and the paired two-sided
// t-test. Torch-free; shared by the CLI and the studio.
#pragma once

#include <cstdint>
#include <vector>

namespace maw::stats {

double mean(const std::vector<double>& x);
// Sample standard deviation (n − 1); 0 for fewer than two values.
double stddev(const std::vector<double>& x);
double median(std::vector<double> x);

// Regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
double incomplete_beta(double a, double b, double x);
// Two-sided p-value of Student's t with `df` degrees of freedom.
double t_two_sided_p(double t, double df);

struct PairedTTest {
  double t = 0.0;
  double df = 0.0;
  double p_value = 0.0;  // NaN when there are fewer than two pairs
  double mean_diff = 0.0;
};
// Paired two-sided t-test of b − a (same length).
PairedTTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

// The t with two-sided p-value `p` at `df` degrees of freedom (t_{1−p/2, df}); NaN for
// df <= 0 or p outside (0, 1].
double t_critical(double p, double df);

// The paired effect b − a: its mean with a 95% t confidence interval, and Cohen's d_z
// (mean / sd of the differences; ±inf when they are all equal and non-zero, 0 when 0).
struct PairedEffect {
  double mean_diff = 0.0;
  double ci_low = 0.0, ci_high = 0.0;  // NaN with fewer than two pairs
  double cohen_dz = 0.0;
};
PairedEffect paired_effect(const std::vector<double>& a, const std::vector<double>& b);

// Wilcoxon's signed-rank test of b − a, two-sided: zero differences dropped (Wilcoxon's
// method), ties given their mean rank. The p-value is exact — the distribution of W+ over
// all 2^n sign patterns of these ranks, ties included — for n <= 50, else the normal
// approximation with the tie correction.
struct SignedRankTest {
  double w_plus = 0.0;   // sum of the ranks of the positive differences
  int64_t n = 0;         // non-zero differences
  double p_value = 1.0;  // NaN when n == 0
  bool exact = true;
};
SignedRankTest wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b);

// Holm's step-down adjustment of a family of p-values, in their order; NaNs stay NaN and
// do not count in the family's size.
std::vector<double> holm(const std::vector<double>& p);

}  // namespace maw::stats
