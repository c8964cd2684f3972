#include "train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include "api/errors.h"
#include "api/session.h"
#include "nn/conv_check.h"
#include "optim/lr_schedule.h"
#include "optim/param_groups.h"
#include "tasks/task.h"
#include "train/checkpoint.h"
#include "train/dist.h"
#include "train/early_stopping.h"
#include "train/landscape.h"
#include "train/optimizers.h"
#include "train/trajectory.h"

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
  // Until an evaluation reports (a run stopped or diverged before its first has none).
  s.eval_loss = s.eval_metric = std::numeric_limits<double>::quiet_NaN();
  return s;
}

// One run's state and its named steps; Trainer::run is the loop over them.
class TrainingRun {
 public:
  // Builds the task, its groups, the data streams and the optimizer; resumes from a
  // checkpoint when asked; tells the observers the run started.
  TrainingRun(RunConfig& c, const std::vector<RunObserver*>& observers)
      : c_(c),
        observers_(observers),
        threads_(c.threads > 0 ? static_cast<int>(c.threads) : default_threads()),
        device_(resolve_device(c.device)) {
    at::set_num_threads(threads_);
    keep_freed_memory();
    // Data-parallel: the process group first (its errors before any data loads).
    world_ = World::get(c);
    if (world_) world_->join_run(c);
    const torch::Dtype dtype = c.dtype == "float64" ? torch::kDouble : torch::kFloat;
    // Determinism: everything random below draws from generators seeded by c.seed; the
    // global generator is seeded too, for any op that uses it.
    torch::manual_seed(c.seed);
    task_ = tasks::make_task(c, dtype);
    if (world_)  // evaluations sharded over the ranks, their sums added
      task_->set_shard(world_->rank(), world_->size(),
                       [this](const std::vector<double>& v) { return world_->sum(v); });
    task_->model().store().to(device_);
    optim::GroupingSpec spec;
    spec.strategy = c.groups;
    spec.rules = optim::GroupingSpec::parse_rules(c.group_rules);
    groups_ = optim::make_groups(store().info(), spec);
    train_.emplace(task_->train().size(), c.batch_size, c.seed ^ kTrainStream);
    meta_train_.emplace(task_->train().size(), c.batch_size, c.seed ^ kMetaTrainStream);
    meta_val_.emplace(task_->meta_val().size(), c.batch_size, c.seed ^ kMetaValStream);
    total_ = c.steps > 0 ? c.steps : std::max<int64_t>(1, c.epochs) * train_->batches_per_epoch();
    if (c.meta.total_steps() == 0) c.meta.total_steps(total_);  // T of the time feature
    eval_batch_ = std::max<int64_t>(c.batch_size, 256);
    opt_ = make_optimizer(c, store(), groups_, [this] { return meta_batches(); });
    if (!c.modulator.empty()) opt_->import_modulator(c.modulator);
    early_.emplace(c, task_->metric_higher_is_better());
    // θ_0 is the initialization (a resumed run's too: it is the seed's), the directions
    // the seed's: every optimizer of a seed on one plane.
    if (c.trajectory_directions > 0 && c.snapshot_every > 0)
      trajectory_.emplace(store().parameters(), groups_, static_cast<int>(c.trajectory_directions),
                          c.seed ^ kTrajectoryStream);
    if (c.trajectory_full_every > 0) keep_full_snapshots(c);
    if (c.landscape_grid > 0 && (!trajectory_ || trajectory_->directions() < 2))
      throw ConfigError(
          "landscape_grid needs the trajectory's plane: trajectory_directions >= 2 and "
          "snapshot_every > 0");
    if (!c.resume.empty())
      step_ = load_checkpoint(c.resume, store(), *opt_, streams(), device_, *early_,
                              task_->extra_metric_names());
    first_step_ = step_;
    schedule_ = optim::parse_lr_schedule(c.lr_schedule);  // checked by RunConfig
    RunInfo info = make_run_info(c, *task_, store(), groups_, *opt_, device_, threads_, total_,
                                 train_->batches_per_epoch());
    if (trajectory_) {
      info.trajectory_directions = trajectory_->directions();
      info.trajectory_checksum = trajectory_->checksum();
      info.snapshot_every = c.snapshot_every;
      info.trajectory_full_every = full_coordinates_ > 0 ? c.trajectory_full_every : 0;
      info.trajectory_full_coordinates = full_coordinates_;
      info.landscape_grid = c.landscape_grid;
    }
    info.final_parameters = c.keep_final_parameters;
    if (world_) {
      info.world_size = world_->size();
      info.dist_backend = "gloo";
    }
    for (const auto& b : store().buffers()) info.num_buffer_values += b.numel();
    for (auto* o : observers_) o->on_start(info);
    publish_trajectory(full_coordinates_ > 0);  // where the path starts
    announce(RunEvent::Kind::Started);
    summary_ = summary_head(info, *task_);
    ctx_ = task_->model().ctx(/*training=*/true, /*update_buffers=*/true);
    if (world_ && c.dist_sync_batchnorm) {  // the training steps' BatchNorm: global statistics
      sync_sum_ = [this](const torch::Tensor& x) { return world_->sum_differentiable(x, share_); };
      ctx_.sync_sum = &sync_sum_;
    }
    start_ = Clock::now();
  }

  // The world's gradient hooks go with the model (they hold its parameters).
  ~TrainingRun() {
    if (world_) world_->release();
  }
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  bool more() const { return step_ < total_; }

  // A Stop abandons an evaluation between two of its batches.
  // Not data-parallel evaluations: a rank leaving one would leave the others waiting in its
  // sum; they end at the ranks' next stop vote instead.
  void cancel_evaluations_on_stop(const RunControl& control) {
    if (!world_) task_->set_cancel([&control] { return control.stop_requested(); });
    stop_requested_ = [&control] { return control.stop_requested(); };
  }

  // Pause, single-step or stop from another thread (RunControl); false when stopped.
  // The run's clock (wall_time_s) stands still meanwhile: a pause, or the other runs' turns
  // in lockstep, are not this run's time.
  bool wait_turn(RunControl* control) {
    const auto t0 = Clock::now();
    bool go = !control || control->wait_turn([this](RunEvent::Kind k) { announce(k); });
    // Data-parallel: the ranks stop together, at the same step (a Ctrl-C reaches each).
    if (world_) go = world_->min({go ? 1.0 : 0.0})[0] > 0.5;
    start_ += Clock::now() - t0;
    if (go) return true;
    end(RunStatus::stopped, "stopped at step " + std::to_string(step_), RunEvent::Kind::Stopped,
        step_);
    return false;
  }

  // batch → forward/backward → divergence check → optimizer step → the step's records.
  // False when the loss is not finite: the optimizer has not applied it.
  bool train_step() {
    const auto t0 = Clock::now();
    auto rows = train_->next();
    double& share = share_;  // this rank's part of the global batch
    share = 1.0;
    if (world_) rows = world_->shard(rows, &share);
    auto batch = task_->train().get(rows).to(device_);
    store().zero_grad();
    auto loss = task_->loss(task_->model().forward(ctx_, batch), batch);
    if (world_) world_->arm(store().parameters(), share);  // all-reduces during backward
    loss.backward();
    double loss_value = loss.item<double>();  // the step's one host sync
    const double fb_ms = ms_since(t0);
    double comm_ms = 0.0, slowest_ms = 0.0;
    if (world_) {  // the global batch's mean gradient and loss on every rank
      comm_ms = world_->reduce_gradients(store().parameters(), share);
      // Per-rank BatchNorm statistics: every rank keeps rank 0's running ones (DDP's
      // broadcast_buffers), so the ranks evaluate one model.
      if (!c_.dist_sync_batchnorm && !store().buffers().empty())
        world_->broadcast_from_rank0(store().buffers());
      loss_value = world_->sum({loss_value * share})[0];
      slowest_ms = world_->max({fb_ms})[0];
    }
    const double grad_norm = gradient_norm();
    if (snapshot_pending_) publish_snapshot();
    if (!std::isfinite(loss_value)) {
      // Stop before the optimizer applies a non-finite update: the model stays as it was.
      summary_.final_train_loss = loss_value;
      end(RunStatus::diverged,
          "loss became " + std::to_string(loss_value) + " at step " + std::to_string(step_ + 1) +
              "; parameters kept from step " + std::to_string(step_),
          RunEvent::Kind::Diverged, step_ + 1);
      return false;
    }
    const bool want_snapshot = c_.snapshot_every > 0 && (step_ + 1) % c_.snapshot_every == 0;
    const bool want_attention = c_.attention_every > 0 && (step_ + 1) % c_.attention_every == 0;
    const double lr =
        c_.lr * optim::lr_scale(schedule_, step_, total_, c_.lr_warmup_steps, c_.lr_min_ratio);
    if (schedule_ != optim::LrSchedule::Constant || c_.lr_warmup_steps > 0) opt_->set_lr(lr);
    const auto t1 = Clock::now();
    opt_->step(want_snapshot, want_attention);
    const double opt_total_ms = ms_since(t1);
    ++step_;
    const auto meta = opt_->last_meta_update();
    StepRecord r;
    r.step = step_;
    r.epoch = train_->epoch();
    r.loss = loss_value;
    r.lr = lr;
    r.forward_backward_ms = fb_ms;
    r.meta_ms = meta ? meta->meta_ms : 0.0;
    r.grad_norm = grad_norm;
    r.comm_ms = comm_ms;
    r.slowest_rank_ms = slowest_ms;
    r.optimizer_ms = opt_total_ms - r.meta_ms;
    r.wall_time_s = seconds_since(start_);
    step_ms_sum_ += fb_ms + opt_total_ms;
    if (world_ && c_.dist_check_every > 0 && step_ % c_.dist_check_every == 0) check_ranks_agree();
    summary_.final_train_loss = loss_value;
    for (auto* o : observers_) o->on_step(r);
    if (meta)
      for (auto* o : observers_) o->on_meta_update(*meta);
    // A device snapshot is copied to the host behind the step that kept it; it is
    // published once that copy is done — at once on the CPU, after the next step's loss
    // read on a GPU (which waits for the device anyway), so the step never waits for it.
    if (want_snapshot) snapshot_pending_ = true;
    if (snapshot_pending_ && opt_->snapshot_ready()) publish_snapshot();
    const bool want_full = full_coordinates_ > 0 && step_ % c_.trajectory_full_every == 0;
    if (want_snapshot || want_full) publish_trajectory(want_full);
    return true;
  }

  // On the schedule (every eval_every steps, else each epoch's end); the last step's
  // evaluation is finish()'s.
  void evaluate_when_due() {
    const int64_t per_epoch = train_->batches_per_epoch();
    const bool epoch_end = per_epoch > 0 && step_ % per_epoch == 0;
    const bool due = c_.eval_every > 0 ? step_ % c_.eval_every == 0 : epoch_end;
    if (due && step_ < total_) evaluate();
  }

  // After this step's evaluation, so that a resumed run's early stopping has seen it.
  void checkpoint_when_due() {
    if (c_.checkpoint_at > 0 && step_ == c_.checkpoint_at && !c_.checkpoint.empty())
      save_checkpoint(c_.checkpoint, step_, store(), *opt_, streams(), device_, *early_);
  }

  // True when the last evaluation told early stopping to end the run.
  bool stopping_early() {
    if (!stop_early_) return false;
    end(RunStatus::early_stopped, early_->reason(), RunEvent::Kind::EarlyStopped, step_);
    return true;
  }

  // The last evaluation, the best model back (early stopping), the validation split, the
  // summary to the observers.
  RunSummary finish() {
    auto& s = summary_;
    if (snapshot_pending_) publish_snapshot();
    s.steps = step_;
    // A stopped run ends now: no final evaluation (the last one stands), none of the
    // validation split — a Stop does not wait for a pass over a large split.
    const bool evaluate_last = s.status != RunStatus::diverged && s.status != RunStatus::stopped;
    if (evaluate_last && c_.landscape_grid > 0) compute_landscape();
    if (evaluate_last && last_eval_ != step_) evaluate();
    early_->finish(store(), step_, s);  // the best evaluated model back, when kept
    if (c_.keep_final_parameters) publish_final_parameters();
    s.wall_time_s = seconds_since(start_);
    if (evaluate_last) {  // after the clock: selection's cost is not the run's
      const auto v = task_->evaluate(task_->meta_val(), device_, eval_batch_);
      s.val_loss = v.loss;
      s.val_metric = v.metric;
    }
    const int64_t done = step_ - first_step_;
    s.mean_step_ms = done > 0 ? step_ms_sum_ / static_cast<double>(done) : 0.0;
    s.meta_updates = opt_->meta_updates();
    if (!c_.export_modulator.empty()) opt_->export_modulator(c_.export_modulator);
    if (s.status == RunStatus::completed) announce(RunEvent::Kind::Completed);
    for (auto* o : observers_) o->on_finish(s);
    return s;
  }

 private:
  nn::ParamStore& store() { return task_->model().store(); }
  Streams streams() {
    return {{"train", &*train_}, {"meta_train", &*meta_train_}, {"meta_val", &*meta_val_}};
  }
  void announce(RunEvent::Kind k, const std::string& message = "") {
    for (auto* o : observers_) o->on_event({k, step_, message});
  }
  // The run ends before its last step: the status, its message, the event at `at`.
  void end(RunStatus status, std::string message, RunEvent::Kind kind, int64_t at) {
    summary_.status = status;
    summary_.message = std::move(message);
    for (auto* o : observers_) o->on_event({kind, at, summary_.message});
  }

  // §5: b2 from an independent stream over the training split, bv from meta-validation.
  // Data-parallel, each rank its shard of both (as of the step's batch) and the losses the
  // global batches': Σ_r s_r·L_r, s_r the rank's part of that batch, formed as
  // Σ_r q_r·(s_r/q_r)·L_r with q_r the step's share — the weight every rank-local quantity
  // of the meta-update carries (optim/metaadamw.h) and SyncBatchNorm's statistics use.
  // A batch with fewer rows than ranks is evaluated whole on every rank (s_r = q_r).
  optim::MetaBatches meta_batches() {
    auto loss_on = [this](const data::Dataset& split, torch::Tensor rows) -> optim::LossAt {
      double part = 1.0;
      if (world_ && rows.size(0) >= world_->size())
        rows = world_->shard(rows, &part);
      else
        part = share_;
      const data::Batch b = split.get(rows).to(device_);
      return [this, b, part](const std::vector<torch::Tensor>& params) {
        nn::Ctx ctx = task_->model().ctx(/*training=*/true, /*update_buffers=*/false);
        ctx.params = &params;
        if (world_ && c_.dist_sync_batchnorm) ctx.sync_sum = &sync_sum_;
        auto loss = task_->loss(task_->model().forward(ctx, b), b);
        return world_ ? world_->sum_differentiable(loss * part, share_) : loss;
      };
    };
    optim::MetaBatches m{loss_on(task_->train(), meta_train_->next()),
                         loss_on(task_->meta_val(), meta_val_->next())};
    if (world_) {
      m.combine = [this](const std::vector<torch::Tensor>& xs) {
        return world_->sum_differentiable(xs, share_);
      };
      m.reduce = [this](const std::vector<torch::Tensor>& grads) {
        world_->sum_weighted(grads, share_);
      };
    }
    return m;
  }

  // Data-parallel: every rank holds the same parameters and MetaAdamW's factors (the same
  // averaged gradients, the same features, factors and meta-updates); a difference is a
  // bug, and ends the run.
  void check_ranks_agree() {
    world_->check_agree(store().parameters(), opt_->last_factors(), step_);
  }

  // ‖∇L‖₂ over every parameter that has a gradient (the log's steps/grad_norm).
  double gradient_norm() {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> norms;
    for (const auto& p : store().parameters())
      if (p.grad().defined()) norms.push_back(p.grad().norm().to(torch::kDouble));
    return norms.empty() ? 0.0 : torch::stack(norms).norm().item<double>();
  }

  // Abandoned (nothing recorded) when a Stop comes during it: the run stops next.
  void evaluate() {
    const auto t0 = Clock::now();
    tasks::EvalResult r;
    try {
      r = task_->evaluate(task_->eval(), device_, eval_batch_);
    } catch (const tasks::EvalCancelled&) {
      return;
    }
    EvalRecord e{step_,        train_->epoch(),       r.loss,  r.metric,
                 ms_since(t0), seconds_since(start_), r.extras};
    for (auto* o : observers_) o->on_eval(e);
    summary_.eval_loss = r.loss;
    summary_.eval_metric = r.metric;
    summary_.eval_extras = r.extras;
    stop_early_ = early_->observe(e, store());
    last_eval_ = step_;
  }

  // The full snapshots' coordinates, refused before the first step when a run's would be
  // too large for its log.
  void keep_full_snapshots(const RunConfig& c) {
    if (!trajectory_)
      throw ConfigError(
          "trajectory_full_every needs the trajectory: trajectory_directions > 0 and "
          "snapshot_every > 0");
    const int64_t m = trajectory_->keep_full(16384);
    const int64_t rows = total_ / c.trajectory_full_every + 1;
    const double mib = static_cast<double>(rows) * static_cast<double>(m) * 4.0 / (1 << 20);
    if (mib > 256.0) {
      const auto fewest = static_cast<int64_t>(std::ceil(
          static_cast<double>(total_) * static_cast<double>(m) * 4.0 / (256.0 * (1 << 20))));
      throw ConfigError("trajectory_full_every=" + std::to_string(c.trajectory_full_every) +
                        " keeps " + std::to_string(rows) + " snapshots of " + std::to_string(m) +
                        " values (" + std::to_string(std::lround(mib)) +
                        " MiB) in one run's log, over the 256 MiB limit: choose at least " +
                        std::to_string(fewest));
    }
    full_coordinates_ = m;
  }

  void publish_trajectory(bool full = false) {
    if (!trajectory_) return;
    const auto r = trajectory_->measure(step_, store().parameters(), full);
    if (r.coords.size() >= 2) path_xy_.emplace_back(r.coords[0], r.coords[1]);
    for (auto* o : observers_) o->on_trajectory(r);
  }

  // The loss on the fixed evaluation batch over an N × N grid in the plane of directions 1
  // and 2 through θ_T, centred at the end's plane coordinates; θ_T is restored after.
  // Abandoned (nothing reported) on a Stop.
  void compute_landscape() {
    const auto& d = trajectory_->direction_tensors();
    const auto& params = store().parameters();
    const auto end = trajectory_->measure(step_, params);
    LandscapeRecord rec;
    rec.step = step_;
    rec.center_x = rec.anchor_x = end.coords[0];
    rec.center_y = rec.anchor_y = end.coords[1];
    rec.half_width = c_.landscape_range > 0 ? c_.landscape_range
                                            : path_half_width(path_xy_, rec.center_x, rec.center_y);
    const auto batch = fixed_batch(*task_, eval_batch_, device_, &rec.examples);
    ProbeSteps steps;
    steps.cancelled = stop_requested_;
    if (landscape_grid(*task_, params, d[0], d[1], batch, c_.landscape_grid, rec, steps))
      for (auto* o : observers_) o->on_landscape(rec);
  }

  // The model the run ends with: parameters, then buffers, in model order (ParametersRecord).
  void publish_final_parameters() {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> flat;
    for (const auto& p : store().parameters())
      flat.push_back(p.detach().reshape({-1}).to(torch::kCPU, torch::kFloat));
    for (const auto& b : store().buffers())
      flat.push_back(b.detach().reshape({-1}).to(torch::kCPU, torch::kFloat));
    ParametersRecord rec;
    rec.step = step_;
    const auto all = torch::cat(flat).contiguous();
    rec.values.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    for (auto* o : observers_) o->on_final_parameters(rec);
  }

  void publish_snapshot() {
    snapshot_pending_ = false;
    if (const auto snap = opt_->snapshot())
      for (auto* o : observers_) o->on_snapshot(*snap);
  }

  RunConfig& c_;
  const std::vector<RunObserver*>& observers_;
  const int threads_;
  const torch::Device device_;
  std::unique_ptr<tasks::Task> task_;
  std::vector<optim::ParamGroup> groups_;
  std::optional<data::BatchStream> train_, meta_train_, meta_val_;
  int64_t total_ = 0, eval_batch_ = 0, step_ = 0, first_step_ = 0, last_eval_ = -1;
  std::unique_ptr<RunOptimizer> opt_;
  std::optional<EarlyStopping> early_;
  std::optional<Trajectory> trajectory_;
  World* world_ = nullptr;  // data-parallel: the process group (nullptr alone)
  double share_ = 1.0;      // this rank's part of the step's global batch
  std::function<torch::Tensor(const torch::Tensor&)> sync_sum_;  // SyncBatchNorm's sum
  int64_t full_coordinates_ = 0;                    // M of the full snapshots (0: none)
  std::vector<std::pair<double, double>> path_xy_;  // the path on directions 1, 2
  std::function<bool()> stop_requested_;
  optim::LrSchedule schedule_ = optim::LrSchedule::Constant;
  RunSummary summary_;
  Clock::time_point start_;
  nn::Ctx ctx_;  // the training steps' (dropout on, BatchNorm statistics updated)
  double step_ms_sum_ = 0.0;
  bool snapshot_pending_ = false, stop_early_ = false;
};

}  // namespace

Trainer::Trainer(RunConfig config, std::vector<RunObserver*> observers, RunControl* control)
    : config_(std::move(config)), observers_(std::move(observers)), control_(control) {}

RunSummary Trainer::run() {
  // In lockstep, setting up, each step and the finish happen in this run's turns; the
  // group is left however the run ends (an exception included).
  struct Turns {
    RunControl* control;
    ~Turns() {
      if (control) control->end();
    }
  } turns{control_};
  // Stopped while waiting for the first turn: the run is set up all the same (its log
  // opens) and ends at its first wait_turn, stopped.
  if (control_) control_->begin();
  TrainingRun run(config_, observers_);
  if (control_) run.cancel_evaluations_on_stop(*control_);
  while (run.more()) {
    if (!run.wait_turn(control_) || !run.train_step()) break;  // stopped, or diverged
    run.evaluate_when_due();
    run.checkpoint_when_due();
    if (run.stopping_early()) break;
  }
  return run.finish();
}

}  // namespace maw::train
