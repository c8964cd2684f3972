// What a run reports while it trains: plain values, no torch. Produced by the trainer on
// the engine thread and handed to every RunObserver (CLI progress, HDF5 log, studio).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "api/factors.h"
#include "api/names.h"

namespace maw {

// How a run ended (RunSummary) or stands (the log's `status` attribute: running while it
// trains; aborted when the process ended without a summary).
enum class RunStatus { running, completed, early_stopped, stopped, diverged, error, aborted };
MAW_ENUM_NAMES(RunStatus, {RunStatus::running, "running"}, {RunStatus::completed, "completed"},
               {RunStatus::early_stopped, "early_stopped"}, {RunStatus::stopped, "stopped"},
               {RunStatus::diverged, "diverged"}, {RunStatus::error, "error"},
               {RunStatus::aborted, "aborted"});
// A run that ended by itself (a study keeps it; stopped, error and aborted runs run again).
inline bool finished(RunStatus s) {
  return s == RunStatus::completed || s == RunStatus::early_stopped || s == RunStatus::diverged;
}

struct RunInfo {
  std::string task;
  std::string preset;
  std::string optimizer;
  uint64_t seed = 0;
  std::string device;
  int64_t threads = 0;
  int64_t total_steps = 0;
  int64_t steps_per_epoch = 0;
  int64_t num_parameters = 0;
  int64_t num_groups = 0;
  std::string metric_name;
  bool metric_higher_is_better = false;
  // What the run will report, known before the first step (the HDF5 log creates every
  // dataset up front: SWMR allows no new objects once a reader may follow the file).
  std::vector<std::string> group_names;                 // [G]
  std::vector<std::vector<std::string>> group_members;  // [G] tensor names per group
  std::vector<int64_t> group_sizes;                     // [G] parameters per group
  std::vector<std::vector<std::string>>
      group_shapes;                      // [G] member shapes: "64x3x3x3", "()" for 0-d
  std::vector<std::string> eval_extras;  // extra metric names ("bleu")
  // MetaAdamW only (empty / 0 otherwise): the modulator's input and shape.
  std::vector<std::string> feature_names;  // [F]
  int64_t modulator_layers = 0;            // L
  int64_t modulator_heads = 0;             // H
  int64_t snapshot_every = 0;              // steps between snapshots (0: none)
  int64_t attention_every = 0;             // steps between attention maps (0: none)
  // The modulator's design (`modulator_design`): "learning" (the default: identity start,
  // scale-free inputs, normalized head, Adam) or "paper" (the published design, which
  // saturates). Empty for AdamW.
  std::string modulator_design;
  // The bounds of the factors, for the saturation gauge and the plots: α ∈ [1 − r_α/2,
  // 1 + r_α/2], β likewise; λ ∈ [0, 1].
  double alpha_range = 0.0, beta_range = 0.0;
  // Convolutional tasks on a CPU: which kernels convolve, and why (nn/conv_check.h):
  // "onednn (passed a known-answer check)" or "native: …the failure…". Empty otherwise.
  std::string cpu_convolution;
  // The trajectory (TrajectoryRecord): K directions (0: not tracked) and a checksum of
  // them — runs with equal checksums share one plane (the same seed and initialization).
  int64_t trajectory_directions = 0;
  double trajectory_checksum = 0.0;
  int64_t trajectory_full_every = 0;        // steps between full snapshots (0: none)
  int64_t trajectory_full_coordinates = 0;  // M: their length
  int64_t landscape_grid = 0;               // N of the end-of-run landscape (0: none)
  // The parameters the run ends with are kept (ParametersRecord, keep_final_parameters).
  bool final_parameters = false;
  // Data-parallel (api/dist.h): the world's size (1 alone) and its c10d backend ("" alone).
  int64_t world_size = 1;
  std::string dist_backend;
  int64_t num_buffer_values = 0;  // B: the model's buffers' elements (BatchNorm statistics)
  // A finished log's linear interpolation to another run (InterpolationRecord): its points
  // (0: none). Set by the amendment that adds one, never by a run.
  int64_t interpolation_points = 0;
};

// One training step. Times in milliseconds; wall_time_s since the run started.
struct StepRecord {
  int64_t step = 0;  // 1-based: the number of optimizer steps done
  int64_t epoch = 0;
  double loss = 0.0;
  double lr = 0.0;
  double wall_time_s = 0.0;
  double forward_backward_ms = 0.0;
  double optimizer_ms = 0.0;
  double meta_ms = 0.0;
  double grad_norm = 0.0;  // ‖∇L‖₂ over every parameter's gradient, before the step
  // Data-parallel (api/dist.h; 0 in a world of one): this rank's all-reduce of the
  // gradients, and the slowest rank's forward and backward pass.
  double comm_ms = 0.0;
  double slowest_rank_ms = 0.0;
};

// Named extra metrics of an evaluation (translation: "bleu").
using Extras = std::vector<std::pair<std::string, double>>;

struct EvalRecord {
  int64_t step = 0;
  int64_t epoch = 0;
  double loss = 0.0;
  double metric = 0.0;
  double eval_ms = 0.0;
  double wall_time_s = 0.0;  // since the run started, when the evaluation finished
  Extras extras;
};

struct RunEvent {
  // Backpressure: the log writer's own (it dropped records to keep the run's pace).
  enum class Kind {
    Started,
    Paused,
    Resumed,
    Stopped,
    Diverged,
    EarlyStopped,
    Completed,
    Backpressure
  };
  Kind kind = Kind::Started;
  int64_t step = 0;
  std::string message;
};
MAW_ENUM_NAMES(RunEvent::Kind, {RunEvent::Kind::Started, "started"},
               {RunEvent::Kind::Paused, "paused"}, {RunEvent::Kind::Resumed, "resumed"},
               {RunEvent::Kind::Stopped, "stopped"}, {RunEvent::Kind::Diverged, "diverged"},
               {RunEvent::Kind::EarlyStopped, "early_stopped"},
               {RunEvent::Kind::Completed, "completed"},
               {RunEvent::Kind::Backpressure, "backpressure"});
const char* to_string(RunEvent::Kind kind);

// What MetaAdamW shows (METAADAMW.md §6), copied to the host in one transfer.
struct Snapshot {
  int64_t step = 0;
  int64_t groups = 0;                      // G
  int64_t features = 0;                    // F: the modulator's input width (padding included)
  int64_t layers = 0;                      // L
  int64_t heads = 0;                       // H
  std::vector<std::string> group_names;    // [G]
  std::vector<std::string> feature_names;  // [F]
  std::vector<float> feature_values;       // [G, F], row-major: what the modulator read
  std::vector<float> factors;              // [G, factor::count]: α, β, λ1, λ2
  std::vector<float> effective_lr;         // [G]: η·α
  std::vector<float> effective_wd;         // [G]: λ·β
  std::vector<float> attention;            // [L, H, G, G]; empty when not kept this step
};

// The run's path in parameter space (train/trajectory.h), every snapshot_every steps and
// at its first step, for every optimizer.
struct TrajectoryRecord {
  int64_t step = 0;
  std::vector<float> coords;  // [K]: ⟨θ_t − θ_0, d_k⟩ / ‖d_k‖², in units of d_k
  double distance = 0.0;      // ‖θ_t − θ_0‖₂ over every parameter
  std::vector<float> group_distance;  // [G]: the same per group
  // Every trajectory_full_every steps (else empty): θ_t − θ_0 at the run's M sampled
  // coordinates (every ⌈P / M⌉-th of the parameters in model order), for a joint PCA.
  std::vector<float> full;
};

// The loss landscape: the loss on a fixed evaluation batch (the evaluation split's first
// max(batch, 256) examples) at θ_T + (x − anchor_x)·d_1 + (y − anchor_y)·d_2, for x, y on an
// N × N grid of half-width `half_width` around (center_x, center_y) — the plane of
// directions 1 and 2 through the run's last point θ_T, whose own plane coordinates are
// (anchor_x, anchor_y). At the end of a run (landscape_grid) the grid is centred there;
// after it, a probe (api/probe.h) centres it on any point of the plane.
struct LandscapeRecord {
  int64_t step = 0;                       // the run's last step (θ_T's)
  double center_x = 0.0, center_y = 0.0;  // the grid's centre on directions 1 and 2
  double half_width = 0.0;                // in units of the directions
  int64_t examples = 0;                   // the batch's size
  std::vector<float> loss;                // [N × N], row-major: row = y (low to high)
  // θ_T on directions 1 and 2; NaN in a log before schema 5, whose grids are centred there.
  double anchor_x = std::numeric_limits<double>::quiet_NaN();
  double anchor_y = std::numeric_limits<double>::quiet_NaN();
  double anchor_or_center_x() const { return anchor_x == anchor_x ? anchor_x : center_x; }
  double anchor_or_center_y() const { return anchor_y == anchor_y ? anchor_y : center_y; }
};

// The model a run ends with (keep_final_parameters): its parameters in model order, then its
// buffers (BatchNorm's running statistics), each flattened row-major — early stopping's
// best when it restored one. The probes (api/probe.h) start from them after the run.
struct ParametersRecord {
  int64_t step = 0;           // the run's last step
  std::vector<float> values;  // [P + B]
};

// The loss along the line between two runs' final parameters (Goodfellow et al., 2015):
// θ(a) = (1 − a)·θ_this + a·θ_other, on the fixed evaluation batch of the landscape.
struct InterpolationRecord {
  int64_t step = 0;          // this run's last step
  std::string other;         // the other run's log (its file name) and label
  std::vector<float> alpha;  // [N]: a, 0 at this run, 1 at the other
  std::vector<float> loss;   // [N]
  int64_t examples = 0;      // the batch's size
};

// One meta-update (METAADAMW.md §5). Terms the objective does not use are NaN.
struct MetaUpdateRecord {
  int64_t step = 0;   // the training step it ran at
  int64_t index = 0;  // 1-based count of meta-updates
  double l_grad = 0.0;
  double l_dec = 0.0;
  double l_gap = 0.0;
  double total = 0.0;                   // the meta loss, regularizers included
  std::array<double, 3> huw_s{};        // log-variances s_i (0 without HUW)
  std::array<double, 3> huw_weights{};  // effective weights of the terms
  double meta_ms = 0.0;
  // Diagnostics (run-log schema v2; NaN where a log written before holds none, or where
  // the block does not exist in this run). The meta-gradient's L2 norm per block of
  // meta-parameters, before the meta-optimizer's step (kMetaGradBlocks names them).
  std::array<double, 8> grad_norm{};
  // Relative change of the modulator's parameters by this meta-update, ‖Δθ‖/‖θ before‖:
  // all of them, the encoder, the head (NaN when the part was 0 before: a zero-initialised
  // head's first update).
  std::array<double, 3> rel_change{};
  // Fraction of the G values of α, β, λ1, λ2 (as the meta-update's forward computed them)
  // within 1e-3 of a bound of their range: the saturation gauge.
  std::array<double, factor::count> at_bound{};
};

// Column names of MetaUpdateRecord's arrays (and of the run log's meta/ datasets).
// "group": the per-group meta-parameters (the enhanced features' embeddings, the learning
// design's offsets of α and β).
inline constexpr const char* kMetaGradBlocks[8] = {"encoder",      "head_alpha",   "head_beta",
                                                   "head_lambda1", "head_lambda2", "gates",
                                                   "group",        "huw_s"};
inline constexpr const char* kMetaChangeParts[3] = {"modulator", "encoder", "head"};
inline constexpr const auto& kFactorNames = factor::kNames;
// The meta-objective's terms (MetaUpdateRecord's l_grad, l_dec, l_gap; the HUW's columns).
inline constexpr const char* kMetaTerms[3] = {"l_grad", "l_dec", "l_gap"};

struct RunSummary {
  std::string task;
  std::string preset;
  std::string optimizer;
  uint64_t seed = 0;
  int64_t steps = 0;
  double final_train_loss = 0.0;
  double eval_loss = 0.0;
  double eval_metric = 0.0;
  Extras eval_extras;  // of the evaluation reported in eval_loss / eval_metric
  std::string metric_name;
  bool metric_higher_is_better = false;
  double naive_metric = 0.0;  // the task's naive baseline on the eval split
  std::string naive_name;     // what that baseline is
  double wall_time_s = 0.0;
  double mean_step_ms = 0.0;
  int64_t meta_updates = 0;
  RunStatus status = RunStatus::completed;
  std::string message;  // why, when status is not completed
  std::string device;
  int64_t threads = 0;
  int64_t num_parameters = 0;
  int64_t num_groups = 0;
  int64_t best_step = 0;      // early stopping: the evaluation step with the best monitor
  double best_monitor = 0.0;  // and its value
  // The final model on the validation split (the task's meta-validation split, held out
  // from training like the evaluation split, but never reported as the result): what a
  // sweep chooses settings by. NaN when the run diverged.
  double val_loss = std::numeric_limits<double>::quiet_NaN();
  double val_metric = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace maw
