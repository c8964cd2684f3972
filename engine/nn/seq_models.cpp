#include "nn/seq_models.h"

#include <cmath>

#include "data/vocab.h"

namespace maw::nn {
namespace {

std::vector<TransformerBlock> make_blocks(const Scope& s, const TransformerSize& z) {
  std::vector<TransformerBlock> out;
  for (int64_t i = 0; i < z.layers; ++i)
    out.emplace_back(s.child(std::to_string(i), "TransformerBlock"), z.dim, z.heads, z.ffn_hidden,
                     z.dropout);
  return out;
}

torch::Tensor positions(int64_t T, const torch::Tensor& like) {
  return torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(like.device()));
}

}  // namespace

MiniGPT::MiniGPT(int64_t vocab, int64_t context, const TransformerSize& z, uint64_t seed,
                 torch::Dtype dtype)
    : Model("MiniGPT", seed, dtype) {
  const Scope r = root();
  tok_ = Embedding(r.child("tok_emb", "Embedding"), vocab, z.dim, 0.02);
  pos_ = Embedding(r.child("pos_emb", "Embedding"), context, z.dim, 0.02);
  blocks_ = make_blocks(r.sub("blocks"), z);
  norm_ = LayerNorm(r.child("norm", "LayerNorm"), z.dim);
  head_ = Linear(r.child("head", "Linear"), z.dim, vocab);
}

torch::Tensor MiniGPT::forward(const Ctx& c, const data::Batch& batch) const {
  const auto& ids = batch.x;
  auto h = tok_.forward(c, ids) + pos_.forward(c, positions(ids.size(1), ids)).unsqueeze(0);
  const AttentionMask mask{{}, /*causal=*/true};
  for (const auto& b : blocks_) h = b.forward(c, h, mask);
  return head_.forward(c, norm_.forward(c, h));
}

Seq2SeqTransformer::Seq2SeqTransformer(int64_t src_vocab, int64_t tgt_vocab, int64_t max_len,
                                       const TransformerSize& z, uint64_t seed, torch::Dtype dtype)
    : Model("Seq2SeqTransformer", seed, dtype), dim_(z.dim) {
  const Scope r = root();
  src_tok_ = Embedding(r.child("src_emb", "Embedding"), src_vocab, z.dim, 0.02);
  tgt_tok_ = Embedding(r.child("tgt_emb", "Embedding"), tgt_vocab, z.dim, 0.02);
  pos_ = Embedding(r.child("pos_emb", "Embedding"), max_len, z.dim, 0.02);
  const Scope enc = r.child("encoder", "TransformerEncoder");
  enc_ = make_blocks(enc.sub("layers"), z);
  enc_norm_ = LayerNorm(enc.child("norm", "LayerNorm"), z.dim);
  const Scope dec = r.child("decoder", "TransformerDecoder");
  const Scope layers = dec.sub("layers");
  for (int64_t i = 0; i < z.layers; ++i)
    dec_.emplace_back(layers.child(std::to_string(i), "DecoderBlock"), z.dim, z.heads, z.ffn_hidden,
                      z.dropout);
  dec_norm_ = LayerNorm(dec.child("norm", "LayerNorm"), z.dim);
  head_ = Linear(r.child("head", "Linear"), z.dim, tgt_vocab);
}

torch::Tensor Seq2SeqTransformer::embed(const Ctx& c, const Embedding& tok,
                                        const torch::Tensor& ids) const {
  return tok.forward(c, ids) * std::sqrt(static_cast<double>(dim_)) +
         pos_.forward(c, positions(ids.size(1), ids)).unsqueeze(0);
}

torch::Tensor Seq2SeqTransformer::encode(const Ctx& c, const torch::Tensor& src,
                                         const torch::Tensor& src_mask) const {
  auto h = embed(c, src_tok_, src);
  const AttentionMask mask{src_mask, false};
  for (const auto& b : enc_) h = b.forward(c, h, mask);
  return enc_norm_.forward(c, h);
}

torch::Tensor Seq2SeqTransformer::decode(const Ctx& c, const torch::Tensor& memory,
                                         const torch::Tensor& src_mask,
                                         const torch::Tensor& tgt_in) const {
  auto h = embed(c, tgt_tok_, tgt_in);
  const AttentionMask self_mask{tgt_in.eq(data::Vocab::kPad), true};
  const AttentionMask mem_mask{src_mask, false};
  for (const auto& b : dec_) h = b.forward(c, h, self_mask, memory, mem_mask);
  return head_.forward(c, dec_norm_.forward(c, h));
}

torch::Tensor Seq2SeqTransformer::forward(const Ctx& c, const data::Batch& batch) const {
  const auto memory = encode(c, batch.x, batch.x_mask);
  return decode(c, memory, batch.x_mask, batch.y.slice(1, 0, batch.y.size(1) - 1));
}

torch::Tensor Seq2SeqTransformer::greedy_decode(const Ctx& c, const torch::Tensor& src,
                                                const torch::Tensor& src_mask,
                                                int64_t max_steps) const {
  const int64_t B = src.size(0);
  const auto memory = encode(c, src, src_mask);
  auto ids = torch::full({B, 1}, data::Vocab::kBos, src.options());
  auto done = torch::zeros({B}, src.options().dtype(torch::kBool));
  for (int64_t t = 0; t < max_steps; ++t) {
    auto next = decode(c, memory, src_mask, ids).select(1, -1).argmax(-1);  // [B]
    next = next.masked_fill(done, data::Vocab::kPad);
    done = done | next.eq(data::Vocab::kEos);
    ids = torch::cat({ids, next.unsqueeze(1)}, 1);
    if (done.all().item<bool>()) break;
  }
  // Drop <bos>; <eos> becomes padding.
  auto out = ids.slice(1, 1);
  return out.masked_fill(out.eq(data::Vocab::kEos), data::Vocab::kPad);
}

BiLSTMClassifier::BiLSTMClassifier(int64_t vocab, int64_t embed, int64_t hidden, int64_t layers,
                                   int64_t classes, double dropout, uint64_t seed,
                                   torch::Dtype dtype)
    : Model("BiLSTMClassifier", seed, dtype), layers_(layers), dropout_(dropout) {
  const Scope r = root();
  emb_ = Embedding(r.child("emb", "Embedding"), vocab, embed);
  lstm_ = LSTM(r.child("lstm", "LSTM"), embed, hidden, layers, /*bidirectional=*/true, dropout);
  fc_ = Linear(r.child("fc", "Linear"), 2 * hidden, classes);
}

torch::Tensor BiLSTMClassifier::forward(const Ctx& c, const data::Batch& batch) const {
  auto out = lstm_.forward(c, emb_.forward(c, batch.x), batch.lengths);
  const int64_t last = 2 * (layers_ - 1);  // the last layer's forward and reverse rows
  auto h = torch::cat({out.h_n[last], out.h_n[last + 1]}, 1);
  return fc_.forward(c, dropout(c, h, dropout_));
}

TransformerForecaster::TransformerForecaster(int64_t variables, int64_t window,
                                             const TransformerSize& z, uint64_t seed,
                                             torch::Dtype dtype)
    : Model("TransformerForecaster", seed, dtype) {
  const Scope r = root();
  input_ = Linear(r.child("input", "Linear"), variables, z.dim);
  pos_ = Embedding(r.child("pos_emb", "Embedding"), window, z.dim, 0.02);
  const Scope enc = r.child("encoder", "TransformerEncoder");
  blocks_ = make_blocks(enc.sub("layers"), z);
  norm_ = LayerNorm(r.child("norm", "LayerNorm"), z.dim);
  head_ = Linear(r.child("head", "Linear"), z.dim, 1);
}

torch::Tensor TransformerForecaster::forward(const Ctx& c, const data::Batch& batch) const {
  const auto& x = batch.x;  // [B, W, F]
  auto h = input_.forward(c, x) + pos_.forward(c, positions(x.size(1), x)).unsqueeze(0);
  for (const auto& b : blocks_) h = b.forward(c, h, AttentionMask{});
  return head_.forward(c, norm_.forward(c, h).select(1, -1));
}

}  // namespace maw::nn
