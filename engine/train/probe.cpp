// The probes after a run (api/probe.h): the run's model rebuilt from its log, started from
// the parameters it ended with, its directions drawn again and checked against the log's.
#include "api/probe.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/run_log_replay.h"
#include "api/session.h"
#include "optim/param_groups.h"
#include "tasks/task.h"
#include "train/landscape.h"
#include "train/trajectory.h"

namespace maw {
namespace {

// A finished run's model as it ended, rebuilt from its log.
class RunAtEnd {
 public:
  RunAtEnd(const std::string& log, int threads) : log_(log), reader_(std::in_place, log) {
    const RunLogReader& reader = *reader_;
    if (reader.status() == "running" && reader.writer_alive())
      throw DataError("run log '" + log + "' is still being written: probe it after its run");
    info_ = decode_run_info(reader);
    if (!reader.has("final/parameters") || reader.rows("final/parameters") == 0)
      throw DataError("run log '" + log +
                      "' holds no final parameters (a run before schema 5, one with "
                      "keep_final_parameters=false, or one that ended on an error): run it again "
                      "to probe it");
    config_.apply_json_text(reader.attribute("config"), "run log '" + log + "'");
    config_.resolve_preset();
    at::set_num_threads(threads > 0 ? threads : default_threads());
    device_ = train::resolve_device(config_.device);
    const torch::Dtype dtype = config_.dtype == "float64" ? torch::kDouble : torch::kFloat;
    torch::manual_seed(config_.seed);          // the run's initialization: θ_0, from which the
    task_ = tasks::make_task(config_, dtype);  // directions are drawn
    task_->model().store().to(device_);
    int64_t examples = 0;
    batch_.emplace(
        train::fixed_batch(*task_, std::max<int64_t>(config_.batch_size, 256), device_, &examples));
    examples_ = examples;
    final_ = unflatten(reader.read("final/parameters", 0, 1), log);
    step_ = static_cast<int64_t>(reader.read("final/step", 0, 1).at(0));
  }

  // The trajectory's plane as the run drew it (checked against the log's checksum).
  const train::Trajectory& plane() {
    if (!plane_) {
      if (info_.trajectory_directions < 2)
        throw DataError("run log '" + log_ +
                        "' has no trajectory plane (trajectory_directions < 2): no landscape");
      optim::GroupingSpec spec;
      spec.strategy = config_.groups;
      spec.rules = optim::GroupingSpec::parse_rules(config_.group_rules);
      const auto groups = optim::make_groups(store().info(), spec);
      plane_.emplace(store().parameters(), groups, static_cast<int>(info_.trajectory_directions),
                     config_.seed ^ train::kTrajectoryStream);
      const double want = info_.trajectory_checksum, got = plane_->checksum();
      if (!(std::abs(got - want) <= 1e-9 * std::max(1.0, std::abs(want))))
        throw DataError("run log '" + log_ +
                        "': the directions drawn again differ from the run's " + "(checksum " +
                        std::to_string(got) + " vs " + std::to_string(want) +
                        "): was it written by another build or LibTorch?");
    }
    return *plane_;
  }

  // The model set to what the run ended with (parameters and buffers).
  void to_end() {
    torch::NoGradGuard no_grad;
    const auto& p = store().parameters();
    for (size_t k = 0; k < p.size(); ++k) p[k].detach().copy_(final_.params[k]);
    auto& b = store().buffers();
    for (size_t k = 0; k < b.size(); ++k) b[k].copy_(final_.buffers[k]);
  }

  // A /final/parameters row (of this run's log or another's) as this model's state: the
  // parameters, then the buffers.
  train::ModelState unflatten(const std::vector<double>& values, const std::string& log) const {
    int64_t b_values = 0;
    for (const auto& b : store().buffers()) b_values += b.numel();
    if (static_cast<int64_t>(values.size()) != store().numel() + b_values)
      throw DataError("run log '" + log + "': its final model is " + std::to_string(values.size()) +
                      " values, this model has " + std::to_string(store().numel()) +
                      " parameters and " + std::to_string(b_values) + " buffer values");
    train::ModelState out;
    size_t at = 0;
    auto take = [&](const torch::Tensor& like) {
      const auto n = static_cast<int64_t>(like.numel());
      auto t = torch::from_blob(const_cast<double*>(values.data() + at), {n}, torch::kDouble)
                   .to(like.device(), like.scalar_type())
                   .reshape(like.sizes());
      at += static_cast<size_t>(n);
      return t;
    };
    for (const auto& p : store().parameters()) out.params.push_back(take(p));
    for (const auto& b : store().buffers()) out.buffers.push_back(take(b));
    return out;
  }

  nn::ParamStore& store() const { return task_->model().store(); }
  tasks::Task& task() { return *task_; }
  const data::Batch& batch() const { return *batch_; }
  const RunLogReader& reader() const { return *reader_; }
  // Before the log is written to (HDF5 opens a file once per process).
  void close_log() { reader_.reset(); }
  const RunInfo& info() const { return info_; }
  const RunConfig& config() const { return config_; }
  const train::ModelState& final_state() const { return final_; }
  int64_t step() const { return step_; }
  int64_t examples() const { return examples_; }

 private:
  std::string log_;
  std::optional<RunLogReader> reader_;
  RunInfo info_;
  RunConfig config_;
  torch::Device device_ = torch::kCPU;
  std::unique_ptr<tasks::Task> task_;
  std::optional<data::Batch> batch_;
  train::ModelState final_;
  int64_t step_ = 0, examples_ = 0;
  std::optional<train::Trajectory> plane_;
};

train::ProbeSteps steps_of(const ProbeControl& c) {
  return {c.cancelled, c.progress};
}

bool same(double a, double b) {
  return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b));
}

// The landscape the log holds, when it answers `want` (same centre, width and grid).
std::optional<LandscapeRecord> stored_landscape(const RunLogReader& r, const LandscapeRecord& want,
                                                int64_t grid) {
  const auto stored = stored_probes(r).landscape;
  if (!stored || static_cast<int64_t>(stored->loss.size()) != grid * grid) return std::nullopt;
  const auto& l = *stored;
  if (same(l.center_x, want.center_x) && same(l.center_y, want.center_y) &&
      same(l.half_width, want.half_width) && l.step == want.step)
    return l;
  return std::nullopt;
}

}  // namespace

LandscapeRecord probe_landscape(const std::string& log, const LandscapeRequest& request,
                                const ProbeControl& control, bool* cached) {
  if (request.grid < 2 || request.grid > 101)
    throw ConfigError("a landscape's grid is 2 to 101 points a side, not " +
                      std::to_string(request.grid));
  if (!(request.half_width >= 0) || !std::isfinite(request.half_width))
    throw ConfigError("a landscape's half-width is >= 0 (0: the path's extent)");
  if (!request.at_end && !(std::isfinite(request.center_x) && std::isfinite(request.center_y)))
    throw ConfigError("a landscape's centre must be finite");
  RunAtEnd run(log, request.threads);
  const auto& plane = run.plane();
  run.to_end();
  const auto end = plane.measure(run.step(), run.store().parameters());
  LandscapeRecord rec;
  rec.step = run.step();
  rec.anchor_x = end.coords[0];
  rec.anchor_y = end.coords[1];
  rec.center_x = request.at_end ? rec.anchor_x : request.center_x;
  rec.center_y = request.at_end ? rec.anchor_y : request.center_y;
  rec.examples = run.examples();
  if (request.half_width > 0) {
    rec.half_width = request.half_width;
  } else {  // the path's extent around the centre, from the log's trajectory
    const auto coords = run.reader().read("trajectory/coords");
    const auto k = static_cast<size_t>(run.info().trajectory_directions);
    std::vector<std::pair<double, double>> path;
    for (size_t i = 0; i + k <= coords.size(); i += k) path.emplace_back(coords[i], coords[i + 1]);
    path.emplace_back(rec.anchor_x, rec.anchor_y);
    rec.half_width = train::path_half_width(path, rec.center_x, rec.center_y);
  }
  if (auto s = stored_landscape(run.reader(), rec, request.grid)) {
    if (cached) *cached = true;
    return *s;
  }
  if (cached) *cached = false;
  const auto& d = plane.direction_tensors();
  if (!train::landscape_grid(run.task(), run.store().parameters(), d[0], d[1], run.batch(),
                             request.grid, rec, steps_of(control)))
    throw ProbeCancelled();
  run.close_log();
  store_landscape(log, rec);
  return rec;
}

InterpolationRecord probe_interpolation(const std::string& log, const std::string& other_log,
                                        int64_t points, const ProbeControl& control, int threads,
                                        bool* cached) {
  if (points < 3 || points > 1001)
    throw ConfigError("an interpolation has 3 to 1001 points, not " + std::to_string(points));
  RunAtEnd run(log, threads);
  const std::string other_name = std::filesystem::path(other_log).filename().string();
  const std::string name = std::filesystem::path(log).filename().string();
  std::vector<double> other_values;
  int64_t other_step = 0;
  RunInfo other_info;
  {
    RunLogReader o(other_log);
    if (o.status() == "running" && o.writer_alive())
      throw DataError("run log '" + other_log + "' is still being written: probe it after its run");
    other_info = decode_run_info(o);
    if (other_info.task != run.info().task || other_info.preset != run.info().preset ||
        other_info.num_parameters != run.info().num_parameters)
      throw DataError("runs of different models cannot be interpolated: '" + log + "' is " +
                      run.info().task + "/" + run.info().preset + " with " +
                      std::to_string(run.info().num_parameters) + " parameters, '" + other_log +
                      "' " + other_info.task + "/" + other_info.preset + " with " +
                      std::to_string(other_info.num_parameters));
    if (!o.has("final/parameters") || o.rows("final/parameters") == 0)
      throw DataError("run log '" + other_log +
                      "' holds no final parameters: run it again to probe it");
    other_values = o.read("final/parameters", 0, 1);
    other_step = static_cast<int64_t>(o.read("final/step", 0, 1).at(0));
  }
  const auto theta_b = run.unflatten(other_values, other_log);
  InterpolationRecord rec;
  rec.step = run.step();
  rec.other =
      other_name + " (" + other_info.optimizer + ", seed " + std::to_string(other_info.seed) + ")";
  rec.examples = run.examples();
  for (int64_t i = 0; i < points; ++i)
    rec.alpha.push_back(
        static_cast<float>(-0.5 + 2.0 * static_cast<double>(i) / static_cast<double>(points - 1)));
  {  // the log holds this line already
    const auto stored = stored_probes(run.reader()).interpolation;
    if (stored && stored->other == rec.other && stored->alpha == rec.alpha &&
        stored->step == rec.step) {
      if (cached) *cached = true;
      return *stored;
    }
  }
  if (cached) *cached = false;
  if (!train::interpolation_line(run.task(), run.final_state(), theta_b, run.batch(), rec,
                                 steps_of(control)))
    throw ProbeCancelled();
  run.close_log();
  store_interpolation(log, rec);
  // The other's view: a from itself, the same points reversed.
  InterpolationRecord back;
  back.step = other_step;
  back.other =
      name + " (" + run.info().optimizer + ", seed " + std::to_string(run.info().seed) + ")";
  back.examples = rec.examples;
  back.alpha = rec.alpha;  // symmetric about 1/2: the other's a_i is this one's 1 − a_(n−1−i)
  back.loss.assign(rec.loss.rbegin(), rec.loss.rend());
  store_interpolation(other_log, back);
  return rec;
}

}  // namespace maw
