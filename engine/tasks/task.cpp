#include "tasks/task.h"

#include "api/errors.h"
#include "tasks/image.h"
#include "tasks/sequence_tasks.h"
#include "tasks/synthetic.h"

namespace maw::tasks {

EvalResult Task::evaluate(const data::Dataset& split, const torch::Device& device,
                          int64_t batch_size) {
  torch::NoGradGuard no_grad;
  auto ctx = model().ctx(/*training=*/false, /*update_buffers=*/false);
  double loss_sum = 0.0, metric = 0.0;
  const int64_t n = split.size();
  const int64_t lo = rank_ * n / world_, hi = (rank_ + 1) * n / world_;  // this rank's part
  for (int64_t start = lo; start < hi; start += batch_size) {
    check_cancel();
    const int64_t end = std::min(hi, start + batch_size);
    auto batch = split.get(torch::arange(start, end, torch::kLong)).to(device);
    auto out = model().forward(ctx, batch);
    loss_sum += loss(out, batch).item<double>() * static_cast<double>(end - start);
    metric += metric_sum(out, batch);
  }
  if (world_ > 1 && rank_sum_) {  // every rank: the whole split's sums
    const auto all = rank_sum_({loss_sum, metric});
    loss_sum = all[0];
    metric = all[1];
  }
  const double mean_loss = loss_sum / static_cast<double>(n);
  return {mean_loss, finish_metric(metric / static_cast<double>(n), mean_loss), {}};
}

std::unique_ptr<Task> make_task(const RunConfig& config, torch::Dtype dtype) {
  if (config.task == "synthetic") return std::make_unique<SyntheticTask>(config, dtype);
  if (config.task == "image") return std::make_unique<ImageTask>(config, dtype);
  if (config.task == "lm") return std::make_unique<LanguageModelTask>(config, dtype);
  if (config.task == "translation") return std::make_unique<TranslationTask>(config, dtype);
  if (config.task == "sentiment") return std::make_unique<SentimentTask>(config, dtype);
  if (config.task == "forecasting") return std::make_unique<ForecastingTask>(config, dtype);
  throw ConfigError("invalid value '" + config.task +
                    "' for key 'task': allowed synthetic | image | lm | translation | "
                    "sentiment | forecasting");
}

}  // namespace maw::tasks

namespace maw {

const std::vector<PresetRow>& task_presets(std::string_view task) {
  using namespace tasks;
  if (task == "image") return image_presets();
  if (task == "lm") return lm_presets();
  if (task == "translation") return translation_presets();
  if (task == "sentiment") return sentiment_presets();
  if (task == "forecasting") return forecasting_presets();
  return synthetic_presets();
}

}  // namespace maw
