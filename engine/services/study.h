// Studies over seeds: compare (two optimizers, paired by seed) and sweep (a grid of
// settings per optimizer). The runs themselves go through Session, one after another
// (the CLI's `compare --seeds N` and `sweep --grid`, later the studio); this file turns
// their summaries and evaluation records into statistics (mean ± std, paired t-test, time
// ratios, time-to-target) as a JSON object and a text table. Torch-free.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "api/observer.h"
#include "api/records.h"

namespace maw {

// Every evaluation of one run, for best-so-far and time-to-target.
class EvalCollector : public RunObserver {
 public:
  void on_eval(const EvalRecord& r) override { evals.push_back(r); }
  std::vector<EvalRecord> evals;
};

struct SeedRun {
  RunSummary summary;
  std::vector<EvalRecord> evals;
  // The best evaluated metric (the last evaluation's when none came earlier).
  double best_metric() const;
};

// All runs of one optimizer (one entry per seed, in seed order).
struct OptimizerRuns {
  std::string optimizer;
  std::vector<SeedRun> runs;
};

// The compare study of two optimizers (a = the baseline, usually adamw).
nlohmann::ordered_json compare_study(const OptimizerRuns& a, const OptimizerRuns& b);
// A human-readable table of the same, for stderr.
std::string compare_table(const nlohmann::ordered_json& study);

// One sweep point: an optimizer, settings (key, value) and its runs over seeds.
struct SweepPoint {
  std::string optimizer;
  std::vector<std::pair<std::string, std::string>> settings;
  std::vector<SeedRun> runs;
};
nlohmann::ordered_json sweep_study(const std::vector<SweepPoint>& points);
std::string sweep_table(const nlohmann::ordered_json& study);

}  // namespace maw
