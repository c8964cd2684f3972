#include <algorithm>

#include "api/errors.h"
#include "data/datasets.h"
#include "data/text_readers.h"
#include "tasks/sequence_tasks.h"
#include "tasks/task_util.h"

namespace maw::tasks {

ForecastingTask::ForecastingTask(const RunConfig& c, torch::Dtype dtype) {
  std::string path, target = c.forecasting_target;
  if (c.forecasting_dataset == "seattle-weather") {
    path = require_dataset("seattle-weather", resolve_data_dir(c.data_dir)).path +
           "/seattle-weather.csv";
    if (target.empty()) target = "temp_max";
  } else {
    if (c.forecasting_csv.empty())
      throw ConfigError(
          "forecasting.dataset=ett needs forecasting.csv: an ETT CSV such as ETTh1.csv "
          "(date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT)");
    path = c.forecasting_csv;
    if (target.empty()) target = "OT";
  }
  const auto table = data::read_numeric_csv(path);
  const auto col = std::find(table.columns.begin(), table.columns.end(), target);
  if (col == table.columns.end()) {
    std::string names;
    for (const auto& n : table.columns) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError("forecasting.target '" + target + "' is not a numeric column of " + path +
                      " (columns: " + names + ")");
  }
  const int64_t ti = col - table.columns.begin();
  const int64_t T = static_cast<int64_t>(table.rows.size());
  const int64_t F = static_cast<int64_t>(table.columns.size());
  const int64_t W = c.data_max_len;
  auto series = torch::empty({T, F}, torch::kDouble);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t f = 0; f < F; ++f)
      series[t][f] = table.rows[static_cast<size_t>(t)][static_cast<size_t>(f)];

  // Chronological split: windows whose target lies in the first 80% of the rows train
  // (10% of them, at random, are the meta-validation split); the rest evaluate.
  const int64_t boundary = T * 8 / 10;
  if (boundary - W < 2 || T - boundary < 1)
    throw DataError(path + ": " + std::to_string(T) + " rows are too few for a window of " +
                    std::to_string(W) + " (data.max_len)");
  const auto train_rows = series.slice(0, 0, boundary);
  const auto mean = train_rows.mean(0), std = train_rows.std(0).clamp_min(1e-8);
  const auto z = (series - mean) / std;
  target_std_ = std[ti].item<double>();
  // Window ending at row t−1 → the target at row t.
  auto idx = torch::arange(W, T, torch::kLong);
  auto offsets = torch::arange(-W, 0, torch::kLong);
  auto x = z.index_select(0, (idx.unsqueeze(1) + offsets.unsqueeze(0)).flatten()).view({-1, W, F});
  auto y = z.select(1, ti).index_select(0, idx).unsqueeze(1);
  const int64_t n_train_all = boundary - W;
  const auto split = detail::train_meta_split(n_train_all, c.data_n_train, c.seed, 61);
  auto pick = [&](const torch::Tensor& i) {
    return data::TensorDataset(x.index_select(0, i).to(dtype), y.index_select(0, i).to(dtype));
  };
  meta_val_ = pick(split.meta);
  train_ = pick(split.train);
  const int64_t ne = detail::cap(c.data_n_eval, x.size(0) - n_train_all);
  eval_ = pick(torch::arange(n_train_all, n_train_all + ne, torch::kLong));
  // Naive: tomorrow = today, in original units.
  const auto last = eval_.x().select(1, W - 1).select(1, ti).unsqueeze(1);
  naive_ = ((last - eval_.y()).abs() * target_std_).mean().item<double>();
  naive_name_ = "last-value forecast";
  model_ =
      std::make_unique<nn::TransformerForecaster>(F, W, detail::transformer_size(c), c.seed, dtype);
}

torch::Tensor ForecastingTask::loss(const torch::Tensor& outputs, const data::Batch& b) const {
  return torch::mse_loss(outputs, b.y);
}

double ForecastingTask::metric_sum(const torch::Tensor& outputs, const data::Batch& b) const {
  return ((outputs - b.y).abs() * target_std_).sum().item<double>();
}

// The forecasting task's presets (api/presets.h): {key, tiny, small, paper}.
const std::vector<PresetRow>& forecasting_presets() {
  // clang-format off
  static const std::vector<PresetRow> rows = {
    {"steps", "30", "", ""},
    {"epochs", "", "15", "30"},
    {"batch_size", "16", "32", "32"},
    {"model.dim", "16", "64", "128"},
    {"model.layers", "1", "2", "2"},
    {"model.heads", "2", "4", "4"},
    {"model.ffn", "32", "256", "512"},
    {"model.dropout", "0", "0.1", "0.1"},
    {"data.max_len", "24", "64", "96"},
    {"data.n_train", "200", "0", "0"},
    {"data.n_eval", "64", "0", "0"},
  };
  // clang-format on
  return rows;
}

}  // namespace maw::tasks
