// The trajectory (train/trajectory.h) against a naive computation, its directions'
// filter normalization, and one plane per seed for every optimizer of a comparison.
#include <gtest/gtest.h>

#include <cmath>

#include "api/errors.h"
#include "api/session.h"
#include "train/trajectory.h"

namespace maw::train {
namespace {

std::vector<torch::Tensor> some_parameters(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({4, 3}), torch::randn({4}), torch::randn({2, 3, 2}), torch::randn({5, 2})};
}

std::vector<optim::ParamGroup> two_groups() {
  optim::ParamGroup a{"a", {0, 1}, {"w", "b"}, 16}, b{"b", {2, 3}, {"c", "e"}, 22};
  return {a, b};
}

TEST(Trajectory, ProjectionsAndDistancesEqualANaiveLoop) {
  const auto start = some_parameters(1);
  const Trajectory t(start, two_groups(), 3, 42);
  ASSERT_EQ(t.directions(), 3);
  std::vector<torch::Tensor> now;
  torch::manual_seed(2);
  for (const auto& p : start) now.push_back(p + 0.1 * torch::randn(p.sizes()));
  const auto r = t.measure(7, now);
  EXPECT_EQ(r.step, 7);
  // Naive: element by element in double.
  std::vector<double> dot(3, 0.0), norm2(3, 0.0), group_sq(2, 0.0);
  for (size_t j = 0; j < start.size(); ++j) {
    const auto a = start[j].flatten(), b = now[j].flatten();
    for (int64_t e = 0; e < a.numel(); ++e) {
      const double delta = static_cast<double>(b[e].item<float>() - a[e].item<float>());
      group_sq[j < 2 ? 0 : 1] += delta * delta;
      for (size_t k = 0; k < 3; ++k) {
        const auto& d = t.direction_tensors()[k][j];
        if (!d.defined()) continue;
        const double de = d.flatten()[e].item<double>();
        dot[k] += delta * de;
        norm2[k] += de * de;
      }
    }
  }
  ASSERT_EQ(r.coords.size(), 3u);
  for (size_t k = 0; k < 3; ++k)
    EXPECT_NEAR(r.coords[k], dot[k] / norm2[k], 1e-6 * (1 + std::abs(dot[k] / norm2[k]))) << k;
  EXPECT_NEAR(r.distance, std::sqrt(group_sq[0] + group_sq[1]), 1e-9);
  ASSERT_EQ(r.group_distance.size(), 2u);
  EXPECT_NEAR(r.group_distance[0], std::sqrt(group_sq[0]), 1e-6);
  EXPECT_NEAR(r.group_distance[1], std::sqrt(group_sq[1]), 1e-6);
  // At θ_0: the origin.
  const auto o = t.measure(0, start);
  for (float c : o.coords) EXPECT_EQ(c, 0.0f);
  EXPECT_EQ(o.distance, 0.0);
}

TEST(Trajectory, DirectionsAreFilterNormalizedAndBiasesHaveNone) {
  const auto start = some_parameters(3);
  const Trajectory t(start, two_groups(), 2, 5);
  for (const auto& d : t.direction_tensors()) {
    EXPECT_FALSE(d[1].defined());  // the 1-d bias
    for (size_t j : {0u, 2u, 3u}) {
      ASSERT_TRUE(d[j].defined());
      ASSERT_EQ(d[j].sizes(), start[j].sizes());
      const auto dn = d[j].reshape({d[j].size(0), -1}).to(torch::kDouble).norm(2, 1);
      const auto pn = start[j].reshape({start[j].size(0), -1}).to(torch::kDouble).norm(2, 1);
      EXPECT_TRUE(torch::allclose(dn, pn, 1e-5, 1e-7)) << j;  // each filter: θ_0's norm
    }
  }
}

// Full snapshots: θ_t − θ_0 at every ⌈P / M⌉-th parameter in model order.
TEST(Trajectory, FullSnapshotsSampleEveryStrideThCoordinate) {
  const auto start = some_parameters(6);  // 12 + 4 + 12 + 10 = 38 values
  Trajectory t(start, two_groups(), 2, 1);
  EXPECT_EQ(t.keep_full(10), 10);  // stride 4: coordinates 0, 4, …, 36
  std::vector<torch::Tensor> now;
  for (const auto& p : start) now.push_back(p + 0.5 * torch::randn(p.sizes()));
  const auto r = t.measure(3, now, /*full=*/true);
  std::vector<float> flat;
  for (size_t j = 0; j < start.size(); ++j) {
    const auto d = (now[j] - start[j]).flatten();
    for (int64_t e = 0; e < d.numel(); ++e) flat.push_back(d[e].item<float>());
  }
  ASSERT_EQ(flat.size(), 38u);
  ASSERT_EQ(r.full.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(r.full[i], flat[4 * i]) << i;
  EXPECT_TRUE(t.measure(3, now).full.empty());  // only when asked
}

TEST(Trajectory, OneSeedOnePlaneAnotherSeedAnother) {
  const auto start = some_parameters(4);
  const Trajectory a(start, two_groups(), 2, 9), b(start, two_groups(), 2, 9),
      c(start, two_groups(), 2, 10);
  EXPECT_EQ(a.checksum(), b.checksum());
  EXPECT_NE(a.checksum(), c.checksum());
  for (size_t k = 0; k < 2; ++k)
    for (size_t j : {0u, 2u, 3u})
      EXPECT_TRUE(torch::equal(a.direction_tensors()[k][j], b.direction_tensors()[k][j]));
}

// Both optimizers of a seed: one plane (equal checksums), paths from the origin every
// snapshot_every steps; different optimizers, different paths.
TEST(Trajectory, BothOptimizersOfASeedShareThePlane) {
  struct Points : RunObserver {
    RunInfo info;
    std::vector<TrajectoryRecord> points;
    void on_start(const RunInfo& i) override { info = i; }
    void on_trajectory(const TrajectoryRecord& r) override { points.push_back(r); }
  };
  auto config = [](const std::string& optimizer) {
    RunConfig c;
    c.set("preset", "tiny");
    c.set("device", "cpu");
    c.set("threads", "1");
    c.set("steps", "30");
    c.set("snapshot_every", "10");
    c.set("meta_update_freq", "10");
    c.set("optimizer", optimizer);
    return c;
  };
  Points a, m;
  auto run = [&config](const std::string& optimizer, Points& obs) {
    Session s(config(optimizer));
    s.add_observer(&obs);
    s.run();
  };
  run("adamw", a);
  run("metaadamw", m);
  EXPECT_EQ(a.info.trajectory_directions, 2);
  EXPECT_EQ(a.info.trajectory_checksum, m.info.trajectory_checksum);
  EXPECT_GT(a.info.trajectory_checksum, 0.0);
  for (const auto* p : {&a, &m}) {
    ASSERT_EQ(p->points.size(), 4u);  // steps 0, 10, 20, 30
    EXPECT_EQ(p->points[0].step, 0);
    EXPECT_EQ(p->points[0].distance, 0.0);
    EXPECT_EQ(p->points[3].step, 30);
    EXPECT_GT(p->points[3].distance, 0.0);
    EXPECT_EQ(p->points[3].group_distance.size(), static_cast<size_t>(p->info.num_groups));
  }
  EXPECT_NE(a.points[3].coords, m.points[3].coords);
  // Off: no points, no directions.
  Points none;
  auto off = config("adamw");
  off.set("trajectory_directions", "0");
  Session s(off);
  s.add_observer(&none);
  s.run();
  EXPECT_TRUE(none.points.empty());
  EXPECT_EQ(none.info.trajectory_directions, 0);
}

// The landscape at the end of a run: an N × N grid around the end's plane coordinates whose
// centre is θ_T itself — its loss on the fixed batch (here the whole 256-example evaluation
// split) equals the final evaluation's, computed by Task::evaluate after θ_T is restored.
TEST(Trajectory, TheLandscapesCentreIsTheFinalModel) {
  struct Rec : RunObserver {
    std::vector<LandscapeRecord> landscapes;
    std::vector<EvalRecord> evals;
    std::vector<TrajectoryRecord> points;
    RunInfo info;
    void on_start(const RunInfo& i) override { info = i; }
    void on_landscape(const LandscapeRecord& r) override { landscapes.push_back(r); }
    void on_eval(const EvalRecord& e) override { evals.push_back(e); }
    void on_trajectory(const TrajectoryRecord& r) override { points.push_back(r); }
  } rec;
  RunConfig c;
  c.set("preset", "tiny");
  c.set("device", "cpu");
  c.set("threads", "1");
  c.set("steps", "20");
  c.set("snapshot_every", "5");
  c.set("landscape_grid", "5");
  Session s(c);
  s.add_observer(&rec);
  const auto summary = s.run();
  EXPECT_EQ(rec.info.landscape_grid, 5);
  ASSERT_EQ(rec.landscapes.size(), 1u);
  const auto& l = rec.landscapes[0];
  ASSERT_EQ(l.loss.size(), 25u);
  EXPECT_EQ(l.step, 20);
  EXPECT_EQ(l.examples, 256);
  EXPECT_EQ(l.center_x, rec.points.back().coords[0]);
  EXPECT_EQ(l.center_y, rec.points.back().coords[1]);
  // The path fits: every point within the half-width of the centre.
  for (const auto& p : rec.points) {
    EXPECT_LE(std::abs(p.coords[0] - l.center_x), l.half_width);
    EXPECT_LE(std::abs(p.coords[1] - l.center_y), l.half_width);
  }
  ASSERT_FALSE(rec.evals.empty());
  EXPECT_NEAR(l.loss[12], summary.eval_loss, 1e-6 * std::abs(summary.eval_loss));
  EXPECT_NEAR(l.loss[12], rec.evals.back().loss, 1e-6 * std::abs(rec.evals.back().loss));
  EXPECT_NE(l.loss[0], l.loss[12]);  // away from the centre the loss differs
  // Without the plane it is refused before the first step.
  c.set("trajectory_directions", "1");
  EXPECT_THROW(Session(c).run(), ConfigError);
}

}  // namespace
}  // namespace maw::train
