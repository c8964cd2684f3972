// The studio's data model (ui/model): traces that stay bounded and keep spikes, EMA and
// seed bands against naive computations, the meta-diagnostics and per-group means, and
// the one data path — a run model filled live from the observer stream equals one filled
// from the run's log, and a log of schema v1 (no diagnostics) still loads.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "api/run_log.h"
#include "api/session.h"
#include "log_fixtures.h"
#include "model/contours.h"
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

bool same_value(double a, double b) {
  return a == b || (std::isnan(a) && std::isnan(b));
}

void expect_same(const Trace& a, const Trace& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a.steps()[i], b.steps()[i]) << what << " " << i;
    EXPECT_PRED2(same_value, a.values()[i], b.values()[i]) << what << " " << i;
  }
}

bool all_nan(const Trace& t) {
  return std::all_of(t.values().begin(), t.values().end(), [](double v) { return std::isnan(v); });
}

// A MetaAdamW-shaped RunInfo: G groups, F features, a 1-layer 1-head modulator.
RunInfo meta_info(size_t groups) {
  RunInfo i;
  i.task = "synthetic";
  i.preset = "tiny";
  i.optimizer = "metaadamw";
  i.total_steps = 100;
  for (size_t g = 0; g < groups; ++g) {
    i.group_names.push_back("g" + std::to_string(g));
    i.group_members.push_back({"g" + std::to_string(g) + ".weight"});
    i.group_sizes.push_back(4);
  }
  i.num_groups = static_cast<int64_t>(groups);
  i.feature_names = {"a", "b", "c"};
  i.modulator_layers = 1;
  i.modulator_heads = 1;
  i.modulator_design = "paper";
  i.alpha_range = 1.0;
  i.beta_range = 0.5;
  return i;
}

// Meta-update k (1-based) with distinct values; the last block (huw_s) and the head's
// change of the first update are NaN, as the engine reports absent blocks.
MetaUpdateRecord meta_record(int k) {
  MetaUpdateRecord r;
  r.step = 10 * k;
  r.index = k;
  r.total = 1.0 / k;
  for (size_t b = 0; b < r.grad_norm.size(); ++b) r.grad_norm[b] = 0.001 * k + 0.1 * b;
  r.grad_norm[7] = std::nan("");
  r.rel_change = {0.01 / k, 0.02 / k, k == 1 ? std::nan("") : 0.03 / k};
  r.at_bound = {0.0, 0.25 * (k % 5), 1.0, 0.5};
  return r;
}

TEST(RunModel, MetaUpdatesFillTheDiagnosticsTraces) {
  RunModel m("live", 64);
  m.on_start(meta_info(2));
  for (int k = 1; k <= 5; ++k) m.on_meta_update(meta_record(k));
  ASSERT_EQ(m.grad_norm.size(), 8u);
  ASSERT_EQ(m.rel_change.size(), 3u);
  ASSERT_EQ(m.at_bound.size(), 4u);
  for (size_t b = 0; b < 8; ++b) ASSERT_EQ(m.grad_norm[b].size(), 5u) << b;
  EXPECT_EQ(m.grad_norm[2].steps()[3], 40.0);
  EXPECT_DOUBLE_EQ(m.grad_norm[2].values()[3], 0.004 + 0.2);
  EXPECT_TRUE(all_nan(m.grad_norm[7]));  // a block the run lacks
  EXPECT_TRUE(std::isnan(m.rel_change[2].values()[0]));
  EXPECT_DOUBLE_EQ(m.rel_change[2].values()[1], 0.015);
  EXPECT_DOUBLE_EQ(m.rel_change[0].last_value(), 0.002);
  EXPECT_EQ(m.at_bound[1].values(), (std::vector<double>{0.25, 0.5, 0.75, 1.0, 0.0}));
  EXPECT_EQ(m.at_bound[2].last_value(), 1.0);
  EXPECT_EQ(m.info().modulator_design, "paper");
}

// Per-group means over a step range, and the effective learning rate relative to a
// reference run's (AdamW's) η or to the run's own.
TEST(RunModel, GroupMeansOverAStepRangeAndTheLearningRateRatio) {
  RunModel m("live", 64);
  m.on_start(meta_info(2));
  const double eta = 0.01;
  for (int s = 1; s <= 10; ++s) {
    Snapshot snap;
    snap.step = 10 * s;
    snap.groups = 2;
    snap.features = 3;
    snap.feature_values.assign(6, 0.0f);
    const float a0 = 1.0f + 0.1f * static_cast<float>(s), a1 = 0.5f;  // group 0 grows
    snap.factors = {a0, 0.9f, 0.1f, 0.2f, a1, 1.1f, 0.3f, 0.4f};
    snap.effective_lr = {static_cast<float>(eta * a0), static_cast<float>(eta * a1)};
    snap.effective_wd = {0.09f, 0.11f};
    m.on_snapshot(snap);
  }
  // The whole run: α0 = 1.1 … 2.0, mean 1.55; own η: the ratio is the mean of α.
  auto all = group_means(m, 0, 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].snapshots, 10u);
  EXPECT_NEAR(all[0].alpha, 1.55, 1e-6);
  EXPECT_NEAR(all[0].beta, 0.9, 1e-6);
  EXPECT_NEAR(all[0].effective_lr, eta * 1.55, 1e-8);
  EXPECT_NEAR(all[0].effective_wd, 0.09, 1e-7);
  EXPECT_NEAR(all[0].lr_ratio, 1.55, 1e-6);
  EXPECT_NEAR(all[1].lr_ratio, 0.5, 1e-6);
  // Steps 30–50: snapshots 3, 4, 5 (α0 = 1.3, 1.4, 1.5).
  auto part = group_means(m, 25, 55);
  EXPECT_EQ(part[0].snapshots, 3u);
  EXPECT_NEAR(part[0].alpha, 1.4, 1e-6);
  // Against AdamW's η, twice this run's and read at the snapshots' steps.
  Trace adamw_lr;
  for (int s = 1; s <= 100; ++s) adamw_lr.append(s, 0, 2 * eta);
  auto ref = group_means(m, 25, 55, &adamw_lr);
  EXPECT_NEAR(ref[0].lr_ratio, 0.7, 1e-6);
  EXPECT_NEAR(ref[1].lr_ratio, 0.25, 1e-6);
  // A range without snapshots: NaN, not 0.
  auto none = group_means(m, 101, 200);
  EXPECT_EQ(none[0].snapshots, 0u);
  EXPECT_TRUE(std::isnan(none[0].alpha));
  EXPECT_TRUE(std::isnan(none[0].lr_ratio));
}

// A log written from records (schema v2): the follower reads the diagnostics, NaN kept,
// and the design attributes. The same log rewritten as schema v1 still loads: NaN
// diagnostics, no design, everything else equal.
TEST(LogFollower, ReadsTheDiagnosticsAndOpensASchemaV1Log) {
  const std::string path =
      ::testing::TempDir() + "uimodel_diag_" + std::to_string(getpid()) + ".h5";
  {
    auto w = make_run_log_writer(path, RunConfig(), /*overwrite=*/true);
    w->on_start(meta_info(2));
    for (int s = 1; s <= 30; ++s) {
      StepRecord r;
      r.step = s;
      r.loss = 1.0 / s;
      r.lr = 0.01;
      w->on_step(r);
      if (s % 10 == 0) w->on_meta_update(meta_record(s / 10));
    }
    RunSummary done;
    done.status = RunStatus::completed;
    done.steps = 30;
    w->on_finish(done);
  }
  RunModel fed("fed", 64);
  fed.on_start(meta_info(2));
  for (int k = 1; k <= 3; ++k) fed.on_meta_update(meta_record(k));

  RunModel loaded(path, 64);
  LogFollower(path).poll(loaded);
  EXPECT_EQ(loaded.info().modulator_design, "paper");
  EXPECT_EQ(loaded.info().alpha_range, 1.0);
  EXPECT_EQ(loaded.info().beta_range, 0.5);
  for (size_t b = 0; b < 8; ++b) expect_same(loaded.grad_norm[b], fed.grad_norm[b], "grad norm");
  for (size_t p = 0; p < 3; ++p) expect_same(loaded.rel_change[p], fed.rel_change[p], "change");
  for (size_t f = 0; f < 4; ++f) expect_same(loaded.at_bound[f], fed.at_bound[f], "at bound");
  EXPECT_EQ(loaded.lr.size(), 30u);
  EXPECT_EQ(loaded.lr.last_value(), 0.01);

  ASSERT_TRUE(testing::downgrade_to_schema_v1(path));
  RunModel old(path, 64);
  LogFollower follower(path);
  EXPECT_EQ(follower.reader().schema_version(), 1);
  follower.poll(old);
  EXPECT_EQ(old.info().modulator_design, "");
  EXPECT_TRUE(std::isnan(old.info().alpha_range));
  EXPECT_TRUE(std::isnan(old.info().beta_range));
  expect_same(old.meta_total, loaded.meta_total, "meta total");
  expect_same(old.train_loss, loaded.train_loss, "train loss");
  for (const auto* traces : {old.grad_norm.data(), old.rel_change.data(), old.at_bound.data()})
    ASSERT_EQ(traces[0].size(), 3u);  // one point per meta-update, NaN
  for (const auto& t : old.grad_norm) EXPECT_TRUE(all_nan(t));
  for (const auto& t : old.rel_change) EXPECT_TRUE(all_nan(t));
  for (const auto& t : old.at_bound) EXPECT_TRUE(all_nan(t));
  std::remove(path.c_str());
}

// A log written by the previous version (tests/corpus/log/v2-metaadamw-tiny.h5: schema v2,
// `metaadamw train --task synthetic --preset tiny --optimizer metaadamw --threads 1 --steps 40
// --set snapshot_every=5 --set attention_every=10 --set meta_update_freq=10`, made before the
// run-log codec) opens whole, with the values it was written with.
TEST(LogFollower, OpensALogOfThePreviousVersion) {
  const std::string path =
      std::string(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5";
  RunModel m(path, 1024);
  LogFollower follower(path);
  EXPECT_EQ(follower.reader().schema_version(), 2);
  EXPECT_TRUE(follower.poll(m));
  EXPECT_EQ(m.info().task, "synthetic");
  EXPECT_EQ(m.info().optimizer, "metaadamw");
  EXPECT_EQ(m.info().modulator_design, "learning");
  EXPECT_EQ(m.info().total_steps, 40);
  EXPECT_EQ(m.groups(), 6);
  EXPECT_EQ(m.status(), "completed");
  ASSERT_EQ(m.train_loss.size(), 40u);
  EXPECT_FLOAT_EQ(static_cast<float>(m.train_loss.last_value()), 0.5648297f);
  // A series the codec added after version 2 (steps/grad_norm): held, every value NaN.
  ASSERT_EQ(m.step_series("grad_norm").size(), 40u);
  EXPECT_TRUE(std::isnan(m.step_series("grad_norm").last_value()));
  EXPECT_EQ(m.eval_loss.size(), 2u);
  EXPECT_EQ(m.eval_loss.last_step(), 40);
  ASSERT_EQ(m.factors.size(), 6u);
  EXPECT_EQ(m.factors[0][0].size(), 8u);  // snapshots every 5 steps
  EXPECT_FLOAT_EQ(static_cast<float>(m.factors[0][0].last_value()), 1.1236789f);  // α
  EXPECT_FLOAT_EQ(static_cast<float>(m.factors[0][2].last_value()), 0.5f);        // λ1
  EXPECT_EQ(m.attention.size(), 4u);                                              // every 10 steps
  EXPECT_EQ(m.attention.groups(), 6);
  ASSERT_EQ(m.l_grad.size(), 4u);  // a meta-update every 10 steps
  EXPECT_FLOAT_EQ(static_cast<float>(m.l_grad.last_value()), -0.38962242f);
  ASSERT_EQ(m.events.size(), 2u);
  EXPECT_EQ(m.events.back().kind, "completed");
  EXPECT_FALSE(follower.poll(m));  // finished: nothing more
}

TEST(LogFollower, ALoadedRunEqualsTheLiveOne) {
  const std::string path = ::testing::TempDir() + "uimodel_" + std::to_string(getpid()) + ".h5";
  const auto c = testing::logged_metaadamw_config(60, 20, 2, 10);
  RunModel live("live", 64);  // small capacity: both sides decimate the same way
  ASSERT_EQ(testing::run_logged(c, path, &live).status, RunStatus::completed);
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
  EXPECT_EQ(loaded.info().modulator_design, live.info().modulator_design);
  for (size_t b = 0; b < live.grad_norm.size(); ++b)
    expect_same(loaded.grad_norm[b], live.grad_norm[b], "grad norm");
  for (size_t p = 0; p < live.rel_change.size(); ++p)
    expect_same(loaded.rel_change[p], live.rel_change[p], "rel change");
  for (size_t f = 0; f < live.at_bound.size(); ++f)
    expect_same(loaded.at_bound[f], live.at_bound[f], "at bound");
  expect_same(loaded.lr, live.lr, "lr");
  // Every float64 column of the codec's steps table has its trace, live and loaded.
  // wall_time_s, loss, lr, three timings, ‖∇L‖, and data-parallel's two timings.
  EXPECT_EQ(live.step_series().size(), 9u);
  for (const auto& [name, trace] : live.step_series()) {
    EXPECT_EQ(trace.appended(), 60u) << name;
    expect_same(loaded.step_series(name), trace, name.c_str());
  }
  EXPECT_EQ(&live.step_series("loss"), &live.train_loss);
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
  for (size_t k = 0; k < live.events.size(); ++k) {
    EXPECT_EQ(loaded.events[k].step, live.events[k].step) << k;
    EXPECT_EQ(loaded.events[k].kind, live.events[k].kind) << k;
  }
  EXPECT_EQ(loaded.events.back().kind, "completed");
  // Replayed in the live run's order: each meta-update and snapshot at its own step's
  // wall time, not the last step's.
  EXPECT_EQ(loaded.meta_total.walls(), live.meta_total.walls());
  EXPECT_EQ(loaded.factors[0][0].walls(), live.factors[0][0].walls());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace maw::ui

namespace maw::ui {
namespace {

// Curves and seed bands group runs by variant: the two MetaAdamW designs stay apart.
TEST(RunModel, VariantAndLabelNameTheDesign) {
  RunModel a("a"), l("l"), p("p"), old("old");
  RunInfo i;
  i.optimizer = "adamw";
  a.on_start(i);
  i.optimizer = "metaadamw";
  i.feature_names = {"t"};
  i.modulator_design = "learning";
  l.on_start(i);
  i.modulator_design = "paper";
  i.seed = 2;
  p.on_start(i);
  i.modulator_design = "";  // a log written before schema v2
  old.on_start(i);
  EXPECT_EQ(a.variant(), "adamw");
  EXPECT_EQ(l.variant(), "metaadamw (learning)");
  EXPECT_EQ(p.label(), "metaadamw (paper) · seed 2");
  EXPECT_EQ(old.variant(), "metaadamw");
}

}  // namespace
}  // namespace maw::ui

namespace maw::ui {
namespace {

// Marching squares against the circle it must find: x² + y² = 1/4 on a 41 × 41 grid of
// [−1, 1]² — every piece's ends at radius 1/2 (to the grid's interpolation error), the
// pieces' length 2π · 1/2.
TEST(Contours, TheIsoLineOfAParaboloidIsItsCircle) {
  const int n = 41;
  std::vector<float> f;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double x = -1 + 2.0 * j / (n - 1), y = -1 + 2.0 * i / (n - 1);
      f.push_back(static_cast<float>(x * x + y * y));
    }
  const auto segs = contour_segments(f, n, n, 0.25, -1, 1, -1, 1);
  ASSERT_GT(segs.size(), 40u);
  double length = 0;
  for (const auto& s : segs) {
    EXPECT_NEAR(std::hypot(s.x1, s.y1), 0.5, 0.005);
    EXPECT_NEAR(std::hypot(s.x2, s.y2), 0.5, 0.005);
    length += std::hypot(s.x2 - s.x1, s.y2 - s.y1);
  }
  EXPECT_NEAR(length, M_PI, 0.01 * M_PI);
  EXPECT_TRUE(contour_segments(f, n, n, 5.0, -1, 1, -1, 1).empty());       // above everything
  EXPECT_TRUE(contour_segments(f, n, n - 1, 0.25, -1, 1, -1, 1).empty());  // wrong shape
}

// A saddle cell (x·y on one cell) is split by its centre: at level 0.1 the centre (0) is
// below, with the low corners, so the lines cut off the two high corners, one each.
TEST(Contours, ASaddleIsSplitByItsCentre) {
  const std::vector<float> f = {1, -1, -1, 1};  // rows y = −1, 1; columns x = −1, 1
  const auto segs = contour_segments(f, 2, 2, 0.1, -1, 1, -1, 1);
  ASSERT_EQ(segs.size(), 2u);
  for (const auto& s : segs) {
    // Both ends near one high corner: (−1, −1) or (1, 1).
    const double sign = s.x1 + s.y1 < 0 ? -1 : 1;
    EXPECT_GT(sign * (s.x2 + s.y2), 0);
    EXPECT_GT(sign * s.x1, 0.4);
    EXPECT_GT(sign * s.y2, 0.4);
  }
}

TEST(Contours, LevelsAtTheValuesQuantiles) {
  std::vector<float> v;
  for (int i = 0; i < 100; ++i) v.push_back(static_cast<float>(i));
  const auto l = contour_levels(v, 3);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_NEAR(l[0], 24.75, 1e-9);
  EXPECT_NEAR(l[1], 49.5, 1e-9);
  EXPECT_NEAR(l[2], 74.25, 1e-9);
  EXPECT_TRUE(contour_levels(std::vector<float>(10, 1.0f), 3).empty());  // flat: none
}

}  // namespace
}  // namespace maw::ui
