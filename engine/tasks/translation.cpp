#include <cmath>
#include <map>

#include "api/errors.h"
#include "data/corpus_readers.h"
#include "data/datasets.h"
#include "data/vocab.h"
#include "tasks/sequence_tasks.h"
#include "tasks/task_util.h"

namespace maw::tasks {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// (source, target) sentences of the training and evaluation splits.
std::pair<Pairs, Pairs> load(const RunConfig& c) {
  if (c.translation_dataset == "bible") {
    // Reina-Valera 1909 (es) → KJV (en), both in KJV versification: slot i ↔ slot i. A
    // fixed shuffle (the same for every seed) holds out 10% of the verses for evaluation.
    const auto d = require_dataset("bible", resolve_data_dir(c.data_dir));
    auto pairs = data::align_verses(data::read_sword_ztext(d.path + "/spaRV1909eb"),
                                    data::read_sword_ztext(d.path + "/engKJV2006eb"));
    const size_t n_eval = pairs.size() / 10;
    return detail::fixed_holdout(std::move(pairs), n_eval, 41);
  }
  if (c.translation_multi30k_dir.empty())
    throw ConfigError(
        "translation.dataset=multi30k needs translation.multi30k_dir: the folder with "
        "train.de, train.en, val.de and val.en");
  const auto& dir = c.translation_multi30k_dir;
  return {data::read_parallel_text(dir + "/train.de", dir + "/train.en"),
          data::read_parallel_text(dir + "/val.de", dir + "/val.en")};
}

struct Encoded {
  std::vector<std::vector<int64_t>> src, tgt;  // tgt with <bos> … <eos>
};

// Pairs whose sides fit max_len tokens, encoded; others are left out.
Encoded encode(
    const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>& tok,
    const data::Vocab& sv, const data::Vocab& tv, int64_t max_len) {
  Encoded e;
  for (const auto& [s, t] : tok) {
    if (s.empty() || t.empty() || static_cast<int64_t>(s.size()) > max_len ||
        static_cast<int64_t>(t.size()) > max_len)
      continue;
    e.src.push_back(sv.encode(s));
    auto ids = tv.encode(t);
    ids.insert(ids.begin(), data::Vocab::kBos);
    ids.push_back(data::Vocab::kEos);
    e.tgt.push_back(std::move(ids));
  }
  return e;
}

}  // namespace

TranslationTask::TranslationTask(const RunConfig& c, torch::Dtype dtype)
    : max_len_(c.data_max_len) {
  const auto [train_pairs, eval_pairs] = load(c);
  using Tok = std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>;
  auto tokenize = [](const Pairs& ps) {
    Tok out;
    for (const auto& [s, t] : ps) out.emplace_back(data::tokenize(s), data::tokenize(t));
    return out;
  };
  const Tok train_tok = tokenize(train_pairs), eval_tok = tokenize(eval_pairs);
  std::vector<std::vector<std::string>> src_texts, tgt_texts;
  for (const auto& [s, t] : train_tok) {
    src_texts.push_back(s);
    tgt_texts.push_back(t);
  }
  const auto sv = data::Vocab::build(src_texts, c.data_vocab);
  tgt_vocab_ = std::make_unique<data::Vocab>(data::Vocab::build(tgt_texts, c.data_vocab));
  const auto tr = encode(train_tok, sv, *tgt_vocab_, max_len_);
  const auto ev = encode(eval_tok, sv, *tgt_vocab_, max_len_);
  if (tr.src.size() < 2 || ev.src.empty())
    throw DataError("translation: too few sentence pairs of at most " + std::to_string(max_len_) +
                    " tokens (data.max_len)");

  auto [x, xl] = detail::pad_rows(tr.src, max_len_);
  auto [y, yl] = detail::pad_rows(tr.tgt, max_len_ + 2);
  const auto split = detail::train_meta_split(x.size(0), c.data_n_train, c.seed, 43);
  auto pick = [&](const torch::Tensor& idx) {
    return data::SequenceDataset(x.index_select(0, idx), xl.index_select(0, idx),
                                 y.index_select(0, idx), yl.index_select(0, idx));
  };
  meta_val_ = pick(split.meta);
  train_ = pick(split.train);
  auto [ex, exl] = detail::pad_rows(ev.src, max_len_);
  auto [ey, eyl] = detail::pad_rows(ev.tgt, max_len_ + 2);
  const int64_t ne = detail::cap(c.data_n_eval, ex.size(0));
  eval_ = data::SequenceDataset(ex.slice(0, 0, ne), exl.slice(0, 0, ne), ey.slice(0, 0, ne),
                                eyl.slice(0, 0, ne));
  bleu_n_ = detail::cap(c.translation_bleu_n, ne);

  // Naive: the target unigram perplexity over real target tokens (after <bos>).
  auto real = [](const data::SequenceDataset& d) {
    auto t = d.y().slice(1, 1);
    return t.masked_select(t.ne(data::Vocab::kPad));
  };
  naive_ = detail::unigram_perplexity(real(train_), real(eval_), tgt_vocab_->size());
  naive_name_ = "target unigram perplexity";
  model_ = std::make_unique<nn::Seq2SeqTransformer>(sv.size(), tgt_vocab_->size(), max_len_ + 2,
                                                    detail::transformer_size(c), c.seed, dtype);
}

TranslationTask::~TranslationTask() = default;

torch::Tensor TranslationTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  auto target = b.y.slice(1, 1);  // predict y[1:] from y[:-1]
  return torch::nn::functional::cross_entropy(
      outputs.reshape({-1, outputs.size(-1)}), target.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(data::Vocab::kPad));
}

EvalResult TranslationTask::evaluate(const data::Dataset& split, const torch::Device& device,
                                     int64_t batch_size) {
  torch::NoGradGuard no_grad;
  auto ctx = model().ctx(/*training=*/false, /*update_buffers=*/false);
  double loss_sum = 0.0, tokens = 0.0;
  const int64_t n = split.size();
  const bool bleu = &split == &eval_ && bleu_n_ > 0;
  std::vector<std::vector<int64_t>> hyps, refs;
  for (int64_t start = 0; start < n; start += batch_size) {
    check_cancel();
    const int64_t end = std::min(n, start + batch_size);
    auto batch = split.get(torch::arange(start, end, torch::kLong)).to(device);
    const double k = batch.y.slice(1, 1).ne(data::Vocab::kPad).sum().item<double>();
    loss_sum += loss(model_->forward(ctx, batch), batch).item<double>() * k;
    tokens += k;
    if (bleu && start < bleu_n_) {
      const int64_t m = std::min(end, bleu_n_) - start;
      auto out = model_
                     ->greedy_decode(ctx, batch.x.slice(0, 0, m), batch.x_mask.slice(0, 0, m),
                                     max_len_ + 1)
                     .cpu();
      auto ref = batch.y.slice(0, 0, m).cpu().contiguous();
      out = out.contiguous();
      // One host copy per batch, then plain reads (not a tensor per token).
      const auto oa = out.accessor<int64_t, 2>();
      const auto ra = ref.accessor<int64_t, 2>();
      for (int64_t i = 0; i < m; ++i) {
        std::vector<int64_t> h, r;
        for (int64_t j = 0; j < oa.size(1); ++j)
          if (const int64_t t = oa[i][j]; t != data::Vocab::kPad) h.push_back(t);
        for (int64_t j = 1; j < ra.size(1); ++j)
          if (const int64_t t = ra[i][j]; t != data::Vocab::kPad && t != data::Vocab::kEos)
            r.push_back(t);
        hyps.push_back(std::move(h));
        refs.push_back(std::move(r));
      }
    }
  }
  const double mean_loss = loss_sum / std::max(1.0, tokens);
  EvalResult r{mean_loss, std::exp(mean_loss), {}};
  if (bleu) r.extras.emplace_back("bleu", corpus_bleu(hyps, refs));
  return r;
}

double corpus_bleu(const std::vector<std::vector<int64_t>>& hyps,
                   const std::vector<std::vector<int64_t>>& refs) {
  double match[4] = {0, 0, 0, 0}, total[4] = {0, 0, 0, 0};
  double hyp_len = 0, ref_len = 0;
  for (size_t s = 0; s < hyps.size(); ++s) {
    const auto& h = hyps[s];
    const auto& r = refs[s];
    hyp_len += static_cast<double>(h.size());
    ref_len += static_cast<double>(r.size());
    for (size_t n = 1; n <= 4; ++n) {
      std::map<std::vector<int64_t>, int> ref_counts;
      for (size_t i = 0; i + n <= r.size(); ++i)
        ++ref_counts[std::vector<int64_t>(r.begin() + i, r.begin() + i + n)];
      for (size_t i = 0; i + n <= h.size(); ++i) {
        auto it = ref_counts.find(std::vector<int64_t>(h.begin() + i, h.begin() + i + n));
        if (it != ref_counts.end() && it->second > 0) {
          --it->second;  // clipped counts
          match[n - 1] += 1;
        }
        total[n - 1] += 1;
      }
    }
  }
  double log_p = 0.0;
  for (int n = 0; n < 4; ++n) {
    if (match[n] == 0 || total[n] == 0) return 0.0;
    log_p += 0.25 * std::log(match[n] / total[n]);
  }
  const double bp = hyp_len >= ref_len || hyp_len == 0 ? 1.0 : std::exp(1.0 - ref_len / hyp_len);
  return 100.0 * bp * std::exp(log_p);
}

// The translation task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& translation_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    {"steps", "30", "600", ""},
    {"epochs", "", "", "20"},
    {"eval_every", "", "100", ""},
    {"batch_size", "8", "64", "128"},
    {"model.dim", "32", "64", "256"},
    {"model.layers", "1", "2", "4"},
    {"model.heads", "2", "4", "8"},
    {"model.ffn", "64", "256", "1024"},
    {"model.dropout", "0", "0.1", "0.1"},
    {"data.vocab", "400", "4000", "0"},
    {"data.max_len", "16", "24", "64"},
    {"data.n_train", "300", "16000", "0"},
    {"data.n_eval", "64", "500", "0"},
    {"translation.bleu_n", "16", "200", "1000"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
