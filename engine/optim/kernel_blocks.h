// How the fused CPU kernels (adamw_kernel.cpp, stats_kernel.cpp) walk their tensors: in
// blocks of kBlock elements (a tensor's tail block shorter), cut into one run per thread
// of about equal element counts — by elements, not blocks, since a model's many small
// tensors (biases, norms) give short blocks. Each block's result lands in its own slot,
// reduced afterwards in block order, so results do not depend on the thread count.
// Compiled only in translation units with OpenMP's flag (engine/CMakeLists.txt).
#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "optim/kernel_math.h"

namespace maw::optim::kernel {

struct Block {
  size_t tensor;
  int64_t begin, end;
};

inline void append_blocks(std::vector<Block>& out, size_t tensor, int64_t numel) {
  for (int64_t b = 0; b < numel; b += kBlock)
    out.push_back({tensor, b, std::min(numel, b + kBlock)});
}

// fn(k) for every block k, over the threads (runs of at least kGrainBlocks·kBlock elements).
template <typename F>
void for_each_block(const std::vector<Block>& blocks, const F& fn) {
  int64_t total = 0;
  for (const auto& b : blocks) total += b.end - b.begin;
  const int64_t runs = std::max<int64_t>(
      1, std::min<int64_t>(at::get_num_threads(), total / (kGrainBlocks * kBlock)));
  if (runs == 1 || at::in_parallel_region()) {
    for (size_t k = 0; k < blocks.size(); ++k) fn(k);
    return;
  }
  std::vector<size_t> cuts = {0};  // run r: blocks [cuts[r], cuts[r + 1])
  int64_t seen = 0;
  for (size_t k = 0; k < blocks.size() && static_cast<int64_t>(cuts.size()) < runs; ++k) {
    seen += blocks[k].end - blocks[k].begin;
    while (static_cast<int64_t>(cuts.size()) < runs &&
           seen * runs >= static_cast<int64_t>(cuts.size()) * total)
      cuts.push_back(k + 1);
  }
  cuts.resize(static_cast<size_t>(runs), blocks.size());
  cuts.push_back(blocks.size());
  at::parallel_for(0, runs, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (size_t k = cuts[static_cast<size_t>(r)]; k < cuts[static_cast<size_t>(r) + 1]; ++k)
        fn(k);
  });
}

}  // namespace maw::optim::kernel
