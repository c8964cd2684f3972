#include "train/early_stopping.h"

namespace maw::train {

EarlyStopping::EarlyStopping(const RunConfig& c, bool metric_higher_is_better)
    : enabled_(c.early_stopping != "off"),
      on_loss_(c.early_stopping == "eval_loss"),
      lower_better_(on_loss_ || !metric_higher_is_better),
      restore_best_(c.restore_best),
      monitor_(c.early_stopping),
      patience_(c.patience),
      min_delta_(c.min_delta) {}

bool EarlyStopping::observe(const EvalRecord& e, const nn::ParamStore& store) {
  if (!enabled_) return false;
  const double v = on_loss_ ? e.loss : e.metric;
  const bool improved =
      best_step_ < 0 || (lower_better_ ? v < best_ - min_delta_ : v > best_ + min_delta_);
  if (!improved) return ++bad_evals_ >= patience_;
  best_ = v;
  best_step_ = e.step;
  best_eval_ = e;
  bad_evals_ = 0;
  if (restore_best_) {
    torch::NoGradGuard ng;
    best_params_.clear();
    best_buffers_.clear();
    for (const auto& p : store.parameters()) best_params_.push_back(p.detach().clone());
    for (const auto& b : store.buffers()) best_buffers_.push_back(b.clone());
  }
  return false;
}

void EarlyStopping::finish(nn::ParamStore& store, int64_t step, RunSummary& s) const {
  if (enabled_ && restore_best_ && !best_params_.empty() && best_step_ != step &&
      s.status != RunStatus::diverged) {
    torch::NoGradGuard ng;
    for (size_t i = 0; i < best_params_.size(); ++i) store.parameters()[i].copy_(best_params_[i]);
    for (size_t i = 0; i < best_buffers_.size(); ++i) store.buffers()[i].copy_(best_buffers_[i]);
    s.eval_loss = best_eval_.loss;
    s.eval_metric = best_eval_.metric;
    s.eval_extras = best_eval_.extras;
  }
  s.best_step = best_step_ > 0 ? best_step_ : 0;
  s.best_monitor = best_;
}

std::string EarlyStopping::reason() const {
  return "no improvement of " + monitor_ + " in " + std::to_string(patience_) +
         " evaluations; best at step " + std::to_string(best_step_);
}

void EarlyStopping::save(torch::serialize::OutputArchive& a) const {
  a.write("best", torch::tensor(best_, torch::kDouble), true);
  a.write("best_step", torch::tensor(best_step_, torch::kInt64), true);
  a.write("bad_evals", torch::tensor(bad_evals_, torch::kInt64), true);
  const auto& e = best_eval_;
  a.write("best_eval", torch::tensor({e.loss, e.metric, e.eval_ms, e.wall_time_s}, torch::kDouble),
          true);
  a.write("best_eval_at", torch::tensor({e.step, e.epoch}, torch::kInt64), true);
  std::vector<double> extra;
  for (const auto& [name, v] : e.extras) extra.push_back(v);
  a.write("best_eval_extras", torch::tensor(extra, torch::kDouble), true);
  for (size_t i = 0; i < best_params_.size(); ++i)
    a.write("param." + std::to_string(i), best_params_[i], true);
  for (size_t i = 0; i < best_buffers_.size(); ++i)
    a.write("buffer." + std::to_string(i), best_buffers_[i], true);
  a.write("counts",
          torch::tensor({static_cast<int64_t>(best_params_.size()),
                         static_cast<int64_t>(best_buffers_.size())},
                        torch::kInt64),
          true);
}

void EarlyStopping::load(torch::serialize::InputArchive& a,
                         const std::vector<std::string>& extra_names) {
  auto get = [&](const char* key) {  // a fresh tensor per read (read() set_()s a defined one)
    torch::Tensor t;
    a.read(key, t, true);
    return t.to(torch::kCPU);
  };
  best_ = get("best").item<double>();
  best_step_ = get("best_step").item<int64_t>();
  bad_evals_ = get("bad_evals").item<int64_t>();
  const auto ev = get("best_eval").to(torch::kDouble).contiguous();
  best_eval_.loss = ev[0].item<double>();
  best_eval_.metric = ev[1].item<double>();
  best_eval_.eval_ms = ev[2].item<double>();
  best_eval_.wall_time_s = ev[3].item<double>();
  const auto at = get("best_eval_at");
  best_eval_.step = at[0].item<int64_t>();
  best_eval_.epoch = at[1].item<int64_t>();
  const auto extras = get("best_eval_extras");
  best_eval_.extras.clear();
  for (int64_t i = 0; i < extras.numel() && i < static_cast<int64_t>(extra_names.size()); ++i)
    best_eval_.extras.emplace_back(extra_names[static_cast<size_t>(i)], extras[i].item<double>());
  const auto counts = get("counts");
  best_params_.assign(static_cast<size_t>(counts[0].item<int64_t>()), torch::Tensor());
  best_buffers_.assign(static_cast<size_t>(counts[1].item<int64_t>()), torch::Tensor());
  for (size_t i = 0; i < best_params_.size(); ++i)
    a.read("param." + std::to_string(i), best_params_[i], true);
  for (size_t i = 0; i < best_buffers_.size(); ++i)
    a.read("buffer." + std::to_string(i), best_buffers_[i], true);
}

}  // namespace maw::train
