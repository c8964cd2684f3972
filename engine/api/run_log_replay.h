// A run log, finished or growing, decoded back into the RunObserver calls the live run
// made (through the codec table, api/log_schema.h): the studio's loaded runs, the CLI's
// reads of a study's evaluations and the live runs all go through one set of records.
// Torch-free.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "api/observer.h"
#include "api/run_log_reader.h"

namespace maw {

// Where one replay of one log stands: a plain value, kept between calls.
struct ReplayCursor {
  bool started = false;                  // on_start was called
  bool finished = false;                 // on_finish or on_error was called: nothing more comes
  RunInfo info;                          // as on_start gave it
  std::map<std::string, uint64_t> rows;  // rows delivered per table folder
  int64_t last_step = 0;                 // of the last delivered record
  EvalRecord last_eval;                  // for the summary
  bool any_eval = false;
};

struct ReplayOptions {
  // Attention maps take L·H·G² floats each: only the newest that fit are decoded (the
  // others' snapshots arrive without maps), as the studio keeps them.
  size_t attention_budget_bytes = std::numeric_limits<size_t>::max();
  // Which tables to deliver (a reader that wants only the evaluations skips the rest).
  enum Table : unsigned {
    steps = 1,
    evals = 2,
    events = 4,
    snapshots = 8,
    meta = 16,
    trajectory = 32,
    all = 63
  };
  unsigned tables = all;
};

// The run's description from the log's attributes and lists (RunInfo).
RunInfo decode_run_info(const RunLogReader& r);

// Delivers to `observer` what the log holds beyond `cursor`, in the live run's order: the
// first call on_start; then per step on_step, on_meta_update, on_snapshot, on_eval,
// on_event; and once the log is finished (its status is not "running") on_finish with
// the summary it can give (status, message, steps, the last evaluation, meta-updates), or
// on_error when its status is "error". A log still being written delivers records up to
// the newest step it holds (later rows of the other tables wait for the next call); one
// whose writer died while "running" (interrupted) is delivered whole, without on_finish.
// Returns whether anything was delivered. Throws DataError for a log whose datasets do
// not have the shapes its run announced. The caller refreshes the reader between calls.
bool replay(const RunLogReader& r, ReplayCursor& cursor, RunObserver& observer,
            const ReplayOptions& options = {});

// The probes' results a finished log holds (api/probe.h): its landscape (end-of-run or a
// probe's) and its interpolation, each when present.
struct StoredProbes {
  std::optional<LandscapeRecord> landscape;
  std::optional<InterpolationRecord> interpolation;
};
StoredProbes stored_probes(const RunLogReader& r);

}  // namespace maw
