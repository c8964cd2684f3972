// The one study runner (services/study_runner.h): the plans' order, the log names, and
// the runner itself — runs in order, read back instead of run, stop between runs, a run
// that fails naming itself. Tiny synthetic runs, torch-free.
#include "services/study_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "api/errors.h"
#include "api/session.h"

namespace maw {
namespace {

RunConfig tiny() {
  RunConfig c;
  c.set("task", "synthetic");
  c.set("preset", "tiny");
  c.set("device", "cpu");
  c.set("threads", "1");
  c.set("steps", "5");
  c.set("seed", "7");
  return c;
}

std::string folder(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) /
                   ("study_runner_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(StudyPlan, CompareIsSeedMajorWithPerOptimizerOverrides) {
  const auto plan =
      compare_plan(tiny(), {"adamw", "metaadamw"}, 3, {{"metaadamw", {{"lr", "0.002"}}}});
  ASSERT_EQ(plan.size(), 6u);
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].config.optimizer, i % 2 == 0 ? "adamw" : "metaadamw");
    EXPECT_EQ(plan[i].config.seed, 7u + i / 2);  // a pair is complete before the next seed
    EXPECT_EQ(plan[i].config.lr, i % 2 == 0 ? tiny().lr : 0.002);
    EXPECT_TRUE(plan[i].settings.empty());
  }
  EXPECT_THROW(compare_plan(tiny(), {"adamw"}, 1, {{"adamw", {{"lr", "fast"}}}}), ConfigError);
}

TEST(StudyPlan, SweepIsOptimizerThenGridPointThenSeedWithTheFirstKeySlowest) {
  const auto plan = sweep_plan(tiny(), {"adamw", "metaadamw"},
                               {{"lr", {"1e-3", "1e-2"}}, {"weight_decay", {"0", "0.1"}}}, 2);
  ASSERT_EQ(plan.size(), 16u);
  EXPECT_EQ(plan[0].settings, (Settings{{"lr", "1e-3"}, {"weight_decay", "0"}}));
  EXPECT_EQ(plan[1].settings, plan[0].settings);  // the seeds of one point together
  EXPECT_EQ(plan[1].config.seed, 8u);
  EXPECT_EQ(plan[2].settings, (Settings{{"lr", "1e-3"}, {"weight_decay", "0.1"}}));
  EXPECT_EQ(plan[4].settings, (Settings{{"lr", "1e-2"}, {"weight_decay", "0"}}));
  EXPECT_DOUBLE_EQ(plan[4].config.lr, 1e-2);
  EXPECT_DOUBLE_EQ(plan[2].config.weight_decay, 0.1);
  EXPECT_EQ(plan[7].config.optimizer, "adamw");
  EXPECT_EQ(plan[8].config.optimizer, "metaadamw");
}

TEST(StudyPlan, LogNamesAreSafeAndNeverReplaceAnEarlierLog) {
  EXPECT_EQ(run_log_name("adamw", 3, {}), "adamw-seed3.h5");
  EXPECT_EQ(run_log_name("metaadamw", 0, {{"lr", "1e-3"}, {"groups", "a/b c"}}),
            "metaadamw-lr=1e-3-groups=a_b_c-seed0.h5");
  const auto dir = folder("names");
  EXPECT_EQ(free_log_path(dir, "adamw-seed0.h5"), dir + "/adamw-seed0.h5");
  std::ofstream(dir + "/adamw-seed0.h5") << "x";
  EXPECT_EQ(free_log_path(dir, "adamw-seed0.h5"), dir + "/adamw-seed0-2.h5");
  std::ofstream(dir + "/adamw-seed0-2.h5") << "x";
  EXPECT_EQ(free_log_path(dir, "adamw-seed0.h5"), dir + "/adamw-seed0-3.h5");
}

TEST(StudyRunner, RunsThePlanInOrderAndReadsBackWhatFinishedBefore) {
  const auto dir = folder("run");
  const auto plan = compare_plan(tiny(), {"adamw", "metaadamw"}, 2);
  StudyRunner runner;
  StudyRunner::Hooks hooks;
  std::vector<std::string> started, finished;
  hooks.log_path = [&](size_t, const PlannedRun& r) {
    return dir + "/" + run_log_name(r.config.optimizer, r.config.seed, r.settings);
  };
  hooks.read_back = [](size_t i, const PlannedRun& r, const std::string&, SeedRun* out) {
    if (i != 1) return false;
    out->summary.optimizer = r.config.optimizer;
    out->summary.seed = r.config.seed;
    out->summary.final_train_loss = -1;  // not a run's
    return true;
  };
  hooks.started = [&](size_t, const std::string& log) { started.push_back(log); };
  hooks.finished = [&](size_t, const PlannedRun&, const std::string& log, const SeedRun&) {
    finished.push_back(log);
  };
  const auto runs = runner.run(plan, hooks);
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(started.size(), 3u);  // run 1 was read back, not run
  EXPECT_EQ(finished.size(), 4u);
  EXPECT_EQ(runs[1].summary.final_train_loss, -1);
  for (size_t i : {0u, 2u, 3u}) {
    EXPECT_EQ(runs[i].summary.status, RunStatus::completed);
    EXPECT_EQ(runs[i].summary.optimizer, plan[i].config.optimizer);
    EXPECT_EQ(runs[i].summary.seed, plan[i].config.seed);
    EXPECT_FALSE(runs[i].evals.empty());  // the final evaluation at least
    EXPECT_TRUE(std::filesystem::exists(finished[i]));
  }
  EXPECT_FALSE(std::filesystem::exists(finished[1]));
}

TEST(StudyRunner, StopEndsTheCurrentRunAndStartsNoOtherUntilRearmed) {
  const auto plan = compare_plan(tiny(), {"adamw"}, 3);
  StudyRunner runner;
  StudyRunner::Hooks hooks;
  hooks.finished = [&](size_t i, const PlannedRun&, const std::string&, const SeedRun&) {
    if (i == 0) runner.stop();  // as Ctrl-C between two runs
  };
  EXPECT_EQ(runner.run(plan, hooks).size(), 1u);
  EXPECT_TRUE(runner.stopped());
  EXPECT_TRUE(runner.run(plan, {}).empty());  // still stopped
  runner.rearm();
  hooks.finished = nullptr;
  hooks.attach = [&](size_t i, Session& s) {
    if (i == 1) s.stop();  // this run stops at once; the next still runs
  };
  const auto runs = runner.run(plan, hooks);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[1].summary.status, RunStatus::stopped);
  EXPECT_EQ(runs[2].summary.status, RunStatus::completed);
}

TEST(StudyRunner, ARunThatFailsEndsTheStudyAndNamesItself) {
  const auto plan = compare_plan(tiny(), {"adamw"}, 3);
  StudyRunner runner;
  std::vector<size_t> done;
  StudyRunner::Hooks hooks;
  hooks.log_path = [](size_t i, const PlannedRun&) {
    return i == 1 ? std::string("/proc/no-such-folder/run.h5") : std::string();  // unwritable
  };
  hooks.finished = [&](size_t i, const PlannedRun&, const std::string&, const SeedRun&) {
    done.push_back(i);
  };
  EXPECT_THROW(runner.run(plan, hooks), ConfigError);  // "its folder … does not exist"
  EXPECT_EQ(runner.failed_index(), 1u);
  EXPECT_EQ(done, std::vector<size_t>{0});  // run 2 never started
}

// A tiny lm on a generated corpus (no dataset needed) with dropout, which draws from the
// process-wide generator: two runs stepping in turn would mix their draws if the turns did
// not keep each run's generator state apart.
RunConfig lm_with_dropout(const std::string& dir) {
  std::filesystem::create_directories(dir);
  auto words = [](int n, uint32_t x) {
    static const char* vocab[] = {"the", "a", "cat", "dog", "sat", "on", "mat", "ran", ".", ","};
    std::string out;
    for (int i = 0; i < n; ++i) {
      x = x * 1664525u + 1013904223u;
      out += std::string(vocab[(x >> 16) % 10]) + (i % 12 == 11 ? "\n" : " ");
    }
    return out;
  };
  std::ofstream(dir + "/wiki.train.raw") << words(3000, 1);
  std::ofstream(dir + "/wiki.test.raw") << words(800, 2);
  RunConfig c;
  c.set("task", "lm");
  c.set("preset", "tiny");
  c.set("lm.dataset", "wikitext2");
  c.set("lm.wikitext_dir", dir);
  c.set("model.dropout", "0.2");
  c.set("device", "cpu");
  c.set("threads", "1");
  c.set("steps", "12");
  c.set("meta_update_freq", "4");
  c.set("seed", "3");
  return c;
}

// Records which run made each step, across runs (observers are called on the runs' threads).
class StepOrder : public RunObserver {
 public:
  StepOrder(std::mutex& mu, std::vector<std::pair<size_t, int64_t>>& order, size_t run)
      : mu_(mu), order_(order), run_(run) {}
  void on_step(const StepRecord& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    order_.emplace_back(run_, r.step);
  }

 private:
  std::mutex& mu_;
  std::vector<std::pair<size_t, int64_t>>& order_;
  size_t run_;
};

TEST(StudyRunner, LockstepRunsTakeTurnsOfOneStepAndEndWithTheirNumbersAlone) {
  const auto plan =
      compare_plan(lm_with_dropout(folder("lockstep") + "/wikitext"), {"adamw", "metaadamw"}, 1);
  StudyRunner runner;
  const auto alone = runner.run(plan, {});
  std::mutex mu;
  std::vector<std::pair<size_t, int64_t>> order;
  std::vector<std::unique_ptr<StepOrder>> observers;
  StudyRunner::Hooks hooks;
  hooks.lockstep = true;
  hooks.attach = [&](size_t i, Session& s) {
    observers.push_back(std::make_unique<StepOrder>(mu, order, i));
    s.add_observer(observers.back().get());
  };
  const auto together = runner.run(plan, hooks);
  ASSERT_EQ(together.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(together[i].summary.status, RunStatus::completed);
    EXPECT_EQ(together[i].summary.optimizer, plan[i].config.optimizer);
    // Bitwise: the same draws, the same data order, the same arithmetic.
    EXPECT_EQ(together[i].summary.final_train_loss, alone[i].summary.final_train_loss) << i;
    EXPECT_EQ(together[i].summary.eval_metric, alone[i].summary.eval_metric) << i;
  }
  EXPECT_GT(together[1].summary.meta_updates, 0);
  // adamw 1, metaadamw 1, adamw 2, metaadamw 2, …
  ASSERT_EQ(order.size(), 24u);
  for (size_t k = 0; k < order.size(); ++k) {
    EXPECT_EQ(order[k].first, k % 2) << k;
    EXPECT_EQ(order[k].second, static_cast<int64_t>(k / 2) + 1) << k;
  }
}

TEST(StudyRunner, LockstepStopEndsEveryRunOfTheGroup) {
  const auto plan = compare_plan(lm_with_dropout(folder("lockstep_stop") + "/wikitext"),
                                 {"adamw", "metaadamw"}, 2);
  StudyRunner runner;
  std::mutex mu;
  std::vector<std::pair<size_t, int64_t>> order;
  // Stops the study from the second run's thread at its third step (as the studio's Stop).
  class StopAt : public RunObserver {
   public:
    explicit StopAt(StudyRunner& r) : r_(r) {}
    void on_step(const StepRecord& s) override {
      if (s.step == 3) r_.stop();
    }

   private:
    StudyRunner& r_;
  } stop_at(runner);
  StudyRunner::Hooks hooks;
  hooks.lockstep = true;
  hooks.attach = [&](size_t i, Session& s) {
    if (i == 1) s.add_observer(&stop_at);
  };
  const auto runs = runner.run(plan, hooks);
  ASSERT_EQ(runs.size(), 2u);  // the first seed's pair; the second never starts
  for (const auto& r : runs) {
    EXPECT_EQ(r.summary.status, RunStatus::stopped);
    EXPECT_LE(r.summary.steps, 4);
  }
}

}  // namespace
}  // namespace maw
