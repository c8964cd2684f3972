#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "api/errors.h"
#include "api/session.h"
#include "nn/conv_check.h"
#include "optim/lr_schedule.h"
#include "optim/param_groups.h"
#include "tasks/task.h"
#include "train/checkpoint.h"
#include "train/early_stopping.h"
#include "train/optimizers.h"

namespace maw::train {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// "64x3x3x3"; "()" for a 0-d tensor.
std::string shape_text(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "()";
  std::string s;
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? "x" : "") + std::to_string(shape[d]);
  return s;
}

torch::Device resolve_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw ConfigError(
          "device 'cuda' requested, but no CUDA device is available to this build of LibTorch "
          "(Debian's is CPU-only; build against a CUDA LibTorch)");
    return torch::kCUDA;
  }
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

// Independent seeds for the streams: the training order, b2 and bv (METAADAMW.md §5).
constexpr uint64_t kTrainStream = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kMetaTrainStream = 0xbf58476d1ce4e5b9ULL;
constexpr uint64_t kMetaValStream = 0x94d049bb133111ebULL;

// LibTorch allocates activations, gradients and temporaries with malloc on the CPU, and
// glibc hands blocks above its (adaptive) mmap threshold, and the heap's free top beyond
// 128 KB, back to the kernel: the next step faults the same pages in again, zeroed. On
// the VMs here that was a third of a training step and half of a meta-update's passes
// (BENCHMARKS.md). Once per process: allocations up to 32 MB (glibc's maximum) come from
// the heap, which keeps up to 1 GB of freed memory and grows in 64 MB steps — the
// resident size stays at a run's peak instead of following each step. A user's own
// MALLOC_* / GLIBC_TUNABLES settings win.
void keep_freed_memory() {
#if defined(__GLIBC__)
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* v :
         {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES"})
      if (std::getenv(v)) return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
  });
#endif
}

// What observers learn at the start of a run (api/records.h, RunInfo).
RunInfo make_run_info(const RunConfig& c, tasks::Task& task, const nn::ParamStore& store,
                      const std::vector<optim::ParamGroup>& groups, const RunOptimizer& opt,
                      const torch::Device& device, int threads, int64_t total,
                      int64_t steps_per_epoch) {
  RunInfo info;
  info.task = task.name();
  info.preset = c.preset;
  info.optimizer = c.optimizer;
  info.seed = c.seed;
  info.device = device.str();
  info.threads = threads;
  // Before the first convolution: Debian 13's oneDNN convolves wrongly on some CPUs.
  if (device.is_cpu() && c.task == "image")
    info.cpu_convolution = nn::check_cpu_convolution().summary;
  info.total_steps = total;
  info.steps_per_epoch = steps_per_epoch;
  info.num_parameters = store.numel();
  info.num_groups = static_cast<int64_t>(groups.size());
  info.metric_name = task.metric_name();
  info.metric_higher_is_better = task.metric_higher_is_better();
  for (const auto& g : groups) {
    info.group_names.push_back(g.name);
    info.group_members.push_back(g.tensor_names);
    info.group_sizes.push_back(g.numel);
    std::vector<std::string> shapes;
    for (int slot : g.slots) shapes.push_back(shape_text(store.info()[slot].shape));
    info.group_shapes.push_back(std::move(shapes));
  }
  info.eval_extras = task.extra_metric_names();
  opt.describe(info);
  if (!info.feature_names.empty()) {
    info.snapshot_every = c.snapshot_every;
    info.attention_every = c.snapshot_every > 0 ? c.attention_every : 0;
  }
  return info;
}

// The summary's fields that are known before the first step.
RunSummary summary_head(const RunInfo& info, const tasks::Task& task) {
  RunSummary s;
  s.task = info.task;
  s.preset = info.preset;
  s.optimizer = info.optimizer;
  s.seed = info.seed;
  s.metric_name = info.metric_name;
  s.metric_higher_is_better = info.metric_higher_is_better;
  s.naive_metric = task.naive_metric();
  s.naive_name = task.naive_name();
  s.device = info.device;
  s.threads = info.threads;
  s.num_parameters = info.num_parameters;
  s.num_groups = info.num_groups;
  s.status = RunStatus::completed;
  return s;
}

}  // namespace

Trainer::Trainer(RunConfig config, std::vector<RunObserver*> observers, RunControl* control)
    : config_(std::move(config)), observers_(std::move(observers)), control_(control) {}

RunSummary Trainer::run() {
  auto& c = config_;
  const int threads = c.threads > 0 ? static_cast<int>(c.threads) : default_threads();
  at::set_num_threads(threads);
  keep_freed_memory();
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

  data::BatchStream stream(task->train().size(), c.batch_size, c.seed ^ kTrainStream);
  data::BatchStream meta_train(task->train().size(), c.batch_size, c.seed ^ kMetaTrainStream);
  data::BatchStream meta_val(task->meta_val().size(), c.batch_size, c.seed ^ kMetaValStream);
  const int64_t total =
      c.steps > 0 ? c.steps : std::max<int64_t>(1, c.epochs) * stream.batches_per_epoch();
  if (c.meta.total_steps() == 0) c.meta.total_steps(total);  // T of the time feature
  const int64_t eval_batch = std::max<int64_t>(c.batch_size, 256);

  // §5: b2 from an independent stream over the training split, bv from meta-validation.
  auto meta_batches = [&]() {
    auto loss_on = [&](data::Batch b) -> optim::LossAt {
      return [&, b](const std::vector<torch::Tensor>& params) {
        nn::Ctx ctx = model.ctx(/*training=*/true, /*update_buffers=*/false);
        ctx.params = &params;
        return task->loss(model.forward(ctx, b), b);
      };
    };
    return optim::MetaBatches{loss_on(task->train().get(meta_train.next()).to(device)),
                              loss_on(task->meta_val().get(meta_val.next()).to(device))};
  };
  auto opt = make_optimizer(c, model.store(), groups, meta_batches);
  if (!c.modulator.empty()) opt->import_modulator(c.modulator);
  const Streams streams = {
      {"train", &stream}, {"meta_train", &meta_train}, {"meta_val", &meta_val}};
  int64_t step = 0;
  EarlyStopping early(c, task->metric_higher_is_better());
  if (!c.resume.empty())
    step = load_checkpoint(c.resume, model.store(), *opt, streams, device, early,
                           task->extra_metric_names());

  const RunInfo info = make_run_info(c, *task, model.store(), groups, *opt, device, threads, total,
                                     stream.batches_per_epoch());
  for (auto* o : observers_) o->on_start(info);
  for (auto* o : observers_) o->on_event({RunEvent::Kind::Started, step, ""});
  RunSummary s = summary_head(info, *task);

  const auto start = Clock::now();
  bool stop_early = false;
  auto evaluate = [&](int64_t at_step, int64_t epoch) {
    const auto t0 = Clock::now();
    const auto r = task->evaluate(task->eval(), device, eval_batch);
    EvalRecord e{at_step, epoch, r.loss, r.metric, ms_since(t0), seconds_since(start), r.extras};
    for (auto* o : observers_) o->on_eval(e);
    s.eval_loss = r.loss;
    s.eval_metric = r.metric;
    s.eval_extras = r.extras;
    stop_early = early.observe(e, model.store());
  };
  auto announce = [&](RunEvent::Kind k) {
    for (auto* o : observers_) o->on_event({k, step, ""});
  };

  double step_ms_sum = 0.0;
  const int64_t first_step = step;
  int64_t last_eval = -1;
  auto ctx = model.ctx(/*training=*/true, /*update_buffers=*/true);
  // A device snapshot is copied to the host behind the step that kept it; it is published
  // once that copy is done — at once on the CPU, after the next step's loss read on a GPU
  // (which waits for the device anyway), so the step never waits for it.
  bool snapshot_pending = false;
  auto publish_snapshot = [&] {
    snapshot_pending = false;
    if (const auto snap = opt->snapshot())
      for (auto* o : observers_) o->on_snapshot(*snap);
  };
  const auto schedule = optim::parse_lr_schedule(c.lr_schedule);  // checked by RunConfig
  while (step < total) {
    if (control_ && !control_->wait_turn(announce)) {
      s.status = RunStatus::stopped;
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
    if (snapshot_pending) publish_snapshot();
    if (!std::isfinite(loss_value)) {
      // Stop before the optimizer applies a non-finite update: the model stays as it was.
      s.status = RunStatus::diverged;
      s.message = "loss became " + std::to_string(loss_value) + " at step " +
                  std::to_string(step + 1) + "; parameters kept from step " + std::to_string(step);
      for (auto* o : observers_) o->on_event({RunEvent::Kind::Diverged, step + 1, s.message});
      s.final_train_loss = loss_value;
      break;
    }
    const bool want_snapshot = c.snapshot_every > 0 && (step + 1) % c.snapshot_every == 0;
    const bool want_attention = c.attention_every > 0 && (step + 1) % c.attention_every == 0;
    const double lr =
        c.lr * optim::lr_scale(schedule, step, total, c.lr_warmup_steps, c.lr_min_ratio);
    if (schedule != optim::LrSchedule::Constant || c.lr_warmup_steps > 0) opt->set_lr(lr);
    const auto t1 = Clock::now();
    opt->step(want_snapshot, want_attention);
    const double opt_total_ms = ms_since(t1);
    ++step;
    const auto meta = opt->last_meta_update();
    StepRecord r;
    r.step = step;
    r.epoch = stream.epoch();
    r.loss = loss_value;
    r.lr = lr;
    r.forward_backward_ms = fb_ms;
    r.meta_ms = meta ? meta->meta_ms : 0.0;
    r.optimizer_ms = opt_total_ms - r.meta_ms;
    r.wall_time_s = seconds_since(start);
    step_ms_sum += fb_ms + opt_total_ms;
    s.final_train_loss = loss_value;
    for (auto* o : observers_) o->on_step(r);
    if (meta)
      for (auto* o : observers_) o->on_meta_update(*meta);
    if (want_snapshot) snapshot_pending = true;
    if (snapshot_pending && opt->snapshot_ready()) publish_snapshot();
    const bool epoch_end = stream.batches_per_epoch() > 0 && step % stream.batches_per_epoch() == 0;
    const bool due = c.eval_every > 0 ? step % c.eval_every == 0 : epoch_end;
    if (due && step < total) {
      evaluate(step, stream.epoch());
      last_eval = step;
    }
    // After this step's evaluation, so that a resumed run's early stopping has seen it.
    if (c.checkpoint_at > 0 && step == c.checkpoint_at && !c.checkpoint.empty())
      save_checkpoint(c.checkpoint, step, model.store(), *opt, streams, device, early);
    if (stop_early) {
      s.status = RunStatus::early_stopped;
      s.message = early.reason();
      for (auto* o : observers_) o->on_event({RunEvent::Kind::EarlyStopped, step, s.message});
      break;
    }
  }
  if (snapshot_pending) publish_snapshot();
  s.steps = step;
  if (s.status != RunStatus::diverged && last_eval != step) evaluate(step, stream.epoch());
  early.finish(model.store(), step, s);  // the best evaluated model back, when kept
  s.wall_time_s = seconds_since(start);
  if (s.status != RunStatus::diverged) {  // after the clock: selection's cost is not the run's
    const auto v = task->evaluate(task->meta_val(), device, eval_batch);
    s.val_loss = v.loss;
    s.val_metric = v.metric;
  }
  const int64_t done = step - first_step;
  s.mean_step_ms = done > 0 ? step_ms_sum / static_cast<double>(done) : 0.0;
  s.meta_updates = opt->meta_updates();
  if (!c.export_modulator.empty()) opt->export_modulator(c.export_modulator);
  if (s.status == RunStatus::completed)
    for (auto* o : observers_) o->on_event({RunEvent::Kind::Completed, step, ""});
  for (auto* o : observers_) o->on_finish(s);
  return s;
}

}  // namespace maw::train
