// The sequence tasks of TASKS.md on their offline data (paper formats when given):
//   lm           MiniGPT on the State of the Union speeches (split by year) | WikiText-2;
//                metric perplexity; naive baseline the train unigram perplexity.
//   translation  an encoder–decoder Transformer, Bible es→en aligned by verse slot |
//                Multi30k de→en; metric perplexity, plus corpus BLEU of greedy decodes;
//                naive baseline the target unigram perplexity.
//   sentiment    a BiLSTM on UCI labelled sentences | aclImdb; metric accuracy; naive
//                baseline the train majority class.
//   forecasting  a Transformer encoder over a window of every variable → the target's next
//                value, seattle-weather (temp_max) | ETT (OT); loss MSE in normalized units,
//                metric MAE in original units; naive baseline the last-value forecast.
// Splits: train / meta-validation (10% of train, for the meta-update only) / eval;
// vocabularies and normalization statistics from train only.
#pragma once

#include <memory>

#include "nn/seq_models.h"
#include "tasks/task.h"

namespace maw::data {
class Vocab;
}

namespace maw::tasks {

class LanguageModelTask : public TensorSplitsTask {
 public:
  LanguageModelTask(const RunConfig& config, torch::Dtype dtype);
  std::string name() const override { return "lm"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return "perplexity"; }
  bool metric_higher_is_better() const override { return false; }
  int64_t vocab_size() const { return vocab_size_; }

 protected:
  double metric_sum(const torch::Tensor&, const data::Batch&) const override { return 0.0; }
  double finish_metric(double, double mean_loss) const override;

 private:
  std::unique_ptr<nn::MiniGPT> model_;
  int64_t vocab_size_ = 0;
};

class TranslationTask : public SequenceSplitsTask {
 public:
  TranslationTask(const RunConfig& config, torch::Dtype dtype);
  ~TranslationTask() override;
  std::string name() const override { return "translation"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return "perplexity"; }
  bool metric_higher_is_better() const override { return false; }
  // Token-weighted perplexity; on the eval split also "bleu" (0–100) of greedy decodes.
  EvalResult evaluate(const data::Dataset& split, const torch::Device& device,
                      int64_t batch_size) override;
  std::vector<std::string> extra_metric_names() const override {
    return bleu_n_ > 0 ? std::vector<std::string>{"bleu"} : std::vector<std::string>{};
  }

 protected:
  double metric_sum(const torch::Tensor&, const data::Batch&) const override { return 0.0; }

 private:
  std::unique_ptr<nn::Seq2SeqTransformer> model_;
  std::unique_ptr<data::Vocab> tgt_vocab_;
  int64_t bleu_n_ = 0;
  int64_t max_len_ = 0;
};

class SentimentTask : public SequenceSplitsTask {
 public:
  SentimentTask(const RunConfig& config, torch::Dtype dtype);
  std::string name() const override { return "sentiment"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return "accuracy"; }
  bool metric_higher_is_better() const override { return true; }

 protected:
  double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const override;

 private:
  std::unique_ptr<nn::BiLSTMClassifier> model_;
};

class ForecastingTask : public TensorSplitsTask {
 public:
  ForecastingTask(const RunConfig& config, torch::Dtype dtype);
  std::string name() const override { return "forecasting"; }
  nn::Model& model() override { return *model_; }
  torch::Tensor loss(const torch::Tensor& outputs, const data::Batch& batch) const override;
  std::string metric_name() const override { return "mae"; }
  bool metric_higher_is_better() const override { return false; }
  double target_std() const { return target_std_; }

 protected:
  double metric_sum(const torch::Tensor& outputs, const data::Batch& batch) const override;

 private:
  std::unique_ptr<nn::TransformerForecaster> model_;
  double target_std_ = 1.0;
};

// Corpus BLEU-4 (uniform weights, brevity penalty, no smoothing) in 0–100, over token-id
// sequences (padding 0 ignored).
double corpus_bleu(const std::vector<std::vector<int64_t>>& hypotheses,
                   const std::vector<std::vector<int64_t>>& references);

}  // namespace maw::tasks
