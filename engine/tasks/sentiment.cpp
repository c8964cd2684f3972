#include "api/errors.h"
#include "data/corpus_readers.h"
#include "data/datasets.h"
#include "data/text_readers.h"
#include "data/vocab.h"
#include "tasks/sequence_tasks.h"
#include "tasks/task_util.h"

namespace maw::tasks {
namespace {

using Texts = std::vector<data::LabeledText>;

std::pair<Texts, Texts> load(const RunConfig& c) {
  if (c.sentiment_dataset == "uci") {
    // The 3 000 UCI sentences (IMDB, Amazon, Yelp); a fixed shuffle (the same for every
    // seed) holds out 20% for evaluation.
    const auto d = require_dataset("sentiment", resolve_data_dir(c.data_dir));
    Texts all;
    for (const char* f : {"imdb.json", "amazon.json", "yelp.json"}) {
      auto part = data::read_sentiment_json(d.path + "/" + f);
      all.insert(all.end(), part.begin(), part.end());
    }
    const size_t n_eval = all.size() / 5;
    return detail::fixed_holdout(std::move(all), n_eval, 53);
  }
  if (c.sentiment_imdb_dir.empty())
    throw ConfigError(
        "sentiment.dataset=imdb needs sentiment.imdb_dir: the aclImdb folder with "
        "train/{pos,neg} and test/{pos,neg}");
  return {data::read_aclimdb(c.sentiment_imdb_dir, "train"),
          data::read_aclimdb(c.sentiment_imdb_dir, "test")};
}

}  // namespace

SentimentTask::SentimentTask(const RunConfig& c, torch::Dtype dtype) {
  const auto [train_texts, eval_texts] = load(c);
  auto tokenize = [](const Texts& ts) {
    std::vector<std::vector<std::string>> out;
    for (const auto& t : ts) out.push_back(data::tokenize(t.text));
    return out;
  };
  const auto train_tok = tokenize(train_texts), eval_tok = tokenize(eval_texts);
  const auto vocab = data::Vocab::build(train_tok, c.data_vocab);
  const int64_t max_len = c.data_max_len;
  // Reviews longer than max_len keep their first max_len tokens; empty ones are dropped.
  auto encode = [&](const std::vector<std::vector<std::string>>& tok, const Texts& texts) {
    std::vector<std::vector<int64_t>> ids;
    std::vector<int64_t> labels;
    for (size_t i = 0; i < tok.size(); ++i) {
      if (tok[i].empty()) continue;
      ids.push_back(vocab.encode(tok[i]));
      labels.push_back(texts[i].label);
    }
    auto [x, len] = detail::pad_rows(ids, max_len);
    return std::make_tuple(x, len, torch::tensor(labels, torch::kLong));
  };
  auto [x, xl, y] = encode(train_tok, train_texts);
  auto [ex, exl, ey] = encode(eval_tok, eval_texts);

  const auto split = detail::train_meta_split(x.size(0), c.data_n_train, c.seed, 59);
  auto pick = [&](const torch::Tensor& idx) {
    return data::SequenceDataset(x.index_select(0, idx), xl.index_select(0, idx),
                                 y.index_select(0, idx));
  };
  meta_val_ = pick(split.meta);
  train_ = pick(split.train);
  const int64_t ne = detail::cap(c.data_n_eval, ex.size(0));
  eval_ = data::SequenceDataset(ex.slice(0, 0, ne), exl.slice(0, 0, ne), ey.slice(0, 0, ne));
  const auto counts = torch::bincount(train_.y(), {}, 2);
  naive_ = eval_.y().eq(counts.argmax()).to(torch::kDouble).mean().item<double>();
  naive_name_ = "majority class";
  model_ =
      std::make_unique<nn::BiLSTMClassifier>(vocab.size(), c.model_ffn, c.model_dim, c.model_layers,
                                             2, std::max(0.0, c.model_dropout), c.seed, dtype);
}

torch::Tensor SentimentTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  return torch::cross_entropy_loss(outputs, b.y);
}

double SentimentTask::metric_sum(const torch::Tensor& outputs, const data::Batch& b) const {
  return outputs.argmax(1).eq(b.y).sum().item<double>();
}

// The sentiment task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& sentiment_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    {"steps", "25", "", ""},
    {"epochs", "", "7", "20"},
    {"batch_size", "16", "32", "64"},
    {"model.dim", "8", "64", "64"},
    {"model.layers", "1", "2", "2"},
    {"model.ffn", "8", "32", "32"},
    {"model.dropout", "0", "0.3", "0.3"},
    {"data.vocab", "300", "3000", "20000"},
    {"data.max_len", "32", "64", "256"},
    {"data.n_train", "256", "0", "0"},
    {"data.n_eval", "64", "0", "0"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
