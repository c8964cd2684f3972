#include "nn/lstm.h"

#include <cmath>

namespace maw::nn {

LSTM::LSTM(const Scope& s, int64_t input, int64_t hidden, int64_t layers, bool bidirectional,
           double dropout)
    : hidden_(hidden), layers_(layers), bidirectional_(bidirectional), dropout_(dropout) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
  auto u = [&](std::vector<int64_t> shape) {
    return torch::empty(shape, s.options()).uniform_(-bound, bound, s.gen());
  };
  const int64_t ndir = bidirectional ? 2 : 1;
  for (int64_t l = 0; l < layers; ++l) {
    const int64_t in = l == 0 ? input : hidden * ndir;
    for (int64_t d = 0; d < ndir; ++d) {
      const std::string sfx = "_l" + std::to_string(l) + (d ? "_reverse" : "");
      Direction dir;
      dir.w_ih = s.param("weight_ih" + sfx, u({4 * hidden, in}));
      dir.w_hh = s.param("weight_hh" + sfx, u({4 * hidden, hidden}));
      dir.b_ih = s.param("bias_ih" + sfx, u({4 * hidden}));
      dir.b_hh = s.param("bias_hh" + sfx, u({4 * hidden}));
      dirs_.push_back(dir);
    }
  }
}

std::pair<torch::Tensor, torch::Tensor> LSTM::run_direction(const Ctx& c, const Direction& d,
                                                            const torch::Tensor& x,
                                                            const torch::Tensor& valid,
                                                            bool reverse) const {
  const int64_t B = x.size(0), T = x.size(1);
  // Input projections of every time step in one matmul: [B, T, 4H].
  auto xw = torch::linear(x, c.p(d.w_ih), c.p(d.b_ih) + c.p(d.b_hh));
  auto h = torch::zeros({B, hidden_}, x.options());
  auto cell = torch::zeros({B, hidden_}, x.options());
  std::vector<torch::Tensor> outs(static_cast<size_t>(T));
  const auto& w_hh = c.p(d.w_hh);
  for (int64_t step = 0; step < T; ++step) {
    const int64_t t = reverse ? T - 1 - step : step;
    auto gates = xw.select(1, t) + torch::matmul(h, w_hh.t());  // [B, 4H]
    auto chunks = gates.chunk(4, 1);
    auto i = torch::sigmoid(chunks[0]);
    auto f = torch::sigmoid(chunks[1]);
    auto g = torch::tanh(chunks[2]);
    auto o = torch::sigmoid(chunks[3]);
    auto c_new = f * cell + i * g;
    auto h_new = o * torch::tanh(c_new);
    if (valid.defined()) {
      auto m = valid.select(1, t).unsqueeze(1);  // [B, 1]: 1 for real tokens
      cell = torch::where(m, c_new, cell);
      h = torch::where(m, h_new, h);
      outs[static_cast<size_t>(t)] = h_new * m.to(h_new.scalar_type());
    } else {
      cell = c_new;
      h = h_new;
      outs[static_cast<size_t>(t)] = h_new;
    }
  }
  return {torch::stack(outs, 1), h};
}

LSTM::Output LSTM::forward(const Ctx& c, const torch::Tensor& x,
                           const torch::Tensor& lengths) const {
  const int64_t T = x.size(1);
  torch::Tensor valid;  // [B, T] bool
  if (lengths.defined()) {
    valid = torch::arange(T, lengths.options()).unsqueeze(0) < lengths.unsqueeze(1);
  }
  const int64_t ndir = bidirectional_ ? 2 : 1;
  auto input = x;
  std::vector<torch::Tensor> finals;
  for (int64_t l = 0; l < layers_; ++l) {
    std::vector<torch::Tensor> seqs;
    for (int64_t d = 0; d < ndir; ++d) {
      auto [seq, h] =
          run_direction(c, dirs_[static_cast<size_t>(l * ndir + d)], input, valid, d == 1);
      seqs.push_back(seq);
      finals.push_back(h);
    }
    input = ndir == 2 ? torch::cat(seqs, 2) : seqs[0];
    if (l + 1 < layers_) input = dropout(c, input, dropout_);
  }
  return {input, torch::stack(finals, 0)};
}

}  // namespace maw::nn
