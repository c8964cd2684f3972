// The modulator's four factors per group (METAADAMW.md §3), named: the columns of
// Snapshot::factors, of the log's snapshots/factors and meta/at_bound, of the modulator's
// head. α scales the learning rate, β the weight decay; λ1, λ2 weight L_grad's two parts.
#pragma once

#include <cstdint>

namespace maw::factor {

enum Index : int64_t { alpha = 0, beta = 1, lambda1 = 2, lambda2 = 3, count = 4 };
inline constexpr const char* kNames[count] = {"alpha", "beta", "lambda1", "lambda2"};
inline constexpr const char* kSymbols[count] = {"α", "β", "λ1", "λ2"};  // plot labels

}  // namespace maw::factor
