// The trainer through the torch-free Session API: determinism, learning, stop from
// another thread, divergence, and our AdamW against LibTorch's inside a whole run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/errors.h"
#include "api/session.h"
#include "optim/lr_schedule.h"

namespace maw {
namespace {

struct Recorder : RunObserver {
  std::vector<StepRecord> steps;
  std::vector<Snapshot> snapshots;
  std::vector<MetaUpdateRecord> metas;
  void on_snapshot(const Snapshot& s) override { snapshots.push_back(s); }
  void on_meta_update(const MetaUpdateRecord& r) override { metas.push_back(r); }
  std::vector<EvalRecord> evals;
  std::vector<RunEvent> events;
  RunInfo info;
  void on_start(const RunInfo& i) override { info = i; }
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_eval(const EvalRecord& r) override { evals.push_back(r); }
  void on_event(const RunEvent& e) override { events.push_back(e); }
};

RunConfig tiny(const std::string& kind = "regression") {
  RunConfig c;
  c.set("preset", "tiny");
  c.set("device", "cpu");
  c.set("threads", "1");
  c.set("synthetic.kind", kind);
  return c;
}

RunSummary run(const RunConfig& c, Recorder* rec = nullptr) {
  Session s(c);
  if (rec) s.add_observer(rec);
  return s.run();
}

TEST(Trainer, SameSeedGivesABitwiseIdenticalRun) {
  Recorder a, b;
  const auto sa = run(tiny(), &a);
  const auto sb = run(tiny(), &b);
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) ASSERT_EQ(a.steps[i].loss, b.steps[i].loss) << i;
  EXPECT_EQ(sa.eval_loss, sb.eval_loss);
  EXPECT_EQ(sa.eval_metric, sb.eval_metric);
  auto other = tiny();
  other.set("seed", "1");
  EXPECT_NE(run(other).final_train_loss, sa.final_train_loss);
}

TEST(Trainer, OurAdamWAndTorchAdamWGiveTheSameRun) {
  auto c = tiny("classification");
  c.set("steps", "60");
  Recorder ours, ref;
  run(c, &ours);
  c.set("optimizer", "torch_adamw");
  run(c, &ref);
  ASSERT_EQ(ours.steps.size(), ref.steps.size());
  for (size_t i = 0; i < ours.steps.size(); ++i)
    ASSERT_EQ(ours.steps[i].loss, ref.steps[i].loss) << "step " << i + 1;
}

TEST(Trainer, LearnsTheSyntheticRegressionWellBelowTheNaiveBaseline) {
  auto c = tiny();
  c.set("steps", "400");
  c.set("lr", "3e-3");
  Recorder rec;
  const auto s = run(c, &rec);
  EXPECT_EQ(s.status, RunStatus::completed);
  EXPECT_EQ(s.steps, 400);
  EXPECT_EQ(s.metric_name, "mse");
  // Standardized targets: predicting the mean scores ≈ 1.
  EXPECT_LT(s.eval_metric, 0.5);
  EXPECT_LT(rec.steps.back().loss, rec.steps.front().loss);
  EXPECT_FALSE(rec.evals.empty());
}

TEST(Trainer, LearnsTheSyntheticClassification) {
  auto c = tiny("classification");
  c.set("steps", "400");
  c.set("lr", "3e-3");
  const auto s = run(c);
  EXPECT_EQ(s.metric_name, "accuracy");
  EXPECT_GT(s.eval_metric, 0.6);  // 4 classes
}

TEST(Trainer, EpochsAndEvalScheduleAreHonoured) {
  auto c = tiny();
  c.set("epochs", "2");
  c.set("batch_size", "100");
  Recorder rec;
  const auto s = run(c, &rec);
  EXPECT_EQ(rec.info.steps_per_epoch, (1024 - 102) / 100);
  EXPECT_EQ(s.steps, 2 * rec.info.steps_per_epoch);
  ASSERT_EQ(rec.evals.size(), 2u);  // end of epoch 1, end of run
  EXPECT_EQ(rec.evals[0].step, rec.info.steps_per_epoch);
  EXPECT_EQ(rec.steps.back().epoch, 1);
}

TEST(Trainer, StopFromAnotherThreadIsHonouredWithinOneStep) {
  auto c = tiny();
  c.set("steps", "100000");
  Session s(c);
  struct StopAt : RunObserver {
    Session* s;
    int64_t last = 0;
    void on_step(const StepRecord& r) override {
      last = r.step;
      if (r.step == 20) std::thread([this] { s->stop(); }).join();
    }
  } obs;
  obs.s = &s;
  s.add_observer(&obs);
  const auto summary = s.run();
  EXPECT_EQ(summary.status, RunStatus::stopped);
  EXPECT_EQ(summary.steps, 20);
  EXPECT_EQ(obs.last, 20);
}

// A Stop that comes while an evaluation is due (or running) abandons it between two
// batches and skips the final one: the run ends at once, with nothing half-evaluated
// recorded. The stop arrives in on_step of step 10, before that step's evaluation.
TEST(Trainer, StopAbandonsAnEvaluationAndSkipsTheFinalOne) {
  auto c = tiny();
  c.set("steps", "1000");
  c.set("eval_every", "10");
  Session s(c);
  struct StopAt : RunObserver {
    Session* s;
    std::vector<int64_t> evals;
    void on_step(const StepRecord& r) override {
      if (r.step == 10) s->stop();
    }
    void on_eval(const EvalRecord& e) override { evals.push_back(e.step); }
  } obs;
  obs.s = &s;
  s.add_observer(&obs);
  const auto summary = s.run();
  EXPECT_EQ(summary.status, RunStatus::stopped);
  EXPECT_EQ(summary.steps, 10);
  EXPECT_TRUE(obs.evals.empty());                // step 10's evaluation abandoned, no final one
  EXPECT_TRUE(std::isnan(summary.eval_metric));  // never evaluated
  EXPECT_TRUE(std::isnan(summary.val_metric));
}

TEST(Trainer, DivergingLossStopsTheRunWithStatusAndStep) {
  auto c = tiny();
  c.set("lr", "1e30");
  Recorder rec;
  const auto s = run(c, &rec);
  EXPECT_EQ(s.status, RunStatus::diverged);
  EXPECT_LT(s.steps, 150);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(rec.events.back().kind, RunEvent::Kind::Diverged);
  EXPECT_EQ(rec.events.back().step, s.steps + 1);
  EXPECT_NE(s.message.find("at step"), std::string::npos);
}

TEST(Trainer, PauseSingleStepAndResumeFromAnotherThread) {
  auto c = tiny();
  c.set("steps", "100");
  Session s(c);
  struct Watch : RunObserver {
    std::mutex mu;
    std::condition_variable cv;
    int64_t last = 0;
    std::vector<RunEvent> events;
    std::vector<double> wall;
    Session* s = nullptr;
    void on_step(const StepRecord& r) override {
      std::lock_guard<std::mutex> lk(mu);
      last = r.step;
      wall.push_back(r.wall_time_s);
      if (r.step == 10) s->pause();  // from the engine thread, like a breakpoint
      cv.notify_all();
    }
    void on_event(const RunEvent& e) override {
      std::lock_guard<std::mutex> lk(mu);
      events.push_back(e);
      cv.notify_all();
    }
    bool wait_for(const std::function<bool()>& pred) {
      std::unique_lock<std::mutex> lk(mu);
      return cv.wait_for(lk, std::chrono::seconds(30), pred);
    }
  } w;
  w.s = &s;
  s.add_observer(&w);
  RunSummary summary;
  std::thread engine([&] { summary = s.run(); });
  auto paused_count = [&] {
    return std::count_if(w.events.begin(), w.events.end(),
                         [](const RunEvent& e) { return e.kind == RunEvent::Kind::Paused; });
  };
  ASSERT_TRUE(w.wait_for([&] { return paused_count() == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard<std::mutex> lk(w.mu);
    EXPECT_EQ(w.last, 10) << "steps ran while paused";
  }
  s.step_once();  // exactly one step, then paused again
  ASSERT_TRUE(w.wait_for([&] { return paused_count() == 2; }));
  {
    std::lock_guard<std::mutex> lk(w.mu);
    EXPECT_EQ(w.last, 11);
  }
  s.resume();
  engine.join();
  EXPECT_EQ(summary.status, RunStatus::completed);
  EXPECT_EQ(summary.steps, 100);
  EXPECT_TRUE(std::any_of(w.events.begin(), w.events.end(),
                          [](const RunEvent& e) { return e.kind == RunEvent::Kind::Resumed; }));
  // The run's clock stood still while paused (≥ 200 ms twice): no gap between two steps'
  // wall times comes near it.
  ASSERT_EQ(w.wall.size(), 100u);
  for (size_t i = 1; i < w.wall.size(); ++i)
    EXPECT_LT(w.wall[i] - w.wall[i - 1], 0.15) << "step " << i + 1;
}

TEST(Trainer, StopWhilePausedEndsTheRun) {
  auto c = tiny();
  c.set("steps", "100");
  Session s(c);
  s.pause();  // paused before the first step
  RunSummary summary;
  std::thread engine([&] { summary = s.run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s.stop();
  engine.join();
  EXPECT_EQ(summary.status, RunStatus::stopped);
  EXPECT_EQ(summary.steps, 0);
}

TEST(Trainer, EarlyStoppingStopsAfterPatienceAndRestoresTheBest) {
  auto c = tiny();
  c.set("steps", "1000");
  c.set("eval_every", "10");
  c.set("lr", "0.05");  // large: the eval loss soon stops improving
  c.set("early_stopping", "eval_loss");
  c.set("patience", "3");
  c.set("min_delta", "0.5");  // only big improvements count
  Recorder rec;
  const auto s = run(c, &rec);
  EXPECT_EQ(s.status, RunStatus::early_stopped);
  EXPECT_LT(s.steps, 1000);
  ASSERT_GE(rec.evals.size(), 4u);
  // The run stopped at the evaluation that made `patience` evaluations without a
  // sufficient improvement, and the final report is the restored best model's.
  EXPECT_EQ(rec.events.back().kind, RunEvent::Kind::EarlyStopped);
  const auto best = std::find_if(rec.evals.begin(), rec.evals.end(),
                                 [&](const EvalRecord& e) { return e.step == s.best_step; });
  ASSERT_NE(best, rec.evals.end());
  EXPECT_EQ(s.eval_loss, best->loss);
  EXPECT_EQ(s.best_monitor, best->loss);
}

TEST(Trainer, MetaAdamWLearnsAndPublishesSnapshotsAndMetaUpdates) {
  auto c = tiny();
  c.set("optimizer", "metaadamw");
  c.set("steps", "300");
  c.set("lr", "3e-3");
  c.set("meta_update_freq", "50");
  c.set("snapshot_every", "25");
  Recorder rec;
  const auto s = run(c, &rec);
  EXPECT_EQ(s.status, RunStatus::completed);
  EXPECT_EQ(s.meta_updates, 6);
  ASSERT_EQ(rec.metas.size(), 6u);
  EXPECT_EQ(rec.metas[0].step, 50);
  EXPECT_GT(rec.steps[49].meta_ms, 0.0);
  EXPECT_EQ(rec.steps[48].meta_ms, 0.0);
  ASSERT_EQ(rec.snapshots.size(), 12u);
  EXPECT_EQ(rec.snapshots[0].step, 25);
  EXPECT_EQ(rec.snapshots[0].groups, s.num_groups);
  EXPECT_LT(s.eval_metric, 0.6);  // learns: the naive baseline scores about 1
}

TEST(Trainer, AdamWAndMetaAdamWWithTheSameSeedSeeTheSameInitAndData) {
  auto c = tiny();
  c.set("steps", "3");
  Recorder a, m;
  run(c, &a);
  c.set("optimizer", "metaadamw");
  run(c, &m);
  EXPECT_EQ(a.steps[0].loss, m.steps[0].loss);            // same initialization and first batch
  EXPECT_EQ(a.steps[0].grad_norm, m.steps[0].grad_norm);  // so the same first gradient
  EXPECT_GT(a.steps[0].grad_norm, 0.0);
  EXPECT_TRUE(std::isfinite(a.steps[0].grad_norm));
}

TEST(Trainer, MetaAdamWRunSavedAtStep100AndResumedEqualsTheUninterruptedRun) {
  const std::string path = ::testing::TempDir() + "ckpt_" + std::to_string(::getpid()) + ".pt";
  auto c = tiny("classification");
  c.set("optimizer", "metaadamw");
  c.set("steps", "200");
  c.set("meta_update_freq", "10");
  c.set("features", "enhanced");
  c.set("use_feature_gating", "true");
  c.set("meta_lr", "1e-2");  // the learning design: adam_tensorwise, per-group offsets
  auto straight = c;
  straight.set("checkpoint", path);
  straight.set("checkpoint_at", "100");
  Recorder a, b;
  const auto sa = run(straight, &a);
  auto resumed = c;
  resumed.set("resume", path);
  const auto sb = run(resumed, &b);
  ASSERT_EQ(a.steps.size(), 200u);
  ASSERT_EQ(b.steps.size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(b.steps[i].step, a.steps[100 + i].step);
    ASSERT_EQ(b.steps[i].loss, a.steps[100 + i].loss) << "step " << b.steps[i].step;
  }
  EXPECT_EQ(sa.eval_loss, sb.eval_loss);
  EXPECT_EQ(sa.meta_updates, 20);
  EXPECT_EQ(sb.meta_updates, 20);
  std::remove(path.c_str());
  // A missing checkpoint is refused before the run (a bad path: ConfigError); a file that
  // is not one is a clear DataError that names it.
  auto bad = c;
  bad.set("resume", "/nonexistent/ckpt.pt");
  EXPECT_THROW(run(bad), ConfigError);
  std::ofstream(path) << "not a checkpoint";
  bad.set("resume", path);
  try {
    run(bad);
    ADD_FAILURE() << "accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

// Early stopping's state is part of a checkpoint: a run resumed after its best evaluation
// stops at the same step, reports the same best and restores the same model as the
// uninterrupted run.
TEST(Trainer, EarlyStoppingStateSurvivesACheckpoint) {
  const std::string path = ::testing::TempDir() + "ckpt_es_" + std::to_string(::getpid()) + ".pt";
  auto c = tiny();
  c.set("steps", "1000");
  c.set("eval_every", "10");
  c.set("lr", "0.05");
  c.set("early_stopping", "eval_loss");
  c.set("patience", "3");
  c.set("min_delta", "0.5");
  Recorder probe;
  const auto ref = run(c, &probe);
  ASSERT_EQ(ref.status, RunStatus::early_stopped);
  // Checkpoint after the best evaluation, before the stop.
  const int64_t at = ref.best_step + 10;
  ASSERT_LT(at, ref.steps);
  auto straight = c;
  straight.set("checkpoint", path);
  straight.set("checkpoint_at", std::to_string(at));
  const auto sa = run(straight);
  auto resumed = c;
  resumed.set("resume", path);
  const auto sb = run(resumed);
  EXPECT_EQ(sb.status, sa.status);
  EXPECT_EQ(sb.steps, sa.steps);
  EXPECT_EQ(sb.best_step, sa.best_step);
  EXPECT_EQ(sb.best_monitor, sa.best_monitor);
  EXPECT_EQ(sb.eval_loss, sa.eval_loss);  // the restored best model's evaluation
  std::remove(path.c_str());
}

// The identity start through the whole trainer: with no meta-update yet, MetaAdamW's run
// is AdamW's to the bit (same init, data, and α = β = 1).
TEST(Trainer, MetaAdamWBeforeItsFirstMetaUpdateIsAdamW) {
  auto c = tiny();
  c.set("steps", "20");
  c.set("optimizer", "adamw");
  Recorder a, m;
  const auto sa = run(c, &a);
  c.set("optimizer", "metaadamw");
  c.set("meta_update_freq", "1000");
  const auto sm = run(c, &m);
  ASSERT_EQ(a.steps.size(), m.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) EXPECT_EQ(a.steps[i].loss, m.steps[i].loss) << i;
  EXPECT_EQ(sa.eval_loss, sm.eval_loss);
}

// The schedule's known points: warm-up 1/w … 1, then cosine or linear from 1 at the first
// decayed step to min_ratio at the last (PyTorch's CosineAnnealingLR / LinearLR).
TEST(LrSchedule, KnownPoints) {
  using optim::lr_scale;
  using optim::LrSchedule;
  EXPECT_EQ(lr_scale(LrSchedule::Constant, 7, 10, 0, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(lr_scale(LrSchedule::Constant, 0, 10, 4, 0.0), 0.25);
  EXPECT_DOUBLE_EQ(lr_scale(LrSchedule::Cosine, 3, 10, 4, 0.0), 1.0);  // last warm-up step
  EXPECT_DOUBLE_EQ(lr_scale(LrSchedule::Cosine, 4, 10, 4, 0.0), 1.0);  // first decayed step
  EXPECT_NEAR(lr_scale(LrSchedule::Cosine, 9, 10, 4, 0.0), 0.0, 1e-15);
  EXPECT_NEAR(lr_scale(LrSchedule::Cosine, 5, 11, 0, 0.2), 0.6, 1e-15);  // halfway: (1+0.2)/2
  EXPECT_NEAR(lr_scale(LrSchedule::Cosine, 2, 13, 0, 0.0), 0.5 * (1 + std::cos(M_PI / 6)), 1e-15);
  EXPECT_NEAR(lr_scale(LrSchedule::Linear, 3, 13, 0, 0.0), 0.75, 1e-15);
  EXPECT_NEAR(lr_scale(LrSchedule::Linear, 12, 13, 0, 0.1), 0.1, 1e-15);
  EXPECT_EQ(lr_scale(LrSchedule::Cosine, 0, 1, 0, 0.0), 1.0);  // one step: nothing to decay
  EXPECT_THROW(optim::parse_lr_schedule("step"), std::invalid_argument);
}

// A schedule reaches every optimizer alike: our AdamW and LibTorch's give the same run
// under it (bitwise, as without one), MetaAdamW before its first meta-update too, the
// logged η_t is the closed form, and the run differs from a constant η.
TEST(Trainer, ALearningRateScheduleReachesEveryOptimizerAlike) {
  auto c = tiny("classification");
  c.set("steps", "40");
  c.set("lr", "3e-3");
  c.set("lr_schedule", "cosine");
  c.set("lr_warmup_steps", "5");
  c.set("lr_min_ratio", "0.1");
  Recorder ours, ref, meta, flat;
  run(c, &ours);
  ASSERT_EQ(ours.steps.size(), 40u);
  for (size_t i = 0; i < ours.steps.size(); ++i) {
    const double expected =
        i < 5 ? 3e-3 * (i + 1) / 5.0
              : 3e-3 * (0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * (i - 5.0) / 34.0)));
    ASSERT_NEAR(ours.steps[i].lr, expected, 1e-15) << "step " << i + 1;
  }
  EXPECT_NEAR(ours.steps.back().lr, 3e-4, 1e-15);
  c.set("optimizer", "torch_adamw");
  run(c, &ref);
  c.set("optimizer", "metaadamw");
  c.set("meta_update_freq", "1000");
  run(c, &meta);
  for (size_t i = 0; i < ours.steps.size(); ++i) {
    ASSERT_EQ(ours.steps[i].loss, ref.steps[i].loss) << "torch_adamw, step " << i + 1;
    ASSERT_EQ(ours.steps[i].loss, meta.steps[i].loss) << "metaadamw, step " << i + 1;
  }
  c.set("optimizer", "adamw");
  c.set("lr_schedule", "constant");
  c.set("lr_warmup_steps", "0");
  run(c, &flat);
  EXPECT_EQ(flat.steps[0].lr, 3e-3);
  EXPECT_NE(flat.steps.back().loss, ours.steps.back().loss);
}

TEST(Trainer, MetaPresetFillsThePapersSettingsUnlessSetExplicitly) {
  RunConfig c;
  c.set("meta_preset", "sentiment");
  c.set("attn_layers", "2");
  c.resolve_preset();
  EXPECT_EQ(c.meta.meta_update_freq(), 39);
  EXPECT_EQ(c.meta.attn_heads(), 11);
  EXPECT_EQ(c.meta.features(), optim::FeatureSet::basic_plus);
  EXPECT_TRUE(c.meta.use_feature_gating());
  EXPECT_EQ(c.meta.huw_priorities(), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(c.meta.attn_layers(), 2);  // explicit wins
}

}  // namespace
}  // namespace maw
