// Helpers shared by the tasks' constructors (engine-internal): splits, padding, sizes.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "api/run_config.h"
#include "nn/seq_models.h"

namespace maw::tasks::detail {

// A generator for data splits and subsets: from the seed and a per-use salt.
inline at::Generator data_gen(uint64_t seed, uint64_t salt) {
  return at::detail::createCPUGenerator(seed * 2654435761ULL + salt);
}

// A count of -1 or 0 means "all"; otherwise at most n.
inline int64_t cap(int64_t n, int64_t available) {
  return n > 0 ? std::min(n, available) : available;
}

struct TrainMetaIndex {
  torch::Tensor train, meta;  // int64 indices
};
// A seeded subset of n examples (at most `limit`; <= 0: all) of which 10% (at least one)
// is the meta-validation split (METAADAMW.md §5) and the rest trains.
inline TrainMetaIndex train_meta_split(int64_t n, int64_t limit, uint64_t seed, uint64_t salt) {
  auto gen = data_gen(seed, salt);
  auto order = torch::randperm(n, gen, torch::kLong).slice(0, 0, cap(limit, n));
  const int64_t n_meta = std::max<int64_t>(1, order.size(0) / 10);
  return {order.slice(0, n_meta), order.slice(0, 0, n_meta)};
}

// A fixed shuffle (the same for every seed) of `all`: the first `n_eval` evaluate, the
// rest train.
template <class T>
std::pair<std::vector<T>, std::vector<T>> fixed_holdout(std::vector<T> all, size_t n_eval,
                                                        uint64_t salt) {
  auto gen = data_gen(0, salt);
  const auto order = torch::randperm(static_cast<int64_t>(all.size()), gen, torch::kLong);
  const auto* o = order.data_ptr<int64_t>();
  std::vector<T> train, eval;
  for (size_t i = 0; i < all.size(); ++i)
    (i < n_eval ? eval : train).push_back(std::move(all[static_cast<size_t>(o[i])]));
  return {std::move(train), std::move(eval)};
}

// Rows of ragged id lists as a padded int64 matrix [N, width] (pad 0) and lengths [N].
inline std::pair<torch::Tensor, torch::Tensor> pad_rows(
    const std::vector<std::vector<int64_t>>& rows, int64_t width) {
  auto x = torch::zeros({static_cast<int64_t>(rows.size()), width}, torch::kLong);
  auto len = torch::zeros({static_cast<int64_t>(rows.size())}, torch::kLong);
  auto xa = x.accessor<int64_t, 2>();
  auto la = len.accessor<int64_t, 1>();
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t n = std::min<int64_t>(width, static_cast<int64_t>(rows[i].size()));
    for (int64_t j = 0; j < n; ++j)
      xa[static_cast<int64_t>(i)][j] = rows[i][static_cast<size_t>(j)];
    la[static_cast<int64_t>(i)] = n;
  }
  return {x, len};
}

inline nn::TransformerSize transformer_size(const RunConfig& c) {
  nn::TransformerSize z;
  z.dim = c.model_dim;
  z.heads = c.model_heads;
  z.layers = c.model_layers;
  z.ffn_hidden = c.model_ffn;
  z.dropout = std::max(0.0, c.model_dropout);
  return z;
}

// exp(−mean log p(token)) of `eval` tokens under add-one-smoothed train unigram counts.
inline double unigram_perplexity(const torch::Tensor& train_ids, const torch::Tensor& eval_ids,
                                 int64_t vocab) {
  auto counts = torch::bincount(train_ids.flatten(), {}, vocab).to(torch::kDouble) + 1.0;
  auto logp = (counts / counts.sum()).log();
  return std::exp(-logp.index_select(0, eval_ids.flatten()).mean().item<double>());
}

}  // namespace maw::tasks::detail
