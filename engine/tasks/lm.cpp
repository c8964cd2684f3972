#include <cmath>
#include <filesystem>

#include "api/errors.h"
#include "data/corpus_readers.h"
#include "data/datasets.h"
#include "data/vocab.h"
#include "tasks/sequence_tasks.h"
#include "tasks/task_util.h"

namespace maw::tasks {
namespace {

struct Corpus {
  std::vector<std::string> train, eval;  // documents
};

Corpus load(const RunConfig& c) {
  Corpus out;
  if (c.lm_dataset == "sotu") {
    // Split by year: the files sort chronologically (<year>_<president>_<party>.txt); the
    // most recent 10% of the speeches are the evaluation split.
    const auto d = require_dataset("sotu", resolve_data_dir(c.data_dir));
    auto docs = data::read_text_dir(d.path, ".txt");
    const size_t n_eval = std::max<size_t>(1, docs.size() / 10);
    for (size_t i = 0; i < docs.size(); ++i)
      (i + n_eval < docs.size() ? out.train : out.eval).push_back(std::move(docs[i].text));
    return out;
  }
  if (c.lm_wikitext_dir.empty())
    throw ConfigError(
        "lm.dataset=wikitext2 needs lm.wikitext_dir: the folder with wiki.train.raw and "
        "wiki.test.raw (or wiki.*.tokens)");
  auto file = [&](const std::string& split) {
    for (const char* ext : {".raw", ".tokens"}) {
      const std::string p = c.lm_wikitext_dir + "/wiki." + split + ext;
      if (std::filesystem::exists(p)) return p;
    }
    throw DataError(c.lm_wikitext_dir + ": no wiki." + split + ".raw or wiki." + split + ".tokens");
  };
  auto text = [&](const std::string& split) {
    std::string t = data::read_text_file(file(split));
    for (size_t p = t.find("<unk>"); p != std::string::npos; p = t.find("<unk>", p))
      t.replace(p, 5, "unk");  // WikiText's own unknown marker as one word
    return t;
  };
  out.train.push_back(text("train"));
  out.eval.push_back(text("test"));
  return out;
}

// Documents → one id stream, <eos> after each document.
std::vector<int64_t> stream(const std::vector<std::vector<std::string>>& docs,
                            const data::Vocab& v) {
  std::vector<int64_t> ids;
  for (const auto& d : docs) {
    const auto e = v.encode(d);
    ids.insert(ids.end(), e.begin(), e.end());
    ids.push_back(data::Vocab::kEos);
  }
  return ids;
}

// Non-overlapping windows of ctx + 1 tokens: inputs [N, ctx] and next tokens [N, ctx].
std::pair<torch::Tensor, torch::Tensor> windows(const std::vector<int64_t>& ids, int64_t ctx) {
  const int64_t n = (static_cast<int64_t>(ids.size()) - 1) / ctx;
  if (n < 1) throw DataError("language model corpus shorter than one context window");
  auto all = torch::from_blob(const_cast<int64_t*>(ids.data()), {static_cast<int64_t>(ids.size())},
                              torch::kLong)
                 .clone();
  auto x = all.slice(0, 0, n * ctx).view({n, ctx});
  auto y = all.slice(0, 1, n * ctx + 1).view({n, ctx});
  return {x, y};
}

}  // namespace

LanguageModelTask::LanguageModelTask(const RunConfig& c, torch::Dtype dtype) {
  const auto corpus = load(c);
  std::vector<std::vector<std::string>> train_tok, eval_tok;
  for (const auto& d : corpus.train) train_tok.push_back(data::tokenize(d));
  for (const auto& d : corpus.eval) eval_tok.push_back(data::tokenize(d));
  const auto vocab = data::Vocab::build(train_tok, c.data_vocab);
  vocab_size_ = vocab.size();
  const int64_t ctx = c.data_max_len;
  auto [x, y] = windows(stream(train_tok, vocab), ctx);
  auto [ex, ey] = windows(stream(eval_tok, vocab), ctx);

  const auto split = detail::train_meta_split(x.size(0), c.data_n_train, c.seed, 31);
  train_ = data::TensorDataset(x.index_select(0, split.train), y.index_select(0, split.train));
  meta_val_ = data::TensorDataset(x.index_select(0, split.meta), y.index_select(0, split.meta));
  // Eval: evenly spaced windows over the held-out speeches (the same for every seed).
  const int64_t ne = detail::cap(c.data_n_eval, ex.size(0));
  auto eidx = torch::linspace(0, static_cast<double>(ex.size(0) - 1), ne, torch::kDouble)
                  .round()
                  .to(torch::kLong);
  eval_ = data::TensorDataset(ex.index_select(0, eidx), ey.index_select(0, eidx));
  naive_ = detail::unigram_perplexity(train_.y(), eval_.y(), vocab_size_);
  naive_name_ = "train unigram perplexity";
  model_ =
      std::make_unique<nn::MiniGPT>(vocab_size_, ctx, detail::transformer_size(c), c.seed, dtype);
}

torch::Tensor LanguageModelTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  return torch::cross_entropy_loss(outputs.reshape({-1, outputs.size(-1)}), b.y.reshape({-1}));
}

double LanguageModelTask::finish_metric(double, double mean_loss) const {
  return std::exp(mean_loss);
}

// The lm task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& lm_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    {"steps", "30", "600", ""},
    {"epochs", "", "", "10"},
    {"eval_every", "", "100", ""},
    {"batch_size", "8", "32", "32"},
    {"model.dim", "32", "64", "128"},
    {"model.layers", "1", "2", "2"},
    {"model.heads", "2", "4", "4"},
    {"model.ffn", "64", "256", "512"},
    {"model.dropout", "0", "0.1", "0.1"},
    {"data.vocab", "500", "4000", "0"},
    {"data.max_len", "32", "64", "128"},
    {"data.n_train", "400", "0", "0"},
    {"data.n_eval", "64", "400", "0"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
