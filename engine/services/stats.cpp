#include "services/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace maw::stats {

double mean(const std::vector<double>& x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  double s = 0.0;
  for (double v : x) s += v;
  return s / static_cast<double>(x.size());
}

double stddev(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  const double m = mean(x);
  double s = 0.0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double median(std::vector<double> x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(x.begin(), x.end());
  const size_t n = x.size();
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

namespace {

// Continued fraction for I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double beta_fraction(double a, double b, double x) {
  constexpr double tiny = 1e-300, eps = 1e-15;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + aa * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < eps) break;
  }
  return h;
}

}  // namespace

double incomplete_beta(double a, double b, double x) {
  if (!(a > 0 && b > 0) || x < 0 || x > 1) throw std::domain_error("incomplete_beta: bad argument");
  if (x == 0 || x == 1) return x;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * beta_fraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * beta_fraction(b, a, 1.0 - x) / b;
}

double t_two_sided_p(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  return incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
}

PairedTTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_t_test: unequal lengths");
  PairedTTest r;
  std::vector<double> d;
  for (size_t i = 0; i < a.size(); ++i) d.push_back(b[i] - a[i]);
  r.mean_diff = mean(d);
  r.df = static_cast<double>(d.size()) - 1.0;
  if (d.size() < 2) {
    r.p_value = std::numeric_limits<double>::quiet_NaN();
    r.t = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  const double se = stddev(d) / std::sqrt(static_cast<double>(d.size()));
  if (se == 0.0) {  // identical differences: no spread to test against
    r.t = r.mean_diff == 0.0 ? 0.0 : std::copysign(INFINITY, r.mean_diff);
    r.p_value = r.mean_diff == 0.0 ? 1.0 : 0.0;
    return r;
  }
  r.t = r.mean_diff / se;
  r.p_value = t_two_sided_p(r.t, r.df);
  return r;
}

double t_critical(double p, double df) {
  if (!(df > 0) || !(p > 0) || p > 1) return std::numeric_limits<double>::quiet_NaN();
  if (p == 1) return 0.0;
  double lo = 0.0, hi = 1.0;
  while (t_two_sided_p(hi, df) > p) hi *= 2.0;  // p falls as t grows
  for (int k = 0; k < 200 && hi - lo > 1e-12 * hi; ++k) {
    const double mid = 0.5 * (lo + hi);
    (t_two_sided_p(mid, df) > p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

PairedEffect paired_effect(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_effect: unequal lengths");
  std::vector<double> d;
  for (size_t i = 0; i < a.size(); ++i) d.push_back(b[i] - a[i]);
  PairedEffect e;
  e.mean_diff = mean(d);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (d.size() < 2) {
    e.ci_low = e.ci_high = e.cohen_dz = nan;
    return e;
  }
  const double sd = stddev(d), n = static_cast<double>(d.size());
  const double half = t_critical(0.05, n - 1.0) * sd / std::sqrt(n);
  e.ci_low = e.mean_diff - half;
  e.ci_high = e.mean_diff + half;
  e.cohen_dz = sd > 0             ? e.mean_diff / sd
               : e.mean_diff == 0 ? 0.0
                                  : std::copysign(INFINITY, e.mean_diff);
  return e;
}

SignedRankTest wilcoxon_signed_rank(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("wilcoxon_signed_rank: unequal lengths");
  std::vector<double> d;
  for (size_t i = 0; i < a.size(); ++i)
    if (b[i] - a[i] != 0.0) d.push_back(b[i] - a[i]);
  SignedRankTest r;
  r.n = static_cast<int64_t>(d.size());
  if (d.empty()) {
    r.p_value = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  // Mean ranks of |d|, doubled so that ties' half ranks are integers.
  std::vector<size_t> order(d.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return std::fabs(d[i]) < std::fabs(d[j]); });
  std::vector<int64_t> rank2(d.size());
  double tie_term = 0.0;  // Σ (t³ − t) over tie groups
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && std::fabs(d[order[j + 1]]) == std::fabs(d[order[i]])) ++j;
    const int64_t sum2 = static_cast<int64_t>(i + 1 + j + 1);  // 2 × mean rank
    for (size_t k = i; k <= j; ++k) rank2[order[k]] = sum2;
    const double t = static_cast<double>(j - i + 1);
    tie_term += t * t * t - t;
    i = j + 1;
  }
  int64_t w2 = 0, total2 = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    total2 += rank2[i];
    if (d[i] > 0) w2 += rank2[i];
  }
  r.w_plus = 0.5 * static_cast<double>(w2);
  const double n = static_cast<double>(d.size());
  if (d.size() <= 50) {
    // count[s]: sign patterns whose doubled positive-rank sum is s (each 1/2^n likely).
    std::vector<double> count(static_cast<size_t>(total2) + 1, 0.0);
    count[0] = 1.0;
    int64_t reach = 0;
    for (const int64_t r2 : rank2) {
      for (int64_t s = reach; s >= 0; --s)
        if (count[static_cast<size_t>(s)] != 0.0)
          count[static_cast<size_t>(s + r2)] += count[static_cast<size_t>(s)];
      reach += r2;
    }
    const double all = std::ldexp(1.0, static_cast<int>(d.size()));
    double below = 0.0, above = 0.0;  // P(W ≤ w), P(W ≥ w)
    for (int64_t s = 0; s <= total2; ++s) {
      if (s <= w2) below += count[static_cast<size_t>(s)];
      if (s >= w2) above += count[static_cast<size_t>(s)];
    }
    r.p_value = std::min(1.0, 2.0 * std::min(below, above) / all);
    r.exact = true;
    return r;
  }
  const double mu = n * (n + 1.0) / 4.0;
  const double var = n * (n + 1.0) * (2.0 * n + 1.0) / 24.0 - tie_term / 48.0;
  const double z = var > 0 ? (r.w_plus - mu) / std::sqrt(var) : 0.0;
  r.p_value = std::min(1.0, std::erfc(std::fabs(z) / std::sqrt(2.0)));
  r.exact = false;
  return r;
}

std::vector<double> holm(const std::vector<double>& p) {
  std::vector<size_t> order;
  for (size_t i = 0; i < p.size(); ++i)
    if (!std::isnan(p[i])) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return p[i] < p[j]; });
  std::vector<double> out(p.size(), std::numeric_limits<double>::quiet_NaN());
  const double m = static_cast<double>(order.size());
  double running = 0.0;  // step-down: adjusted values never decrease along the order
  for (size_t k = 0; k < order.size(); ++k) {
    running = std::max(running, std::min(1.0, (m - static_cast<double>(k)) * p[order[k]]));
    out[order[k]] = running;
  }
  return out;
}

}  // namespace maw::stats
