// A joint PCA of runs' trajectories (`metaadamw trajectory`, issue step 14 item 2): the rows
// are θ_t − θ_0 at a run's sampled coordinates, several runs' stacked — both optimizers in
// one basis. Plain C++ (the CLI is torch-free): the n × n Gram matrix of the centred rows
// and its eigenvectors by cyclic Jacobi rotations, fine for the few hundred rows a study
// keeps (n ≤ ~2000).
#pragma once

#include <cstddef>
#include <vector>

namespace maw::stats {

struct Pca {
  std::vector<double> variance;             // [k]: each component's share of the total
  std::vector<std::vector<double>> scores;  // [n][k]: each row's coordinates
  std::vector<double> eigenvalues;          // [k]: of the Gram matrix (Σ squared scores)
};

// The first `k` principal components of `rows` (all of one length), centred at their mean.
// Throws std::invalid_argument for no rows or rows of different lengths.
Pca principal_components(const std::vector<std::vector<float>>& rows, size_t k);

// The symmetric `a` (n × n, row-major) → its eigenvalues (descending) and eigenvectors as
// columns of `vectors` (row-major n × n). Cyclic Jacobi; exposed for the tests.
void symmetric_eigen(std::vector<double> a, size_t n, std::vector<double>& values,
                     std::vector<double>& vectors);

}  // namespace maw::stats
