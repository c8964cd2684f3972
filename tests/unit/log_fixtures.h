// The MetaAdamW run the log tests record: the synthetic task's tiny preset, one thread,
// a meta-update every 10 steps, the cadences each test needs.
#pragma once

#include <string>

#include "api/run_config.h"
#include "api/run_log.h"
#include "api/session.h"

namespace maw::testing {

inline RunConfig logged_metaadamw_config(int steps, int eval_every, int snapshot_every,
                                         int attention_every = 10) {
  RunConfig c;
  c.set("task", "synthetic");
  c.set("preset", "tiny");
  c.set("optimizer", "metaadamw");
  c.set("steps", std::to_string(steps));
  c.set("eval_every", std::to_string(eval_every));
  c.set("snapshot_every", std::to_string(snapshot_every));
  c.set("attention_every", std::to_string(attention_every));
  c.set("meta_update_freq", "10");
  c.set("threads", "1");
  return c;
}

// Runs `c` with `observer` and a log writer to `path`; returns the summary.
inline RunSummary run_logged(const RunConfig& c, const std::string& path, RunObserver* observer) {
  Session session(c);
  auto log = make_run_log_writer(path, session.config());
  if (observer) session.add_observer(observer);
  session.add_observer(log.get());
  return session.run();
}

}  // namespace maw::testing
