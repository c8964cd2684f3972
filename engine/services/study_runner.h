// The one study runner: a plan of runs (seed × optimizer for compare, optimizer × grid
// point × seed for sweep), run one after another through Session on the calling thread,
// with the log naming every study uses. The CLI (train, compare, sweep, the protocol's
// phases) and the studio's engine thread both run their runs through it; what differs —
// progress output or the GUI's bridge, a study index that reads finished runs back — comes
// in as hooks. Torch-free.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "api/run_config.h"
#include "services/study.h"

namespace maw {

class Session;

// A grid point's settings, (key, value) in the grid's order.
using Settings = std::vector<std::pair<std::string, std::string>>;

struct PlannedRun {
  RunConfig config;   // the base with the run's optimizer, seed and settings set
  Settings settings;  // the grid point (empty in a compare)
};

// Compare: each seed (base.seed, base.seed + 1, …) under each optimizer, seed-major so that
// a pair is complete before the next seed starts; `overrides`: keys set for one
// optimizer's runs only (e.g. an η tuned for MetaAdamW). Throws ConfigError for a bad value.
std::vector<PlannedRun> compare_plan(const RunConfig& base,
                                     const std::vector<std::string>& optimizers, int64_t seeds,
                                     const std::map<std::string, Settings>& overrides = {});
// Sweep: per optimizer, per point of the grid's cartesian product (the first key varies
// slowest), each seed.
std::vector<PlannedRun> sweep_plan(
    const RunConfig& base, const std::vector<std::string>& optimizers,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& grid, int64_t seeds);

// A run's log file name: OPTIMIZER[-key=value…]-seedN.h5 (characters outside
// [A-Za-z0-9-_=.] become '_').
std::string run_log_name(const std::string& optimizer, uint64_t seed, const Settings& settings);
// DIR/NAME, or NAME with -2, -3, … before ".h5" when that file exists (a re-run never
// replaces an earlier one's log).
std::string free_log_path(const std::string& dir, const std::string& name);

class StudyRunner {
 public:
  struct Hooks {
    // Where run i logs; "" (or no hook): no log.
    std::function<std::string(size_t i, const PlannedRun&)> log_path;
    // A study that continues: fill *out and return true when run i finished before (it is
    // not run again).
    std::function<bool(size_t i, const PlannedRun&, const std::string& log, SeedRun* out)>
        read_back;
    // More observers for run i (progress, the studio's bridge); they must outlive the run.
    std::function<void(size_t i, Session&)> attach;
    std::function<void(size_t i, const std::string& log)> started;
    // After each run, read back or run (the run's evaluations beside its summary).
    std::function<void(size_t i, const PlannedRun&, const std::string& log, const SeedRun&)>
        finished;
    bool overwrite_logs = false;  // the log writer may replace an existing file
    // The plan's consecutive runs of one seed (a compare plan's optimizers, up to
    // kMaxLockstep) train together, a step each in turn, each on its own thread (Lockstep,
    // api/session.h): their curves grow side by side, their numbers equal the runs alone.
    // The hooks are still called on the calling thread; the observers they attach are
    // called on the run's thread.
    bool lockstep = false;
  };
  static constexpr size_t kMaxLockstep = 4;

  // Runs `plan` in order (in lockstep: group by group) until its end or stop(); returns the
  // runs done, in plan order (a prefix of the plan). A run that throws (bad data, a log that cannot
  // be written) ends the study: the exception propagates, with failed_index() naming the run.
  std::vector<SeedRun> run(const std::vector<PlannedRun>& plan, const Hooks& hooks);

  // From any thread; stop() also from a signal handler (atomic stores only): the current
  // run stops within a step, no further run starts — until rearm().
  void stop();
  bool stopped() const { return stop_.load(); }
  void rearm() { stop_.store(false); }
  void pause();  // holds the current run, and the next ones as they start, until resume()
  void resume();
  void step_once();  // while paused: one step of the current run (of each, in lockstep)
  size_t failed_index() const { return failed_; }

 private:
  // Runs plan[begin, end) — one run, or a lockstep group — appending to `done`.
  void run_group(const std::vector<PlannedRun>& plan, size_t begin, size_t end, const Hooks& hooks,
                 std::vector<SeedRun>& done);
  void set_current(size_t slot, Session* s);
  std::atomic<bool> stop_{false};
  std::array<std::atomic<Session*>, kMaxLockstep> current_{};  // the runs training now
  std::mutex mu_;                                              // pause state and current_'s changes
  bool paused_ = false;
  size_t failed_ = 0;
};

}  // namespace maw
