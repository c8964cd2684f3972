#include "cli/progress.h"

#include <algorithm>
#include <string>

namespace maw::cli {

ProgressObserver::ProgressObserver(std::FILE* out, bool interactive, int64_t log_every, bool quiet)
    : out_(out), interactive_(interactive), log_every_(log_every), quiet_(quiet) {}

void ProgressObserver::on_start(const RunInfo& info) {
  info_ = info;
  if (log_every_ <= 0) log_every_ = std::max<int64_t>(1, info.total_steps / 20);
  rate_ = 0.0;
  rate_t_ = 0.0;
  rate_step_ = 0;
  have_eval_ = false;
  if (quiet_) return;
  std::fprintf(out_, "%s/%s · %s · seed %llu · %lld params in %lld groups · %s, %lld threads\n",
               info.task.c_str(), info.preset.c_str(), info.optimizer.c_str(),
               static_cast<unsigned long long>(info.seed),
               static_cast<long long>(info.num_parameters), static_cast<long long>(info.num_groups),
               info.device.c_str(), static_cast<long long>(info.threads));
  if (info.cpu_convolution.rfind("native: ", 0) == 0)
    std::fprintf(out_, "note: convolutions run on LibTorch's native kernels (slower): %s\n",
                 info.cpu_convolution.c_str() + 8);
  std::fflush(out_);
}

void ProgressObserver::update_rate(const StepRecord& r) {
  // Cumulative during the first second, then over windows of about one second.
  if (r.wall_time_s <= 0.0) return;
  if (rate_t_ == 0.0) rate_ = static_cast<double>(r.step) / r.wall_time_s;
  if (r.wall_time_s - rate_t_ >= 1.0) {
    rate_ = static_cast<double>(r.step - rate_step_) / (r.wall_time_s - rate_t_);
    rate_t_ = r.wall_time_s;
    rate_step_ = r.step;
  }
}

void ProgressObserver::draw_bar(const StepRecord& r, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  constexpr int kWidth = 28;
  const double frac = info_.total_steps > 0
                          ? static_cast<double>(r.step) / static_cast<double>(info_.total_steps)
                          : 0.0;
  const int filled = std::clamp(static_cast<int>(frac * kWidth), 0, kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar += std::string(static_cast<size_t>(kWidth - filled), '-');
  const double eta = rate_ > 0 ? static_cast<double>(info_.total_steps - r.step) / rate_ : 0.0;
  char eval[64] = "";
  if (have_eval_)
    std::snprintf(eval, sizeof eval, " %s %.4g", info_.metric_name.c_str(), last_eval_metric_);
  std::fprintf(out_, "\r[%s] %3.0f%% step %lld/%lld loss %.4g%s %.1f steps/s ETA %.0fs  ",
               bar.c_str(), frac * 100, static_cast<long long>(r.step),
               static_cast<long long>(info_.total_steps), r.loss, eval, rate_, eta);
  std::fflush(out_);
  bar_open_ = true;
}

void ProgressObserver::end_bar() {
  if (bar_open_) std::fputc('\n', out_);
  bar_open_ = false;
}

void ProgressObserver::on_step(const StepRecord& r) {
  update_rate(r);
  if (quiet_) return;
  const bool last = r.step == info_.total_steps;
  if (interactive_) {
    draw_bar(r, last);
  } else if (r.step % log_every_ == 0 || last) {
    std::fprintf(out_, "step %lld/%lld  loss %.6g  %.1f steps/s  %.2f ms/step\n",
                 static_cast<long long>(r.step), static_cast<long long>(info_.total_steps), r.loss,
                 rate_, r.forward_backward_ms + r.optimizer_ms + r.meta_ms);
    std::fflush(out_);
  }
}

void ProgressObserver::on_eval(const EvalRecord& r) {
  last_eval_metric_ = r.metric;
  have_eval_ = true;
  if (quiet_ || interactive_) return;
  std::fprintf(out_, "eval @ step %lld: loss %.6g  %s %.6g\n", static_cast<long long>(r.step),
               r.loss, info_.metric_name.c_str(), r.metric);
  std::fflush(out_);
}

void ProgressObserver::on_event(const RunEvent& e) {
  if (quiet_ || e.kind == RunEvent::Kind::Started || e.kind == RunEvent::Kind::Completed) return;
  end_bar();
  std::fprintf(out_, "%s at step %lld%s%s\n", to_string(e.kind), static_cast<long long>(e.step),
               e.message.empty() ? "" : ": ", e.message.c_str());
  std::fflush(out_);
}

void ProgressObserver::on_finish(const RunSummary& s) {
  if (quiet_) return;
  end_bar();
  std::fprintf(out_,
               "%s: %lld steps in %.2f s (%.2f ms/step) · final train loss %.6g · eval loss "
               "%.6g · %s %.6g\n",
               name_of(s.status), static_cast<long long>(s.steps), s.wall_time_s, s.mean_step_ms,
               s.final_train_loss, s.eval_loss, s.metric_name.c_str(), s.eval_metric);
  std::fflush(out_);
}

}  // namespace maw::cli
