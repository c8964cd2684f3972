// One minibatch, as the models and losses see it. Fields a task does not use stay
// undefined.
#pragma once

#include <torch/torch.h>

namespace maw::data {

struct Batch {
  torch::Tensor x;        // inputs: features [B, F], images [B, C, H, W] or token ids [B, T]
  torch::Tensor y;        // targets: values [B, ...] or class ids [B] / [B, T]
  torch::Tensor x_mask;   // [B, T] bool, true at padding
  torch::Tensor lengths;  // [B] int64, real tokens per row

  int64_t size() const { return x.defined() ? x.size(0) : 0; }
  Batch to(const torch::Device& device) const {
    Batch b;
    auto mv = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
    b.x = mv(x);
    b.y = mv(y);
    b.x_mask = mv(x_mask);
    b.lengths = mv(lengths);
    return b;
  }
};

}  // namespace maw::data
