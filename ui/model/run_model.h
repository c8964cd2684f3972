// Everything the studio shows about one run, live or loaded (ARCHITECTURE.md: "plots read
// SeriesStore only: a live run and a loaded file look the same to the UI"). Filled from
// the engine's records — by the UiBridge for a live run, by LogFollower for a file — and
// bounded in memory: traces decimate, attention keeps the newest maps.
// Plain C++ (no Qt, no torch).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/observer.h"
#include "api/records.h"
#include "model/trace.h"

namespace maw::ui {

// The newest attention maps [L, H, G, G] with their steps, up to a memory budget.
class AttentionMaps {
 public:
  explicit AttentionMaps(size_t budget_bytes = 64u << 20) : budget_(budget_bytes) {}
  size_t budget() const { return budget_; }
  void shape(int64_t layers, int64_t heads, int64_t groups);
  void add(int64_t step, std::vector<float> maps);  // ignored unless [L, H, G, G]
  size_t size() const { return steps_.size(); }
  const std::deque<int64_t>& steps() const { return steps_; }
  int64_t layers() const { return layers_; }
  int64_t heads() const { return heads_; }
  int64_t groups() const { return groups_; }
  // The G×G map of one layer and head at held index i (row = query group), or {}.
  std::vector<float> map(size_t i, int64_t layer, int64_t head) const;
  // The held index whose step is nearest to `step` (for the scrubber); -1 when empty.
  int64_t nearest(int64_t step) const;

 private:
  size_t budget_;
  int64_t layers_ = 0, heads_ = 0, groups_ = 0;
  std::deque<int64_t> steps_;
  std::deque<std::vector<float>> maps_;
};

// The run's path on its trajectory plane (TrajectoryRecord), every point's K coordinates
// together (Trace's min/max decimation would pair one direction's point with another's):
// past `capacity` points every second one goes, the newest always kept.
class TrajectoryPath {
 public:
  explicit TrajectoryPath(size_t capacity = 4096) : capacity_(capacity) {}
  void add(int64_t step, const std::vector<float>& coords);
  size_t size() const { return steps_.size(); }
  const std::vector<int64_t>& steps() const { return steps_; }
  // Point i's coordinate on direction k (NaN beyond the run's K).
  double at(size_t i, size_t k) const;
  size_t directions() const { return k_; }

 private:
  size_t capacity_, k_ = 0;
  std::vector<int64_t> steps_;
  std::vector<float> coords_;  // [point][K]
};

struct RunEventEntry {
  int64_t step = 0;
  std::string kind, message;
};

// One run as the studio shows it. A RunObserver fed on the GUI thread only: by the bridge
// from a live run, or by replay() from a log (LogFollower) — the same calls either way.
class RunModel : public RunObserver {
 public:
  RunModel(std::string id, size_t trace_capacity = 16384);
  RunModel(const RunModel&) = delete;
  RunModel& operator=(const RunModel&) = delete;

  void on_start(const RunInfo& info) override;
  void on_step(const StepRecord& r) override;
  void on_eval(const EvalRecord& r) override;
  void on_snapshot(const Snapshot& s) override;
  void on_meta_update(const MetaUpdateRecord& r) override;
  void on_trajectory(const TrajectoryRecord& r) override;
  void on_landscape(const LandscapeRecord& r) override { landscape = r; }
  void on_interpolation(const InterpolationRecord& r) override { interpolation = r; }
  void on_event(const RunEvent& e) override;
  // The final status, and the summary's message (why it stopped) as an event.
  void on_finish(const RunSummary& s) override;
  void on_error(const std::string& message) override;

  const std::string& id() const { return id_; }
  std::string label() const;  // "metaadamw (learning) · seed 0", "… · seed 0 · #2"
  // The studio's Start this live run came from (1, 2, …); 0 for a log.
  int start() const { return start_; }
  void set_start(int n) { start_ = n; }
  // The runs whose seeds make one mean ± band: the variant, per Start ("adamw · #2").
  std::string series() const;
  // What the run compares as: the optimizer, with MetaAdamW's design when known
  // ("adamw", "metaadamw (paper)"): curves and seed bands keep the designs apart.
  std::string variant() const;
  const RunInfo& info() const { return info_; }
  const std::string& status() const { return status_; }
  void set_status(const std::string& s) { status_ = s; }
  bool metaadamw() const { return !info_.feature_names.empty(); }
  int64_t groups() const { return static_cast<int64_t>(info_.group_names.size()); }

  // Per step (x: step or wall time through Trace::walls): one trace per float64 column of
  // the codec's steps table (api/log_schema.h) — "loss", "lr", "forward_backward_ms", … —
  // filled from the record by the codec itself, so that a per-step value added there
  // reaches the model (and a panel asking for it) with no change here.
  const Trace& step_series(const std::string& column) const;
  const std::map<std::string, Trace>& step_series() const { return step_series_; }

 private:
  std::map<std::string, Trace> step_series_;  // before the references below

 public:
  Trace& train_loss;  // step_series("loss")
  Trace& lr;          // step_series("lr"): the scheduled learning rate η
  // Per evaluation.
  Trace eval_loss, eval_metric;
  std::map<std::string, Trace> eval_extras;
  // Per snapshot, per group g: α, β, λ1, λ2, effective lr and wd, and feature f.
  std::vector<std::array<Trace, factor::count>> factors;  // [G][factor::Index]
  std::vector<Trace> effective_lr, effective_wd;          // [G]
  std::vector<std::vector<Trace>> features;               // [G][F]
  AttentionMaps attention;
  // Per meta-update.
  Trace l_grad, l_dec, l_gap, meta_total, meta_ms;
  std::array<Trace, 3> huw_s, huw_weights;
  // Diagnostics (run-log schema v2; NaN in older logs, and for blocks a run lacks):
  // the meta-gradient's norm per block (kMetaGradBlocks), the modulator's relative change
  // (kMetaChangeParts), the fraction of groups at a bound of α, β, λ1, λ2 (kFactorNames).
  std::array<Trace, std::size(kMetaGradBlocks)> grad_norm;
  std::array<Trace, std::size(kMetaChangeParts)> rel_change;
  std::array<Trace, std::size(kFactorNames)> at_bound;
  // The trajectory (run-log schema v4, every optimizer): the path on the plane, ‖θ_t − θ_0‖
  // overall and per group [G].
  TrajectoryPath path;
  Trace distance;
  std::vector<Trace> group_distance;
  // The loss landscape (landscape_grid at the end of the run, or a probe's after it).
  std::optional<LandscapeRecord> landscape;
  // The loss along the line to another run's final parameters (a probe's, api/probe.h).
  std::optional<InterpolationRecord> interpolation;
  // The run's log file ("" while unknown, or when the run logs nowhere).
  std::string log_path;
  std::vector<RunEventEntry> events;

 private:
  int start_ = 0;
  void size_groups(size_t groups, size_t features);
  std::string id_;
  size_t capacity_;
  RunInfo info_;
  std::string status_ = "starting";
  double last_wall_ = 0.0;  // evals and snapshots take the wall time of the last step
};

// One group's modulation averaged over the snapshots in a step range: the Modulation
// panel's table ("which layers got a larger learning rate?").
struct GroupMeans {
  double alpha = 0, beta = 0;                 // mean α, β
  double effective_lr = 0, effective_wd = 0;  // mean η·α, λ·β
  // mean η·α / mean reference η over the same snapshots: the reference is another run's
  // learning rate (AdamW's) read at the snapshots' steps, or this run's own η = (η·α)/α.
  double lr_ratio = 0;
  size_t snapshots = 0;  // held snapshot points averaged (all values NaN when 0)
};

// Per group of `m`, over snapshots with lo <= step <= hi (all of them when hi <= lo).
// `reference_lr`: a per-step learning-rate trace (RunModel::lr of an AdamW run), linearly
// interpolated at the snapshots' steps; null: the run's own η. Non-finite values are
// skipped; decimated traces average their held (min, max) points.
std::vector<GroupMeans> group_means(const RunModel& m, double lo, double hi,
                                    const Trace* reference_lr = nullptr);

}  // namespace maw::ui
