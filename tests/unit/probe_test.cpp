// The probes after a run (api/probe.h), checked against the trainer's own end-of-run
// landscape — computed in the run's process on its live model — and against each other:
// the probe rebuilds the model from the log, so agreement tests the final parameters, the
// directions drawn again and the fixed batch.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "api/errors.h"
#include "api/probe.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/run_log_replay.h"
#include "data/datasets.h"
#include "log_fixtures.h"

namespace maw {
namespace {

using testing::temp_path;

struct Last : RunObserver {
  RunInfo info;
  std::optional<LandscapeRecord> landscape;
  std::optional<InterpolationRecord> line;
  std::vector<ParametersRecord> finals;
  void on_start(const RunInfo& i) override { info = i; }
  void on_landscape(const LandscapeRecord& r) override { landscape = r; }
  void on_interpolation(const InterpolationRecord& r) override { line = r; }
  void on_final_parameters(const ParametersRecord& r) override { finals.push_back(r); }
};

Last replayed(const std::string& path) {
  Last last;
  RunLogReader r(path);
  ReplayCursor cursor;
  replay(r, cursor, last);
  return last;
}

// A 20-step run of the synthetic task's tiny preset with its end-of-run landscape: a 3 × 3
// grid of half-width 0.5 (points at −0.5, 0, 0.5 from the end on each direction).
RunConfig small_run(const std::string& optimizer) {
  RunConfig c;
  c.set("preset", "tiny");
  c.set("device", "cpu");
  c.set("threads", "1");
  c.set("steps", "20");
  c.set("snapshot_every", "5");
  c.set("meta_update_freq", "10");
  c.set("optimizer", optimizer);
  c.set("landscape_grid", "3");
  c.set("landscape_range", "0.5");
  return c;
}

float at(const LandscapeRecord& l, int64_t n, int64_t row, int64_t col) {
  return l.loss[static_cast<size_t>(row * n + col)];
}

// The run's own end-of-run landscape (3 × 3, half-width 0.5) against the probes' from its log.
// `own`: the run's own landscape.
void check_landscape_from_log(const RunConfig& c, const std::string& log,
                              LandscapeRecord* own_out = nullptr) {
  Last live;
  testing::run_logged(c, log, &live);
  ASSERT_TRUE(live.landscape);
  ASSERT_EQ(live.finals.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(live.finals[0].values.size()),
            live.info.num_parameters + live.info.num_buffer_values);
  EXPECT_TRUE(live.info.final_parameters);
  const LandscapeRecord own = *live.landscape;
  if (own_out) *own_out = own;

  // The same request: answered from the log, nothing computed.
  LandscapeRequest same;
  same.grid = 3;
  same.half_width = 0.5;
  bool cached = false;
  const auto again = probe_landscape(log, same, {}, &cached);
  EXPECT_TRUE(cached);
  EXPECT_EQ(again.loss, own.loss);

  // A 5 × 5 grid of the same half-width holds the 3 × 3 one at its even rows and columns.
  LandscapeRequest five = same;
  five.grid = 5;
  int64_t reported = 0;
  ProbeControl control;
  control.progress = [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, 25);
    reported = done;
  };
  const auto l5 = probe_landscape(log, five, control, &cached);
  EXPECT_FALSE(cached);
  EXPECT_EQ(reported, 25);
  ASSERT_EQ(l5.loss.size(), 25u);
  EXPECT_DOUBLE_EQ(l5.anchor_x, own.center_x);
  EXPECT_DOUBLE_EQ(l5.anchor_y, own.center_y);
  EXPECT_EQ(l5.examples, own.examples);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j)
      EXPECT_NEAR(at(l5, 5, 2 * i, 2 * j), at(own, 3, i, j), 1e-5 * std::abs(at(own, 3, i, j)))
          << "row " << i << ", column " << j;

  // Stored: the log now replays the 5 × 5 grid (its landscape_grid follows).
  const auto back = replayed(log);
  EXPECT_EQ(back.info.landscape_grid, 5);
  ASSERT_TRUE(back.landscape);
  EXPECT_EQ(back.landscape->loss, l5.loss);

  // Centred elsewhere on the plane: a 3 × 3 grid of half-width 0.25 around the end moved
  // by +0.25 on direction 1 lies on the 5 × 5 grid's points (its middle row: columns 2–4).
  LandscapeRequest moved;
  moved.grid = 3;
  moved.half_width = 0.25;
  moved.at_end = false;
  moved.center_x = own.center_x + 0.25;
  moved.center_y = own.center_y;
  const auto lm = probe_landscape(log, moved);
  EXPECT_DOUBLE_EQ(lm.center_x, moved.center_x);
  EXPECT_DOUBLE_EQ(lm.anchor_x, own.center_x);
  for (int64_t j = 0; j < 3; ++j)
    EXPECT_NEAR(at(lm, 3, 1, j), at(l5, 5, 2, 2 + j), 1e-5 * std::abs(at(l5, 5, 2, 2 + j)));
}

TEST(Probe, TheLandscapeFromTheLogEqualsTheRunsOwn) {
  const std::string log = temp_path("probe_metaadamw.h5");
  check_landscape_from_log(small_run("metaadamw"), log);
  std::remove(log.c_str());
}

// A model with BatchNorm: its running statistics are part of the final model (without
// them the rebuilt model evaluates at the initialization's statistics: loss ≈ ln 10).
TEST(Probe, TheLandscapeOfABatchNormModelKeepsItsStatistics) {
  if (!find_dataset("fashion-mnist", resolve_data_dir()).present)
    GTEST_SKIP() << "Fashion-MNIST not installed: " << fetch_command("fashion-mnist");
  auto c = small_run("adamw");
  c.set("task", "image");
  c.set("steps", "10");
  c.set("snapshot_every", "2");
  const std::string log = temp_path("probe_image.h5");
  LandscapeRecord l;
  check_landscape_from_log(c, log, &l);
  ASSERT_EQ(l.loss.size(), 9u);
  // The line from the run to itself: flat at its final model's loss, statistics included.
  const float own = at(l, 3, 1, 1);
  const auto line = probe_interpolation(log, log, 5, {}, 1);
  for (float v : line.loss) EXPECT_NEAR(v, own, 1e-5 * std::abs(own));
  std::remove(log.c_str());
}

TEST(Probe, TheInterpolationEndsAtBothRunsAndIsStoredInBoth) {
  const std::string a = temp_path("probe_a.h5"), b = temp_path("probe_b.h5");
  Last la, lb;
  testing::run_logged(small_run("adamw"), a, &la);
  testing::run_logged(small_run("metaadamw"), b, &lb);
  ASSERT_TRUE(la.landscape && lb.landscape);
  const float loss_a = at(*la.landscape, 3, 1, 1), loss_b = at(*lb.landscape, 3, 1, 1);
  EXPECT_NE(loss_a, loss_b);

  bool cached = true;
  const auto line = probe_interpolation(a, b, 5, {}, 1, &cached);
  EXPECT_FALSE(cached);
  ASSERT_EQ(line.alpha, (std::vector<float>{-0.5f, 0.0f, 0.5f, 1.0f, 1.5f}));
  ASSERT_EQ(line.loss.size(), 5u);
  // At a = 0 and 1 the runs' own final models: their landscapes' centres.
  EXPECT_NEAR(line.loss[1], loss_a, 1e-5 * std::abs(loss_a));
  EXPECT_NEAR(line.loss[3], loss_b, 1e-5 * std::abs(loss_b));
  EXPECT_NE(line.other.find("probe_b.h5 (metaadamw, seed"), std::string::npos) << line.other;

  // Each log holds the line from itself: B's is A's reversed.
  const auto ra = replayed(a), rb = replayed(b);
  ASSERT_TRUE(ra.line && rb.line);
  EXPECT_EQ(ra.line->loss, line.loss);
  EXPECT_EQ(rb.line->alpha, line.alpha);
  EXPECT_EQ(rb.line->loss, std::vector<float>(line.loss.rbegin(), line.loss.rend()));
  EXPECT_EQ(rb.info.interpolation_points, 5);
  EXPECT_NE(rb.line->other.find("probe_a.h5 (adamw"), std::string::npos);
  probe_interpolation(a, b, 5, {}, 1, &cached);
  EXPECT_TRUE(cached);
  std::remove(a.c_str());
  std::remove(b.c_str());
}

TEST(Probe, WhatCannotBeProbedIsRefusedAndACancelStoresNothing) {
  const std::string log = temp_path("probe_refused.h5");
  auto c = small_run("adamw");
  c.set("keep_final_parameters", "false");
  testing::run_logged(c, log, nullptr);
  EXPECT_FALSE(RunLogReader(log).has("final/parameters"));
  try {
    probe_landscape(log, {});
    ADD_FAILURE() << "probed a log without final parameters";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("no final parameters"), std::string::npos) << e.what();
  }

  const std::string kept = temp_path("probe_kept.h5");
  Last live;
  testing::run_logged(small_run("adamw"), kept, &live);
  LandscapeRequest bad;
  bad.grid = 1;
  EXPECT_THROW(probe_landscape(kept, bad), ConfigError);
  EXPECT_THROW(probe_interpolation(kept, kept, 2), ConfigError);
  // Another model: refused by name.
  auto other = small_run("adamw");
  other.set("task", "forecasting");
  other.set("landscape_grid", "0");
  const std::string foreign_model = temp_path("probe_forecasting.h5");
  testing::run_logged(other, foreign_model, nullptr);
  EXPECT_THROW(probe_interpolation(kept, foreign_model, 5), DataError);
  // Not a run log.
  const std::string junk = temp_path("probe_junk.h5");
  std::ofstream(junk) << "not hdf5";
  EXPECT_THROW(probe_landscape(junk, {}), DataError);
  EXPECT_THROW(store_landscape(junk, *live.landscape), DataError);

  // Cancelled after 4 points: ProbeCancelled, the log keeps its landscape.
  LandscapeRequest five;
  five.grid = 5;
  ProbeControl control;
  int64_t done = 0;
  control.progress = [&](int64_t d, int64_t) { done = d; };
  control.cancelled = [&] { return done >= 4; };
  EXPECT_THROW(probe_landscape(kept, five, control), ProbeCancelled);
  EXPECT_EQ(done, 4);
  const auto back = replayed(kept);
  EXPECT_EQ(back.info.landscape_grid, 3);
  ASSERT_TRUE(back.landscape);
  EXPECT_EQ(back.landscape->loss, live.landscape->loss);
  for (const auto& f : {log, kept, foreign_model, junk}) std::remove(f.c_str());
}

}  // namespace
}  // namespace maw
