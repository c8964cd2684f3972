#include "api/run_log_replay.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <vector>

#include "api/errors.h"
#include "api/log_schema.h"

namespace maw {
namespace {

using logschema::Column;
using logschema::Dims;
using logschema::dims_of;
using logschema::Elem;
using logschema::Table;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kNoLimit = std::numeric_limits<int64_t>::max();

int64_t integer_attribute(const RunLogReader& r, const char* name) {
  return std::strtoll(r.attribute(name, "0").c_str(), nullptr, 10);
}

// A float64 attribute, NaN when the log has none (written before it existed).
double number_attribute(const RunLogReader& r, const char* name) {
  const std::string v = r.attribute(name);
  return v.empty() ? kNaN : std::strtod(v.c_str(), nullptr);
}

template <class R>
std::string path_of(const Table<R>& t, const Column<R>& c) {
  return std::string(t.folder) + "/" + c.name;
}

// Rows every column of the table that the log has holds (in a growing file one series
// may be a row ahead of another), with `more` series counted too.
template <class R>
uint64_t extent(const RunLogReader& r, const Table<R>& t, const std::vector<std::string>& more) {
  uint64_t n = std::numeric_limits<uint64_t>::max();
  bool any = false;
  for (const auto& c : t.columns) {
    const auto p = path_of(t, c);
    if (!r.has(p)) continue;
    n = std::min(n, r.rows(p));
    any = true;
  }
  for (const auto& p : more)
    if (r.has(p)) n = std::min(n, r.rows(p));
  return any ? n : 0;
}

std::string shape_text(const std::vector<uint64_t>& inner) {
  std::string s = "[n";
  for (auto d : inner) s += ", " + std::to_string(d);
  return s + "]";
}

// Rows [first, first + n) of a table as records. A column the log lacks (an older
// schema) decodes as NaN (0 for integers); a text the codec does not know marks its row
// in `unknown`.
template <class R>
std::vector<R> decode_rows(const RunLogReader& r, const Table<R>& t, const Dims& dims,
                           uint64_t first, uint64_t n, std::vector<bool>* unknown = nullptr) {
  std::vector<R> out(n);
  if (unknown) unknown->assign(n, false);
  for (const auto& c : t.columns) {
    const auto p = path_of(t, c);
    if (c.elem == Elem::text) {
      if (!r.has(p)) continue;
      const auto texts = r.read_strings(p, first, n);
      for (uint64_t k = 0; k < n && k < texts.size(); ++k)
        if (!c.decode_text(out[k], texts[k]) && unknown) (*unknown)[k] = true;
      continue;
    }
    std::vector<uint64_t> want;
    size_t inner = 1;
    for (const auto a : c.inner) {
      want.push_back(static_cast<uint64_t>(logschema::length(a, dims)));
      inner *= static_cast<size_t>(want.back());
    }
    if (!r.has(p)) {
      const std::vector<double> missing(std::max<size_t>(inner, 1), kNaN);
      for (auto& rec : out) c.decode(rec, missing.data(), inner);
      continue;
    }
    const auto& shape = r.info(p).shape;
    if (std::vector<uint64_t>(shape.begin() + 1, shape.end()) != want)
      throw DataError("run log '" + r.path() + "': series '" + p + "' is " +
                      shape_text({shape.begin() + 1, shape.end()}) + " where the run's groups, " +
                      "features, layers and heads make it " + shape_text(want));
    const auto v = r.read(p, first, n);
    if (v.size() < n * inner)
      throw DataError("run log '" + r.path() + "': series '" + p + "' ends early");
    for (uint64_t k = 0; k < n; ++k) c.decode(out[k], v.data() + k * inner, inner);
  }
  return out;
}

// The order of a live run within one step: step, meta-update, snapshot, evaluation, events.
enum Rank {
  kStep,
  kMeta,
  kSnapshot,
  kTrajectory,
  kEval,
  kLandscape,
  kInterpolation,
  kEvent,
  kRanks
};

struct Pending {
  int64_t key;
  Rank rank;
  size_t index;  // in its table's decoded records
};

}  // namespace

RunInfo decode_run_info(const RunLogReader& r) {
  RunInfo i;
  i.task = r.attribute("task");
  i.preset = r.attribute("preset");
  i.optimizer = r.attribute("optimizer");
  i.seed = std::strtoull(r.attribute("seed", "0").c_str(), nullptr, 10);
  i.device = r.attribute("device");
  i.cpu_convolution = r.attribute("cpu_convolution");
  i.total_steps = integer_attribute(r, "total_steps");
  i.steps_per_epoch = integer_attribute(r, "steps_per_epoch");
  i.num_parameters = integer_attribute(r, "num_parameters");
  i.metric_name = r.attribute("metric_name", "metric");
  i.metric_higher_is_better = r.attribute("metric_higher_is_better") == "1";
  i.snapshot_every = integer_attribute(r, "snapshot_every");
  i.attention_every = integer_attribute(r, "attention_every");
  i.modulator_design = r.attribute("modulator_design");  // "" before schema v2, or AdamW
  i.alpha_range = number_attribute(r, "alpha_range");
  i.trajectory_directions = integer_attribute(r, "trajectory_directions");  // 0 before v4
  i.trajectory_checksum = number_attribute(r, "trajectory_checksum");
  i.trajectory_full_coordinates = integer_attribute(r, "trajectory_full_coordinates");
  i.landscape_grid = integer_attribute(r, "landscape_grid");
  i.beta_range = number_attribute(r, "beta_range");
  i.world_size = std::max<int64_t>(1, integer_attribute(r, "world_size"));  // 1 before v5
  i.dist_backend = r.attribute("dist_backend");
  i.final_parameters = r.has("final/parameters");
  if (i.final_parameters) {
    const auto& shape = r.info("final/parameters").shape;  // [1, P + B]
    if (shape.size() == 2 && static_cast<int64_t>(shape[1]) > i.num_parameters)
      i.num_buffer_values = static_cast<int64_t>(shape[1]) - i.num_parameters;
  }
  if (r.has("interpolation/alpha")) {
    const auto& shape = r.info("interpolation/alpha").shape;  // [1, N]
    i.interpolation_points = shape.size() == 2 ? static_cast<int64_t>(shape[1]) : 0;
  }
  if (r.has("groups/name")) i.group_names = r.read_strings("groups/name");
  if (r.has("groups/members"))
    for (const auto& m : r.read_strings("groups/members"))
      i.group_members.push_back(split_list(m, ';'));
  if (r.has("groups/shapes"))
    for (const auto& m : r.read_strings("groups/shapes"))
      i.group_shapes.push_back(split_list(m, ';'));
  if (r.has("groups/size"))
    for (double v : r.read("groups/size")) i.group_sizes.push_back(static_cast<int64_t>(v));
  i.num_groups = static_cast<int64_t>(i.group_names.size());
  for (const auto& s : r.series())
    if (s.path.rfind("evals/extra/", 0) == 0) i.eval_extras.push_back(s.path.substr(12));
  if (r.has("snapshots/feature_names")) i.feature_names = r.read_strings("snapshots/feature_names");
  if (r.has("attention/probs")) {
    const auto& shape = r.info("attention/probs").shape;  // [A, L, H, G, G]
    if (shape.size() == 5) {
      i.modulator_layers = static_cast<int64_t>(shape[1]);
      i.modulator_heads = static_cast<int64_t>(shape[2]);
    }
  }
  return i;
}

bool replay(const RunLogReader& r, ReplayCursor& c, RunObserver& o, const ReplayOptions& opt) {
  bool any = false;
  if (!c.started) {
    c.info = decode_run_info(r);
    o.on_start(c.info);
    c.started = any = true;
  }
  if (c.finished) return any;
  const bool complete = r.status() != "running" || !r.writer_alive();
  const RunInfo& info = c.info;
  const Dims dims = dims_of(info);

  // Every table's new rows.
  const auto& ts = logschema::steps();
  const auto& te = logschema::evals();
  const auto& tv = logschema::events();
  const auto& tsn = logschema::snapshots();
  const auto& ta = logschema::attention();
  const auto& tm = logschema::meta();
  const auto& tt = logschema::trajectory();
  const auto& tl = logschema::landscape();
  const auto& ti = logschema::interpolation();
  std::vector<std::string> extra_paths;
  for (const auto& name : info.eval_extras) extra_paths.push_back("evals/extra/" + name);
  auto fresh = [&](const char* folder, uint64_t rows, unsigned table) {
    const uint64_t from = c.rows[folder];
    if (!(opt.tables & table)) rows = from;  // not asked for: none new
    return std::make_pair(from, rows > from ? rows - from : 0);
  };
  using T = ReplayOptions::Table;
  const auto [s0, sn] = fresh(ts.folder, extent(r, ts, {}), T::steps);
  const auto [e0, en] = fresh(te.folder, extent(r, te, extra_paths), T::evals);
  const auto [v0, vn] = fresh(tv.folder, extent(r, tv, {}), T::events);
  const auto [p0, pn] = fresh(tsn.folder, extent(r, tsn, {}), T::snapshots);
  const auto [a0, an] = fresh(ta.folder, extent(r, ta, {}), T::snapshots);
  const auto [m0, mn] = fresh(tm.folder, extent(r, tm, {}), T::meta);
  const auto [t0, tn] = fresh(tt.folder, extent(r, tt, {}), T::trajectory);
  const auto [l0, ln] = fresh(tl.folder, extent(r, tl, {}), T::trajectory);
  const auto [i0, in] = fresh(ti.folder, extent(r, ti, {}), T::trajectory);

  const auto steps = decode_rows(r, ts, dims, s0, sn);
  auto evals = decode_rows(r, te, dims, e0, en);
  for (size_t x = 0; x < extra_paths.size(); ++x) {
    const auto v =
        en && r.has(extra_paths[x]) ? r.read(extra_paths[x], e0, en) : std::vector<double>{};
    for (uint64_t k = 0; k < en; ++k)
      evals[k].extras.emplace_back(info.eval_extras[x], k < v.size() ? v[k] : kNaN);
  }
  std::vector<bool> unknown;
  const auto events = decode_rows(r, tv, dims, v0, vn, &unknown);
  auto snaps = decode_rows(r, tsn, dims, p0, pn);
  const auto metas = decode_rows(r, tm, dims, m0, mn);
  const auto points = decode_rows(r, tt, dims, t0, tn);
  const auto landscapes = decode_rows(r, tl, dims, l0, ln);
  const auto lines = decode_rows(r, ti, dims, i0, in);
  // Attention: the steps of every new map, the maps themselves only for the newest that
  // fit the budget.
  const auto att_steps = an ? r.read("attention/step", a0, an) : std::vector<double>{};
  const uint64_t map_floats =
      static_cast<uint64_t>(dims.layers * dims.heads * dims.groups * dims.groups);
  const uint64_t keep =
      map_floats ? std::max<uint64_t>(1, opt.attention_budget_bytes / (map_floats * 4)) : 0;
  const uint64_t a_end = a0 + an;
  const uint64_t first_map = a_end > keep ? std::max(a0, a_end - keep) : a0;
  std::vector<Snapshot> maps;
  if (first_map < a_end) maps = decode_rows(r, ta, dims, first_map, a_end - first_map);

  // A growing file: deliver what lies before its newest step (that step's other records
  // may not be visible yet); a finished one: everything.
  int64_t limit = kNoLimit;
  if (!complete) {
    const uint64_t held = extent(r, ts, {});
    limit = held ? static_cast<int64_t>(r.read("steps/step", held - 1, 1).at(0)) : c.last_step;
  }
  const bool limited = !complete;

  std::vector<Pending> order;
  for (size_t k = 0; k < steps.size(); ++k) order.push_back({steps[k].step, kStep, k});
  for (size_t k = 0; k < metas.size(); ++k) order.push_back({metas[k].step, kMeta, k});
  // A snapshot that should carry attention waits for its map in a growing file.
  uint64_t att = 0;  // new attention rows consumed
  size_t snaps_due = snaps.size();
  for (size_t k = 0; k < snaps.size(); ++k) {
    Snapshot& s = snaps[k];
    s.groups = dims.groups;
    s.features = dims.features;
    s.layers = dims.layers;
    s.heads = dims.heads;
    s.group_names = info.group_names;
    s.feature_names = info.feature_names;
    while (att < an && static_cast<int64_t>(att_steps[att]) < s.step) ++att;  // orphan maps
    const bool expects = info.attention_every > 0 && s.step % info.attention_every == 0;
    if (att < an && static_cast<int64_t>(att_steps[att]) == s.step) {
      if (a0 + att >= first_map) s.attention = std::move(maps[a0 + att - first_map].attention);
      ++att;
    } else if (expects && !complete) {
      snaps_due = k;
      break;
    }
    order.push_back({s.step, kSnapshot, k});
  }
  // Nothing of a later step passes a snapshot that waits for its map.
  if (snaps_due < snaps.size()) limit = std::min(limit, snaps[snaps_due].step);
  for (size_t k = 0; k < evals.size(); ++k) order.push_back({evals[k].step, kEval, k});
  for (size_t k = 0; k < points.size(); ++k) order.push_back({points[k].step, kTrajectory, k});
  for (size_t k = 0; k < landscapes.size(); ++k)
    order.push_back({landscapes[k].step, kLandscape, k});
  for (size_t k = 0; k < lines.size(); ++k) order.push_back({lines[k].step, kInterpolation, k});
  int64_t before = c.last_step;
  for (size_t k = 0; k < events.size(); ++k) {
    before = events[k].step >= 0 ? events[k].step : before;  // -1: not tied to a step
    order.push_back({before, kEvent, k});
  }
  std::stable_sort(order.begin(), order.end(), [](const Pending& a, const Pending& b) {
    return a.key != b.key ? a.key < b.key : a.rank < b.rank;
  });

  uint64_t delivered[kRanks] = {};
  for (const auto& p : order) {
    if ((limited || snaps_due < snaps.size()) && p.key >= limit)
      break;  // the order is by key: nothing later is due
    ++delivered[p.rank];
    switch (p.rank) {
      case kStep: o.on_step(steps[p.index]); break;
      case kMeta: o.on_meta_update(metas[p.index]); break;
      case kSnapshot: o.on_snapshot(snaps[p.index]); break;
      case kTrajectory: o.on_trajectory(points[p.index]); break;
      case kLandscape: o.on_landscape(landscapes[p.index]); break;
      case kInterpolation: o.on_interpolation(lines[p.index]); break;
      case kEval:
        o.on_eval(evals[p.index]);
        c.last_eval = evals[p.index];
        c.any_eval = true;
        break;
      case kEvent:
        if (!unknown[p.index]) o.on_event(events[p.index]);
        break;
      case kRanks: break;  // (the count, no record)
    }
    c.last_step = std::max(c.last_step, p.key);
    any = true;
  }
  c.rows[ts.folder] += delivered[kStep];
  c.rows[tm.folder] += delivered[kMeta];
  c.rows[tsn.folder] += delivered[kSnapshot];
  c.rows[te.folder] += delivered[kEval];
  c.rows[tv.folder] += delivered[kEvent];
  c.rows[tt.folder] += delivered[kTrajectory];
  c.rows[tl.folder] += delivered[kLandscape];
  c.rows[ti.folder] += delivered[kInterpolation];
  // The attention rows of the delivered snapshots (and the orphans before them).
  uint64_t used = 0;
  for (size_t k = 0; k < delivered[kSnapshot]; ++k)
    while (used < an && static_cast<int64_t>(att_steps[used]) <= snaps[k].step) ++used;
  c.rows[ta.folder] += used;

  // The end: the summary the log can give, once everything is delivered.
  const bool all = delivered[kStep] == sn && delivered[kMeta] == mn && delivered[kSnapshot] == pn &&
                   delivered[kEval] == en && delivered[kEvent] == vn &&
                   delivered[kTrajectory] == tn && delivered[kLandscape] == ln &&
                   delivered[kInterpolation] == in;
  const std::string status = r.status();
  if (complete && all && status != "running") {
    c.finished = true;
    if (status == "error") {
      o.on_error(r.attribute("message"));
    } else {
      RunSummary s;
      s.task = info.task;
      s.preset = info.preset;
      s.optimizer = info.optimizer;
      s.seed = info.seed;
      s.metric_name = info.metric_name;
      s.metric_higher_is_better = info.metric_higher_is_better;
      s.device = info.device;
      s.num_parameters = info.num_parameters;
      s.num_groups = info.num_groups;
      s.status = enum_from<RunStatus>(status).value_or(RunStatus::aborted);
      s.message = r.attribute("message");
      s.steps = integer_attribute(r, "steps_done");
      s.meta_updates = static_cast<int64_t>(c.rows[tm.folder]);
      if (c.any_eval) {
        s.eval_loss = c.last_eval.loss;
        s.eval_metric = c.last_eval.metric;
        s.eval_extras = c.last_eval.extras;
        s.wall_time_s = c.last_eval.wall_time_s;
      }
      o.on_finish(s);
    }
    any = true;
  }
  return any;
}

StoredProbes stored_probes(const RunLogReader& r) {
  struct Probes : RunObserver {
    StoredProbes out;
    void on_landscape(const LandscapeRecord& x) override { out.landscape = x; }
    void on_interpolation(const InterpolationRecord& x) override { out.interpolation = x; }
  } probes;
  ReplayCursor cursor;
  ReplayOptions opt;
  opt.tables = ReplayOptions::Table::trajectory;
  replay(r, cursor, probes, opt);
  return probes.out;
}

}  // namespace maw
