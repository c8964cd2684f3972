#include "services/pca.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace maw::stats {

void symmetric_eigen(std::vector<double> a, size_t n, std::vector<double>& values,
                     std::vector<double>& vectors) {
  std::vector<double> v(n * n, 0.0);
  for (size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;
  auto at = [n](std::vector<double>& m, size_t i, size_t j) -> double& { return m[i * n + j]; };
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, total = 0.0;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) (i == j ? total : off) += at(a, i, j) * at(a, i, j);
    if (off <= 1e-30 * (total + off) || off == 0.0) break;
    for (size_t p = 0; p + 1 < n; ++p)
      for (size_t q = p + 1; q < n; ++q) {
        const double apq = at(a, p, q);
        if (std::abs(apq) < 1e-300) continue;
        const double theta = (at(a, q, q) - at(a, p, p)) / (2.0 * apq);
        const double t =
            (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1.0 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {  // columns p, q
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; ++k) {  // rows p, q
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (size_t k = 0; k < n; ++k) {
          const double vkp = at(v, k, p), vkq = at(v, k, q);
          at(v, k, p) = c * vkp - s * vkq;
          at(v, k, q) = s * vkp + c * vkq;
        }
      }
  }
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return at(a, x, x) > at(a, y, y); });
  values.assign(n, 0.0);
  vectors.assign(n * n, 0.0);
  for (size_t c = 0; c < n; ++c) {
    values[c] = at(a, order[c], order[c]);
    for (size_t r = 0; r < n; ++r) vectors[r * n + c] = at(v, r, order[c]);
  }
}

Pca principal_components(const std::vector<std::vector<float>>& rows, size_t k) {
  if (rows.empty()) throw std::invalid_argument("no rows");
  const size_t n = rows.size(), m = rows.front().size();
  for (const auto& r : rows)
    if (r.size() != m) throw std::invalid_argument("rows of different lengths");
  std::vector<double> mean(m, 0.0);
  for (const auto& r : rows)
    for (size_t j = 0; j < m; ++j) mean[j] += r[j];
  for (double& x : mean) x /= static_cast<double>(n);
  // The Gram matrix of the centred rows: its eigenvectors u give the scores √λ·u.
  std::vector<double> gram(n * n, 0.0), a(m), b(m);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < m; ++j) a[j] = rows[i][j] - mean[j];
    for (size_t l = i; l < n; ++l) {
      double dot = 0.0;
      for (size_t j = 0; j < m; ++j) dot += a[j] * (rows[l][j] - mean[j]);
      gram[i * n + l] = gram[l * n + i] = dot;
    }
  }
  std::vector<double> values, vectors;
  symmetric_eigen(gram, n, values, vectors);
  double total = 0.0;
  for (double v : values) total += std::max(0.0, v);
  Pca p;
  k = std::min(k, n);
  p.scores.assign(n, std::vector<double>(k, 0.0));
  for (size_t c = 0; c < k; ++c) {
    const double lambda = std::max(0.0, values[c]);
    p.eigenvalues.push_back(lambda);
    p.variance.push_back(total > 0 ? lambda / total : 0.0);
    // A component's sign: its largest-magnitude score positive (stable across runs).
    double largest = 0.0;
    for (size_t i = 0; i < n; ++i)
      if (std::abs(vectors[i * n + c]) > std::abs(largest)) largest = vectors[i * n + c];
    const double sign = largest < 0 ? -1.0 : 1.0;
    for (size_t i = 0; i < n; ++i) p.scores[i][c] = sign * std::sqrt(lambda) * vectors[i * n + c];
  }
  return p;
}

}  // namespace maw::stats
