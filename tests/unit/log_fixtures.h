// The MetaAdamW run the log tests record: the synthetic task's tiny preset, one thread,
// a meta-update every 10 steps, the cadences each test needs; and a log made to look as
// schema v1 wrote it.
#pragma once

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <string>

#include "api/run_config.h"
#include "api/run_log.h"
#include "api/session.h"

namespace maw::testing {

// A file name in the test temp folder, unique to this process.
inline std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "maw_" + std::to_string(::getpid()) + "_" + name;
}

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
  auto log = make_run_log_writer(path, session.config(), /*overwrite=*/true);
  if (observer) session.add_observer(observer);
  session.add_observer(log.get());
  return session.run();
}

// Rewrites a finished schema-v2 log at `path` as schema v1 wrote it: without the
// datasets and root attributes v2 added (docs/LOG_FORMAT.md, "Schema versions"), and
// schema_version 1. Returns false when HDF5 refuses a step.
inline bool downgrade_to_schema_v1(const std::string& path) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) return false;
  const hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
  bool ok = root >= 0;
  if (ok && H5Lexists(root, "meta", H5P_DEFAULT) > 0)
    for (const char* d : {"meta/grad_norm", "meta/rel_change", "meta/at_bound"})
      if (H5Lexists(root, d, H5P_DEFAULT) > 0) ok = H5Ldelete(root, d, H5P_DEFAULT) >= 0 && ok;
  for (const char* a : {"modulator_design", "alpha_range", "beta_range"})
    if (ok && H5Aexists(root, a) > 0) ok = H5Adelete(root, a) >= 0;
  const hid_t version = ok ? H5Aopen(root, "schema_version", H5P_DEFAULT) : -1;
  const int one = 1;
  ok = version >= 0 && H5Awrite(version, H5T_NATIVE_INT, &one) >= 0;
  if (version >= 0) H5Aclose(version);
  if (root >= 0) H5Gclose(root);
  return H5Fclose(file) >= 0 && ok;
}

}  // namespace maw::testing
