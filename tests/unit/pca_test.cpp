// The joint PCA of `metaadamw trajectory` (services/pca.h) against independent
// computations: a known spectrum, power iteration on the covariance, a line's path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "services/pca.h"

namespace maw::stats {
namespace {

TEST(Pca, JacobiFindsAKnownSpectrum) {
  // Q diag(5, 2, -1) Qᵀ with Q a rotation: the eigenvalues back, A v = λ v.
  const double c = std::cos(0.7), s = std::sin(0.7);
  const double q[3][3] = {{c, -s, 0}, {s, c, 0}, {0, 0, 1}}, d[3] = {5, 2, -1};
  std::vector<double> a(9, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) a[i * 3 + j] += q[i][k] * d[k] * q[j][k];
  std::vector<double> values, vectors;
  symmetric_eigen(a, 3, values, vectors);
  EXPECT_NEAR(values[0], 5, 1e-12);
  EXPECT_NEAR(values[1], 2, 1e-12);
  EXPECT_NEAR(values[2], -1, 1e-12);
  for (int col = 0; col < 3; ++col)
    for (int i = 0; i < 3; ++i) {
      double av = 0;
      for (int j = 0; j < 3; ++j) av += a[i * 3 + j] * vectors[j * 3 + col];
      EXPECT_NEAR(av, values[col] * vectors[i * 3 + col], 1e-12);
    }
}

TEST(Pca, TopComponentMatchesPowerIterationOnTheCovariance) {
  std::mt19937 gen(3);
  std::normal_distribution<float> n01;
  const size_t n = 30, m = 12;
  std::vector<std::vector<float>> rows(n, std::vector<float>(m));
  for (auto& r : rows)
    for (size_t j = 0; j < m; ++j) r[j] = n01(gen) * static_cast<float>(j + 1);  // spread
  const auto p = principal_components(rows, 2);
  // Naive: C = Xcᵀ Xc (m × m), its top eigenvalue by power iteration = the Gram's.
  std::vector<double> mean(m, 0.0);
  for (const auto& r : rows)
    for (size_t j = 0; j < m; ++j) mean[j] += r[j] / static_cast<double>(n);
  std::vector<double> cov(m * m, 0.0);
  for (const auto& r : rows)
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < m; ++j) cov[i * m + j] += (r[i] - mean[i]) * (r[j] - mean[j]);
  std::vector<double> v(m, 1.0);
  double lambda = 0;
  for (int it = 0; it < 2000; ++it) {
    std::vector<double> w(m, 0.0);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < m; ++j) w[i] += cov[i * m + j] * v[j];
    double norm = 0;
    for (double x : w) norm += x * x;
    norm = std::sqrt(norm);
    for (size_t i = 0; i < m; ++i) v[i] = w[i] / norm;
    lambda = norm;
  }
  EXPECT_NEAR(p.eigenvalues[0], lambda, 1e-6 * lambda);
  double trace = 0;
  for (size_t i = 0; i < m; ++i) trace += cov[i * m + i];
  EXPECT_NEAR(p.variance[0], lambda / trace, 1e-9);
  // The scores are the centred rows projected on the component: |score| = |⟨x − μ, v⟩|.
  for (size_t r = 0; r < n; ++r) {
    double proj = 0;
    for (size_t j = 0; j < m; ++j) proj += (rows[r][j] - mean[j]) * v[j];
    EXPECT_NEAR(std::abs(p.scores[r][0]), std::abs(proj), 1e-4 * (1 + std::abs(proj)));
  }
}

TEST(Pca, APathOnALineIsOneComponent) {
  std::vector<std::vector<float>> rows;
  for (int t = 0; t < 6; ++t) rows.push_back({2.0f * t, -1.0f * t, 0.5f * t});
  const auto p = principal_components(rows, 2);
  EXPECT_NEAR(p.variance[0], 1.0, 1e-9);
  EXPECT_NEAR(p.variance[1], 0.0, 1e-9);
  const double len = std::sqrt(4 + 1 + 0.25);
  for (int t = 1; t < 6; ++t)  // equal steps along PC1
    EXPECT_NEAR(std::abs(p.scores[t][0] - p.scores[t - 1][0]), len, 1e-5);
  EXPECT_THROW(principal_components({}, 2), std::invalid_argument);
  EXPECT_THROW(principal_components({{1.0f}, {1.0f, 2.0f}}, 2), std::invalid_argument);
}

}  // namespace
}  // namespace maw::stats
