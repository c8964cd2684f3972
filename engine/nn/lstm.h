// LSTM written as explicit cell math (a fused kernel lacks double backward), with
// PyTorch's parameter names (weight_ih_l0, weight_hh_l0_reverse, ...) and gate order
// (i, f, g, o). Padding never leaks into states: past a sequence's length the forward
// direction keeps its last state, and the reverse direction starts at the last real token.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "nn/layers.h"

namespace maw::nn {

class LSTM {
 public:
  struct Output {
    torch::Tensor sequence;  // [B, T, H·dirs], zero at padded positions
    torch::Tensor h_n;       // [layers·dirs, B, H]: the final state of each direction
  };

  LSTM() = default;
  LSTM(const Scope& s, int64_t input, int64_t hidden, int64_t layers, bool bidirectional,
       double dropout = 0.0);
  // x [B, T, input]; lengths [B] int64 (undefined: all T).
  Output forward(const Ctx& c, const torch::Tensor& x, const torch::Tensor& lengths) const;

 private:
  struct Direction {
    int w_ih = -1, w_hh = -1, b_ih = -1, b_hh = -1;
  };
  // One direction of one layer: returns outputs [B, T, H] and the final h [B, H].
  std::pair<torch::Tensor, torch::Tensor> run_direction(const Ctx& c, const Direction& d,
                                                        const torch::Tensor& x,
                                                        const torch::Tensor& valid,
                                                        bool reverse) const;
  std::vector<Direction> dirs_;  // layer-major: l0, l0_reverse, l1, ...
  int64_t hidden_ = 0;
  int64_t layers_ = 0;
  bool bidirectional_ = false;
  double dropout_ = 0.0;
};

}  // namespace maw::nn
