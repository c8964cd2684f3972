#include "model/log_follower.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>

namespace maw::ui {
namespace {

constexpr uint64_t kBlock = 65536;  // rows read at once

// Rows every listed series has (a growing file may differ by one between series).
uint64_t common_rows(const RunLogReader& r, const std::vector<std::string>& paths) {
  uint64_t n = std::numeric_limits<uint64_t>::max();
  for (const auto& p : paths) {
    if (!r.has(p)) return 0;
    n = std::min(n, r.rows(p));
  }
  return n;
}

// A float64 root attribute, NaN when the log has none (written before it existed).
double number_attribute(const RunLogReader& r, const char* name) {
  const std::string v = r.attribute(name);
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : std::strtod(v.c_str(), nullptr);
}

// One [M, K] diagnostics dataset of meta/ (schema v2): rows [first, first + n) into the
// records' arrays, or NaN where the log lacks it (schema v1).
template <size_t K>
void read_meta_columns(const RunLogReader& r, const char* path, uint64_t first, uint64_t n,
                       std::vector<MetaUpdateRecord>& out,
                       std::array<double, K> MetaUpdateRecord::*field) {
  const bool present = r.has(path) && r.info(path).shape.size() == 2 && r.info(path).shape[1] == K;
  const auto v = present ? r.read(path, first, n) : std::vector<double>{};
  for (uint64_t k = 0; k < n; ++k)
    for (size_t j = 0; j < K; ++j)
      (out[k].*field)[j] = present && (k + 1) * K <= v.size()
                               ? v[k * K + j]
                               : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

LogFollower::LogFollower(const std::string& path) : reader_(path) {}

bool LogFollower::live() const {
  return reader_.writer_alive();
}

RunInfo LogFollower::run_info() const {
  const auto& r = reader_;
  RunInfo i;
  i.task = r.attribute("task");
  i.preset = r.attribute("preset");
  i.optimizer = r.attribute("optimizer");
  i.seed = std::strtoull(r.attribute("seed", "0").c_str(), nullptr, 10);
  i.device = r.attribute("device");
  i.total_steps = std::atoll(r.attribute("total_steps", "0").c_str());
  i.steps_per_epoch = std::atoll(r.attribute("steps_per_epoch", "0").c_str());
  i.num_parameters = std::atoll(r.attribute("num_parameters", "0").c_str());
  i.metric_name = r.attribute("metric_name", "metric");
  i.metric_higher_is_better = r.attribute("metric_higher_is_better") == "1";
  i.snapshot_every = std::atoll(r.attribute("snapshot_every", "0").c_str());
  i.attention_every = std::atoll(r.attribute("attention_every", "0").c_str());
  i.modulator_design = r.attribute("modulator_design");  // "" before schema v2, or AdamW
  i.alpha_range = number_attribute(r, "alpha_range");
  i.beta_range = number_attribute(r, "beta_range");
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

bool LogFollower::poll(RunModel& model) {
  auto& r = reader_;
  bool grew = false;
  if (!started_) {
    model.start(run_info());
    started_ = true;
    grew = true;
  } else {
    grew = r.refresh();
  }

  // Steps.
  const uint64_t ns =
      common_rows(r, {"steps/step", "steps/epoch", "steps/wall_time_s", "steps/loss", "steps/lr",
                      "steps/forward_backward_ms", "steps/optimizer_ms", "steps/meta_ms"});
  for (; steps_ < ns;) {
    const uint64_t n = std::min(kBlock, ns - steps_);
    const auto step = r.read("steps/step", steps_, n), epoch = r.read("steps/epoch", steps_, n),
               wall = r.read("steps/wall_time_s", steps_, n),
               loss = r.read("steps/loss", steps_, n), lr = r.read("steps/lr", steps_, n),
               fb = r.read("steps/forward_backward_ms", steps_, n),
               opt = r.read("steps/optimizer_ms", steps_, n),
               meta = r.read("steps/meta_ms", steps_, n);
    for (uint64_t k = 0; k < n; ++k)
      model.step({static_cast<int64_t>(step[k]), static_cast<int64_t>(epoch[k]), loss[k], lr[k],
                  wall[k], fb[k], opt[k], meta[k]});
    steps_ += n;
    grew = true;
  }

  // Evaluations (+ extras).
  const uint64_t ne = common_rows(r, {"evals/step", "evals/epoch", "evals/loss", "evals/metric",
                                      "evals/eval_ms", "evals/wall_time_s"});
  if (evals_ < ne) {
    const uint64_t n = ne - evals_;
    const auto step = r.read("evals/step", evals_, n), epoch = r.read("evals/epoch", evals_, n),
               loss = r.read("evals/loss", evals_, n), metric = r.read("evals/metric", evals_, n),
               ms = r.read("evals/eval_ms", evals_, n),
               wall = r.read("evals/wall_time_s", evals_, n);
    std::vector<std::pair<std::string, std::vector<double>>> extras;
    for (const auto& name : model.info().eval_extras) {
      const std::string p = "evals/extra/" + name;
      if (r.rows(p) >= ne) extras.emplace_back(name, r.read(p, evals_, n));
    }
    for (uint64_t k = 0; k < n; ++k) {
      EvalRecord e{static_cast<int64_t>(step[k]),
                   static_cast<int64_t>(epoch[k]),
                   loss[k],
                   metric[k],
                   ms[k],
                   wall[k],
                   {}};
      for (const auto& [name, v] : extras) e.extras.emplace_back(name, v[k]);
      model.eval(e);
    }
    evals_ = ne;
    grew = true;
  }

  // Snapshots (attention separately below).
  const auto& info = model.info();
  const uint64_t nsn = common_rows(r, {"snapshots/step", "snapshots/features", "snapshots/factors",
                                       "snapshots/effective_lr", "snapshots/effective_wd"});
  const auto G = static_cast<uint64_t>(info.group_names.size());
  const auto F = static_cast<uint64_t>(info.feature_names.size());
  for (; snapshots_ < nsn;) {
    const uint64_t n = std::min<uint64_t>(4096, nsn - snapshots_);
    const auto step = r.read("snapshots/step", snapshots_, n),
               feats = r.read("snapshots/features", snapshots_, n),
               facs = r.read("snapshots/factors", snapshots_, n),
               elr = r.read("snapshots/effective_lr", snapshots_, n),
               ewd = r.read("snapshots/effective_wd", snapshots_, n);
    for (uint64_t k = 0; k < n; ++k) {
      Snapshot s;
      s.step = static_cast<int64_t>(step[k]);
      s.groups = static_cast<int64_t>(G);
      s.features = static_cast<int64_t>(F);
      s.feature_values.assign(feats.begin() + static_cast<long>(k * G * F),
                              feats.begin() + static_cast<long>((k + 1) * G * F));
      s.factors.assign(facs.begin() + static_cast<long>(k * G * factor::count),
                       facs.begin() + static_cast<long>((k + 1) * G * factor::count));
      s.effective_lr.assign(elr.begin() + static_cast<long>(k * G),
                            elr.begin() + static_cast<long>((k + 1) * G));
      s.effective_wd.assign(ewd.begin() + static_cast<long>(k * G),
                            ewd.begin() + static_cast<long>((k + 1) * G));
      model.snapshot(s);
    }
    snapshots_ += n;
    grew = true;
  }

  // Attention: only the maps the model keeps are read (the newest, within its budget).
  const uint64_t na = common_rows(r, {"attention/step", "attention/probs"});
  if (attention_ < na) {
    const auto steps = r.read("attention/step", attention_, na - attention_);
    const int64_t L = info.modulator_layers, H = info.modulator_heads;
    const auto bytes = static_cast<uint64_t>(L * H) * G * G * sizeof(float);
    const uint64_t keep = bytes ? std::max<uint64_t>(1, (64ull << 20) / bytes) : 0;
    const uint64_t first = na - attention_ > keep ? na - keep : attention_;
    for (uint64_t a = first; a < na; ++a) {
      const auto v = r.read("attention/probs", a, 1);
      model.attention.add(static_cast<int64_t>(steps[a - attention_]),
                          std::vector<float>(v.begin(), v.end()));
    }
    attention_ = na;
    grew = true;
  }

  // Meta-updates; the diagnostics (schema v2) join the rows' count when the log has them.
  std::vector<std::string> meta_paths = {"meta/step",    "meta/index", "meta/l_grad",
                                         "meta/l_dec",   "meta/l_gap", "meta/total",
                                         "meta/meta_ms", "meta/huw_s", "meta/huw_weights"};
  for (const char* p : {"meta/grad_norm", "meta/rel_change", "meta/at_bound"})
    if (r.has(p)) meta_paths.emplace_back(p);
  const uint64_t nm = common_rows(r, meta_paths);
  if (metas_ < nm) {
    const uint64_t n = nm - metas_;
    const auto step = r.read("meta/step", metas_, n), index = r.read("meta/index", metas_, n),
               lg = r.read("meta/l_grad", metas_, n), ld = r.read("meta/l_dec", metas_, n),
               lp = r.read("meta/l_gap", metas_, n), tot = r.read("meta/total", metas_, n),
               ms = r.read("meta/meta_ms", metas_, n), hs = r.read("meta/huw_s", metas_, n),
               hw = r.read("meta/huw_weights", metas_, n);
    std::vector<MetaUpdateRecord> records(n);
    for (uint64_t k = 0; k < n; ++k) {
      auto& m = records[k];
      m.step = static_cast<int64_t>(step[k]);
      m.index = static_cast<int64_t>(index[k]);
      m.l_grad = lg[k];
      m.l_dec = ld[k];
      m.l_gap = lp[k];
      m.total = tot[k];
      m.meta_ms = ms[k];
      for (size_t j = 0; j < 3; ++j) {
        m.huw_s[j] = hs[k * 3 + j];
        m.huw_weights[j] = hw[k * 3 + j];
      }
    }
    read_meta_columns(r, "meta/grad_norm", metas_, n, records, &MetaUpdateRecord::grad_norm);
    read_meta_columns(r, "meta/rel_change", metas_, n, records, &MetaUpdateRecord::rel_change);
    read_meta_columns(r, "meta/at_bound", metas_, n, records, &MetaUpdateRecord::at_bound);
    for (const auto& m : records) model.meta_update(m);
    metas_ = nm;
    grew = true;
  }

  // Events.
  const uint64_t nv = common_rows(r, {"events/step", "events/kind", "events/message"});
  if (events_ < nv) {
    const uint64_t n = nv - events_;
    const auto step = r.read("events/step", events_, n);
    const auto kind = r.read_strings("events/kind", events_, n);
    const auto msg = r.read_strings("events/message", events_, n);
    for (uint64_t k = 0; k < n; ++k) model.event(static_cast<int64_t>(step[k]), kind[k], msg[k]);
    events_ = nv;
    grew = true;
  }

  const std::string status = r.status();
  const std::string shown =
      status == "running" && !r.writer_alive() ? std::string("interrupted") : status;
  if (shown != model.status()) {
    model.set_status(shown);
    grew = true;
  }
  return grew;
}

}  // namespace maw::ui
