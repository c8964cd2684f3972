// The studio's data model (ui/model): traces that stay bounded and keep spikes, EMA and
// seed bands against naive computations, and the one data path — a run model filled
// live from the observer stream equals one filled from the run's log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "api/run_log.h"
#include "api/session.h"
#include "log_fixtures.h"
#include "model/log_follower.h"
#include "model/run_model.h"
#include "model/trace.h"

namespace maw::ui {
namespace {

TEST(Trace, FullResolutionUntilCapacityThenBoundedAndSpikesSurvive) {
  Trace t(1024);
  for (int i = 0; i < 1024; ++i) t.append(i + 1, 0.01 * i, std::sin(0.01 * i));
  EXPECT_EQ(t.size(), 1024u);
  EXPECT_EQ(t.bucket(), 1u);
  EXPECT_EQ(t.values()[100], std::sin(1.0));
  // A million points more, with one spike and one dip.
  for (int i = 1024; i < 1000000; ++i) {
    double v = std::sin(0.01 * i);
    if (i == 654321) v = 100.0;
    if (i == 777777) v = -50.0;
    t.append(i + 1, 0.01 * i, v);
  }
  EXPECT_EQ(t.appended(), 1000000u);
  EXPECT_LE(t.size(), 1024u);
  EXPECT_GE(t.size(), 512u);
  EXPECT_EQ(*std::max_element(t.values().begin(), t.values().end()), 100.0);
  EXPECT_EQ(*std::min_element(t.values().begin(), t.values().end()), -50.0);
  const auto spike = std::find(t.values().begin(), t.values().end(), 100.0) - t.values().begin();
  EXPECT_EQ(t.steps()[static_cast<size_t>(spike)], 654322.0);  // at its own step
  EXPECT_TRUE(std::is_sorted(t.steps().begin(), t.steps().end()));
  EXPECT_EQ(t.last_value(), std::sin(0.01 * 999999));
  EXPECT_LE(t.steps().front(), static_cast<double>(t.bucket()));  // from the first bucket
}

TEST(Trace, EmaIsTheBiasCorrectedAverageOfANaiveLoop) {
  Trace t(4096);
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> raw;
  for (int i = 0; i < 500; ++i) {
    raw.push_back(1.0 / (1 + i) + 0.1 * noise(rng));
    t.append(i, i, raw.back());
  }
  const double s = 0.9;
  const auto smooth = ema(t, s);
  double acc = 0.0;
  for (size_t i = 0; i < raw.size(); ++i) {
    acc = s * acc + (1 - s) * raw[i];
    const double debiased = acc / (1 - std::pow(s, static_cast<double>(i + 1)));
    EXPECT_NEAR(smooth[i], debiased, 1e-12) << i;
  }
  EXPECT_EQ(ema(t, 0.0), t.values());
}

TEST(Trace, BandOverSeedsIsMeanMinMaxAndStd) {
  Trace a, b, c;
  for (int i = 1; i <= 10; ++i) {
    a.append(i, 0, 1.0 * i);
    b.append(i, 0, 2.0 * i);
    c.append(i, 0, 3.0 * i);
  }
  c.append(11, 0, 33.0);  // longer: the grid is the shortest trace's
  const auto mm = band({&a, &b, &c}, BandKind::MinMax);
  ASSERT_EQ(mm.steps.size(), 10u);
  EXPECT_DOUBLE_EQ(mm.mean[4], 10.0);  // step 5: 5, 10, 15
  EXPECT_DOUBLE_EQ(mm.lo[4], 5.0);
  EXPECT_DOUBLE_EQ(mm.hi[4], 15.0);
  const auto sd = band({&a, &b, &c}, BandKind::StdDev);
  EXPECT_NEAR(sd.hi[4] - sd.mean[4], 5.0, 1e-12);  // sample std of 5, 10, 15
  // Interpolated where the grids differ.
  Trace d;
  d.append(0, 0, 0.0);
  d.append(20, 0, 40.0);
  const auto mixed = band({&a, &d}, BandKind::MinMax);
  EXPECT_DOUBLE_EQ(mixed.mean[4], (5.0 + 10.0) / 2);
}

TEST(AttentionMaps, KeepsTheNewestWithinItsBudget) {
  AttentionMaps m(3 * (2 * 2 * 3 * 3) * sizeof(float));  // room for 3 maps [2, 2, 3, 3]
  m.shape(2, 2, 3);
  for (int s = 1; s <= 5; ++s) {
    std::vector<float> v(2 * 2 * 3 * 3);
    for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(s * 100 + k);
    m.add(s * 10, v);
  }
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.steps().front(), 30);
  const auto one = m.map(2, 1, 0);  // step 50, layer 1, head 0
  ASSERT_EQ(one.size(), 9u);
  EXPECT_EQ(one[0], 500.0f + 2 * 9);
  EXPECT_EQ(m.nearest(44), 1);
  m.add(60, std::vector<float>(5));  // wrong size: ignored
  EXPECT_EQ(m.size(), 3u);
}

// Feeds a RunModel from the engine's records, as the studio's bridge does.
class ModelObserver : public RunObserver {
 public:
  explicit ModelObserver(RunModel& m) : m_(m) {}
  void on_start(const RunInfo& i) override { m_.start(i); }
  void on_step(const StepRecord& r) override { m_.step(r); }
  void on_eval(const EvalRecord& r) override { m_.eval(r); }
  void on_snapshot(const Snapshot& s) override { m_.snapshot(s); }
  void on_meta_update(const MetaUpdateRecord& r) override { m_.meta_update(r); }
  void on_event(const RunEvent& e) override { m_.event(e.step, to_string(e.kind), e.message); }
  void on_finish(const RunSummary& s) override { m_.finish(s); }

 private:
  RunModel& m_;
};

void expect_same(const Trace& a, const Trace& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.steps()[i], b.steps()[i]) << what << " " << i;
    EXPECT_EQ(a.values()[i], b.values()[i]) << what << " " << i;
  }
}

TEST(LogFollower, ALoadedRunEqualsTheLiveOne) {
  const std::string path = ::testing::TempDir() + "uimodel_" + std::to_string(getpid()) + ".h5";
  const auto c = testing::logged_metaadamw_config(60, 20, 2, 10);
  RunModel live("live", 64);  // small capacity: both sides decimate the same way
  ModelObserver obs(live);
  ASSERT_EQ(testing::run_logged(c, path, &obs).status, "completed");
  RunModel loaded(path, 64);
  LogFollower follower(path);
  EXPECT_TRUE(follower.poll(loaded));
  EXPECT_FALSE(follower.poll(loaded));  // nothing new
  EXPECT_FALSE(follower.live());
  EXPECT_EQ(loaded.status(), "completed");
  EXPECT_EQ(loaded.info().group_names, live.info().group_names);
  EXPECT_EQ(loaded.info().feature_names, live.info().feature_names);
  EXPECT_EQ(loaded.info().group_sizes, live.info().group_sizes);
  EXPECT_EQ(loaded.info().group_members, live.info().group_members);
  EXPECT_EQ(loaded.info().group_shapes, live.info().group_shapes);
  EXPECT_FALSE(live.info().group_shapes.empty());
  expect_same(loaded.train_loss, live.train_loss, "train loss");
  expect_same(loaded.eval_metric, live.eval_metric, "eval metric");
  expect_same(loaded.meta_total, live.meta_total, "meta total");
  expect_same(loaded.huw_weights[1], live.huw_weights[1], "huw weight");
  ASSERT_EQ(loaded.factors.size(), live.factors.size());
  for (size_t g = 0; g < live.factors.size(); ++g) {
    expect_same(loaded.factors[g][0], live.factors[g][0], "alpha");
    expect_same(loaded.effective_wd[g], live.effective_wd[g], "effective wd");
    for (size_t f = 0; f < live.features[g].size(); ++f)
      expect_same(loaded.features[g][f], live.features[g][f], "feature");
  }
  ASSERT_EQ(loaded.attention.size(), 6u);  // steps 10 … 60
  ASSERT_EQ(live.attention.size(), 6u);
  EXPECT_EQ(loaded.attention.steps(), live.attention.steps());
  EXPECT_EQ(loaded.attention.map(5, 0, 1), live.attention.map(5, 0, 1));
  ASSERT_EQ(loaded.events.size(), live.events.size());
  EXPECT_EQ(loaded.events.back().kind, "completed");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace maw::ui
