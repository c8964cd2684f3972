#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <thread>

#include "api/errors.h"
#include "api/session.h"
#include "optim/param_groups.h"
#include "tasks/task.h"
#include "train/optimizers.h"

namespace maw::train {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw ConfigError(
          "device 'cuda' requested, but no CUDA device is available to this build of LibTorch "
          "(Debian's is CPU-only; build against a CUDA LibTorch, see docs/BUILDING.md)");
    return torch::kCUDA;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace

Trainer::Trainer(RunConfig config, std::vector<RunObserver*> observers,
                 const std::atomic<bool>* stop)
    : config_(std::move(config)), observers_(std::move(observers)), stop_(stop) {}

RunSummary Trainer::run() {
  const auto& c = config_;
  const int threads = c.threads > 0 ? static_cast<int>(c.threads) : default_threads();
  at::set_num_threads(threads);
  const torch::Device device = resolve_device(c.device);
  const torch::Dtype dtype = c.dtype == "float64" ? torch::kDouble : torch::kFloat;

  // Determinism: everything random below draws from generators seeded by c.seed; the
  // global generator is seeded too, for any op that uses it.
  torch::manual_seed(c.seed);
  auto task = tasks::make_task(c, dtype);
  auto& model = task->model();
  model.store().to(device);

  optim::GroupingSpec spec;
  spec.strategy = c.groups;
  spec.rules = optim::GroupingSpec::parse_rules(c.group_rules);
  const auto groups = optim::make_groups(model.store().info(), spec);
  auto opt = make_optimizer(c, model.store(), groups);

  data::BatchStream stream(task->train().size(), c.batch_size, c.seed ^ 0x9e3779b97f4a7c15ULL);
  const int64_t total =
      c.steps > 0 ? c.steps : std::max<int64_t>(1, c.epochs) * stream.batches_per_epoch();
  const int64_t eval_batch = std::max<int64_t>(c.batch_size, 256);

  RunInfo info;
  info.task = task->name();
  info.preset = c.preset;
  info.optimizer = c.optimizer;
  info.seed = c.seed;
  info.device = device.str();
  info.threads = threads;
  info.total_steps = total;
  info.steps_per_epoch = stream.batches_per_epoch();
  info.num_parameters = model.store().numel();
  info.num_groups = static_cast<int64_t>(groups.size());
  info.metric_name = task->metric_name();
  info.metric_higher_is_better = task->metric_higher_is_better();
  for (auto* o : observers_) o->on_start(info);
  for (auto* o : observers_) o->on_event({RunEvent::Kind::Started, 0, ""});

  RunSummary s;
  s.task = info.task;
  s.preset = c.preset;
  s.optimizer = c.optimizer;
  s.seed = c.seed;
  s.metric_name = info.metric_name;
  s.device = info.device;
  s.threads = threads;
  s.num_parameters = info.num_parameters;
  s.num_groups = info.num_groups;
  s.status = "completed";

  auto evaluate = [&](int64_t step, int64_t epoch) {
    const auto t0 = Clock::now();
    const auto r = task->evaluate(task->eval(), device, eval_batch);
    EvalRecord e{step, epoch, r.loss, r.metric, ms_since(t0)};
    for (auto* o : observers_) o->on_eval(e);
    s.eval_loss = r.loss;
    s.eval_metric = r.metric;
    return e;
  };

  const auto start = Clock::now();
  double step_ms_sum = 0.0;
  int64_t step = 0;
  int64_t last_eval = -1;
  auto ctx = model.ctx(/*training=*/true, /*update_buffers=*/true);
  while (step < total) {
    if (stop_ && stop_->load()) {
      s.status = "stopped";
      s.message = "stopped at step " + std::to_string(step);
      for (auto* o : observers_) o->on_event({RunEvent::Kind::Stopped, step, s.message});
      break;
    }
    const auto t0 = Clock::now();
    auto batch = task->train().get(stream.next()).to(device);
    model.store().zero_grad();
    auto loss = task->loss(model.forward(ctx, batch), batch);
    loss.backward();
    const double loss_value = loss.item<double>();  // the step's one host sync
    const double fb_ms = ms_since(t0);
    if (!std::isfinite(loss_value)) {
      // Stop before the optimizer applies a non-finite update: the model stays as it was.
      s.status = "diverged";
      s.message = "loss became " + std::to_string(loss_value) + " at step " +
                  std::to_string(step + 1) + "; parameters kept from step " + std::to_string(step);
      for (auto* o : observers_) o->on_event({RunEvent::Kind::Diverged, step + 1, s.message});
      s.final_train_loss = loss_value;
      break;
    }
    const auto t1 = Clock::now();
    opt->step();
    const double opt_ms = ms_since(t1);
    ++step;
    StepRecord r;
    r.step = step;
    r.epoch = stream.epoch();
    r.loss = loss_value;
    r.lr = c.lr;
    r.forward_backward_ms = fb_ms;
    r.optimizer_ms = opt_ms;
    r.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
    step_ms_sum += fb_ms + opt_ms;
    s.final_train_loss = loss_value;
    for (auto* o : observers_) o->on_step(r);

    const bool epoch_end = stream.batches_per_epoch() > 0 && step % stream.batches_per_epoch() == 0;
    const bool due = c.eval_every > 0 ? step % c.eval_every == 0 : epoch_end;
    if (due && step < total) {
      evaluate(step, stream.epoch());
      last_eval = step;
    }
  }
  s.steps = step;
  if (s.status != "diverged" && last_eval != step) evaluate(step, stream.epoch());
  s.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
  s.mean_step_ms = step > 0 ? step_ms_sum / static_cast<double>(step) : 0.0;
  s.meta_updates = opt->meta_updates();
  if (s.status == "completed")
    for (auto* o : observers_) o->on_event({RunEvent::Kind::Completed, step, ""});
  for (auto* o : observers_) o->on_finish(s);
  return s;
}

}  // namespace maw::train
