// Statistics for studies over seeds (compare, sweep): summaries and the paired two-sided
// t-test. Torch-free; shared by the CLI and the studio.
#pragma once

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

}  // namespace maw::stats
