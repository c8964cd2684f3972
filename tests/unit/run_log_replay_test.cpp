// replay(): a log back into the observer calls its run made, in the run's order, from a
// growing file a piece at a time (no record twice, none lost), and the summary once.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/run_log_replay.h"
#include "log_fixtures.h"

namespace maw {
namespace {

// Every observer call as one line.
class Recorder : public RunObserver {
 public:
  std::vector<std::string> calls;
  void on_start(const RunInfo& i) override { calls.push_back("start " + i.task); }
  void on_step(const StepRecord& r) override {
    calls.push_back("step " + std::to_string(r.step) + " " + std::to_string(r.loss));
  }
  void on_eval(const EvalRecord& r) override {
    std::string x;
    for (const auto& [n, v] : r.extras) x += " " + n + "=" + std::to_string(v);
    calls.push_back("eval " + std::to_string(r.step) + " " + std::to_string(r.metric) + x);
  }
  void on_snapshot(const Snapshot& s) override {
    calls.push_back("snapshot " + std::to_string(s.step) + " " + std::to_string(s.factors[1]) +
                    (s.attention.empty() ? "" : " maps " + std::to_string(s.attention[3])));
  }
  void on_meta_update(const MetaUpdateRecord& r) override {
    calls.push_back("meta " + std::to_string(r.step) + " " + std::to_string(r.grad_norm[2]));
  }
  void on_trajectory(const TrajectoryRecord& r) override {
    calls.push_back("trajectory " + std::to_string(r.step) + " " + std::to_string(r.coords.at(1)) +
                    " " + std::to_string(r.distance) + " " +
                    std::to_string(r.group_distance.at(1)));
  }
  void on_event(const RunEvent& e) override {
    calls.push_back(std::string("event ") + name_of(e.kind) + " " + std::to_string(e.step) + " " +
                    e.message);
  }
  void on_finish(const RunSummary& s) override {
    calls.push_back(std::string("finish ") + name_of(s.status) + " " + std::to_string(s.steps) +
                    " " + std::to_string(s.meta_updates) + " " + s.message);
  }
  void on_error(const std::string& m) override { calls.push_back("error " + m); }
};

// A MetaAdamW-shaped run: 2 groups, 3 features, a 1-layer 2-head modulator.
RunInfo meta_run() {
  RunInfo i;
  i.task = "synthetic";
  i.optimizer = "metaadamw";
  i.total_steps = 20;
  i.group_names = {"a", "b"};
  i.group_members = {{"a.w"}, {"b.w"}};
  i.group_sizes = {4, 2};
  i.eval_extras = {"bleu"};
  i.feature_names = {"f0", "f1", "f2"};
  i.modulator_layers = 1;
  i.modulator_heads = 2;
  i.snapshot_every = 1;
  i.attention_every = 2;
  i.modulator_design = "learning";
  i.trajectory_directions = 2;
  i.trajectory_checksum = 12.5;
  return i;
}

// Step t as a live MetaAdamW run reports it: step, meta-update (every 5), snapshot (maps
// every 2), evaluation (every 5); to the writer and, as expected, to `want`.
void live_step(RunObserver& w, Recorder& want, int64_t t) {
  const StepRecord step{t, 0, 1.0 / static_cast<double>(t), 0.01};
  w.on_step(step);
  want.on_step(step);
  if (t % 5 == 0) {
    MetaUpdateRecord m;
    m.step = t;
    m.index = t / 5;
    m.grad_norm[2] = 0.5 * static_cast<double>(t);
    w.on_meta_update(m);
    want.on_meta_update(m);
  }
  Snapshot s;
  s.step = t;
  s.groups = 2;
  s.features = 3;
  s.layers = 1;
  s.heads = 2;
  s.feature_values.assign(6, 0.25f);
  s.factors = {1.0f, 0.001f * static_cast<float>(t), 0.5f, 0.5f, 1.0f, 1.0f, 0.5f, 0.5f};
  s.effective_lr = {0.01f, 0.01f};
  s.effective_wd = {0.1f, 0.1f};
  if (t % 2 == 0) s.attention.assign(8, 0.125f * static_cast<float>(t % 7));
  w.on_snapshot(s);
  want.on_snapshot(s);
  const TrajectoryRecord p{t,
                           {0.5f * static_cast<float>(t), -0.25f * static_cast<float>(t)},
                           2.0 * static_cast<double>(t),
                           {1.0f, 3.0f * static_cast<float>(t)},
                           {}};
  w.on_trajectory(p);
  want.on_trajectory(p);
  if (t % 5 == 0) {
    const EvalRecord e{t,
                       0,
                       0.5,
                       0.1 * static_cast<double>(t),
                       1.0,
                       0.1 * static_cast<double>(t),
                       {{"bleu", static_cast<double>(t)}}};
    w.on_eval(e);
    want.on_eval(e);
  }
}

TEST(Replay, AGrowingLogArrivesInTheRunsOrderOnceEachAndEndsWithItsSummary) {
  const std::string path = testing::temp_path("replay_growing.h5");
  auto w = make_run_log_writer(path, RunConfig(), /*overwrite=*/true);
  Recorder want;
  const RunInfo info = meta_run();
  w->on_start(info);
  want.on_start(info);
  const TrajectoryRecord origin{0, {0.0f, 0.0f}, 0.0, {0.0f, 0.0f}, {}};  // as the trainer: first
  w->on_trajectory(origin);
  want.on_trajectory(origin);
  const RunEvent started{RunEvent::Kind::Started, 0, ""};
  w->on_event(started);
  want.on_event(started);
  for (int64_t t = 1; t <= 8; ++t) live_step(*w, want, t);

  std::unique_ptr<RunLogReader> r;
  for (int k = 0; k < 50 && !r; ++k) {  // readable once SWMR starts
    try {
      r = std::make_unique<RunLogReader>(path);
    } catch (const DataError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_TRUE(r);
  auto wait_steps = [&](uint64_t n) {  // the writer flushes at least once a second
    for (int k = 0; k < 50 && r->rows("steps/loss") < n; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r->refresh();
    }
  };
  wait_steps(8);
  Recorder got;
  ReplayCursor cursor;
  EXPECT_TRUE(replay(*r, cursor, got));
  // Up to the newest step held back: its other records may not be in the file yet.
  EXPECT_EQ(cursor.rows["steps"], 7u);
  for (int64_t t = 9; t <= 15; ++t) live_step(*w, want, t);
  wait_steps(15);
  EXPECT_TRUE(replay(*r, cursor, got));
  EXPECT_EQ(cursor.rows["steps"], 14u);
  EXPECT_FALSE(cursor.finished);

  RunSummary s;
  s.status = RunStatus::early_stopped;
  s.steps = 15;
  s.meta_updates = 3;
  s.message = "no improvement";
  const RunEvent stopped{RunEvent::Kind::EarlyStopped, 15, "no improvement"};
  w->on_event(stopped);
  want.on_event(stopped);
  w->on_finish(s);
  want.on_finish(s);
  w.reset();  // closed: the file holds everything
  r->refresh();
  EXPECT_TRUE(replay(*r, cursor, got));
  EXPECT_TRUE(cursor.finished);
  EXPECT_FALSE(replay(*r, cursor, got));  // nothing more, no second summary
  ASSERT_EQ(got.calls.size(), want.calls.size());
  for (size_t k = 0; k < want.calls.size(); ++k) EXPECT_EQ(got.calls[k], want.calls[k]) << k;

  // The same log read at once, finished: the same calls.
  Recorder whole;
  ReplayCursor fresh;
  replay(RunLogReader(path), fresh, whole);
  EXPECT_EQ(whole.calls, want.calls);
  // With a budget for one attention map, only the newest snapshot carries one.
  Recorder lean;
  ReplayCursor lean_cursor;
  replay(RunLogReader(path), lean_cursor, lean, {8 * sizeof(float)});
  size_t with_maps = 0;
  for (const auto& c : lean.calls) with_maps += c.find(" maps ") != std::string::npos;
  EXPECT_EQ(with_maps, 1u);
  std::remove(path.c_str());
}

// A run that failed says so once, through on_error with its message.
TEST(Replay, ARunThatFailedEndsWithItsError) {
  const std::string path = testing::temp_path("replay_error.h5");
  {
    auto w = make_run_log_writer(path, RunConfig(), /*overwrite=*/true);
    w->on_start(meta_run());
    for (int64_t t = 1; t <= 3; ++t) w->on_step({t, 0, 1.0, 0.01});
    w->on_error("out of memory");
  }
  Recorder got;
  ReplayCursor cursor;
  replay(RunLogReader(path), cursor, got);
  ASSERT_FALSE(got.calls.empty());
  EXPECT_EQ(got.calls.back(), "error out of memory");
  EXPECT_EQ(got.calls.size(), 1u + 3u + 1u);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace maw
