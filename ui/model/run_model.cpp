#include "model/run_model.h"

#include <cstring>

#include "api/log_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace maw::ui {

void AttentionMaps::shape(int64_t layers, int64_t heads, int64_t groups) {
  if (layers == layers_ && heads == heads_ && groups == groups_) return;
  layers_ = layers;
  heads_ = heads;
  groups_ = groups;
  steps_.clear();
  maps_.clear();
}

void AttentionMaps::add(int64_t step, std::vector<float> maps) {
  const auto n = static_cast<size_t>(layers_ * heads_ * groups_ * groups_);
  if (n == 0 || maps.size() != n) return;
  steps_.push_back(step);
  maps_.push_back(std::move(maps));
  const size_t keep = std::max<size_t>(1, budget_ / (n * sizeof(float)));
  while (maps_.size() > keep) {
    maps_.pop_front();
    steps_.pop_front();
  }
}

std::vector<float> AttentionMaps::map(size_t i, int64_t layer, int64_t head) const {
  if (i >= maps_.size() || layer < 0 || layer >= layers_ || head < 0 || head >= heads_) return {};
  const auto g2 = static_cast<size_t>(groups_ * groups_);
  const size_t at = static_cast<size_t>(layer * heads_ + head) * g2;
  return std::vector<float>(maps_[i].begin() + static_cast<long>(at),
                            maps_[i].begin() + static_cast<long>(at + g2));
}

int64_t AttentionMaps::nearest(int64_t step) const {
  if (steps_.empty()) return -1;
  int64_t best = 0;
  for (size_t i = 1; i < steps_.size(); ++i)
    if (std::llabs(steps_[i] - step) < std::llabs(steps_[static_cast<size_t>(best)] - step))
      best = static_cast<int64_t>(i);
  return best;
}

namespace {

// The float64 scalar columns of the steps table, each as an empty trace.
std::map<std::string, Trace> step_traces(size_t capacity) {
  std::map<std::string, Trace> out;
  for (const auto& c : logschema::steps().columns)
    if (c.elem == logschema::Elem::f64 && c.inner.empty()) out.emplace(c.name, Trace(capacity));
  return out;
}

}  // namespace

RunModel::RunModel(std::string id, size_t trace_capacity)
    : step_series_(step_traces(trace_capacity)),
      train_loss(step_series_.at("loss")),
      lr(step_series_.at("lr")),
      eval_loss(trace_capacity),
      eval_metric(trace_capacity),
      l_grad(trace_capacity),
      l_dec(trace_capacity),
      l_gap(trace_capacity),
      meta_total(trace_capacity),
      meta_ms(trace_capacity),
      huw_s{Trace(trace_capacity), Trace(trace_capacity), Trace(trace_capacity)},
      huw_weights{Trace(trace_capacity), Trace(trace_capacity), Trace(trace_capacity)},
      distance(trace_capacity),
      id_(std::move(id)),
      capacity_(trace_capacity) {
  for (auto& t : grad_norm) t = Trace(trace_capacity);
  for (auto& t : rel_change) t = Trace(trace_capacity);
  for (auto& t : at_bound) t = Trace(trace_capacity);
}

std::string RunModel::variant() const {
  if (info_.modulator_design.empty()) return info_.optimizer;
  return info_.optimizer + " (" + info_.modulator_design + ")";
}

std::string RunModel::label() const {
  return variant() + " · seed " + std::to_string(info_.seed) +
         (start_ > 1 ? " · #" + std::to_string(start_) : "");
}

std::string RunModel::series() const {
  return variant() + (start_ > 1 ? " · #" + std::to_string(start_) : "");
}

void RunModel::size_groups(size_t g, size_t f) {
  // Per-group traces are many (G × (6 + F)): a quarter of the capacity each.
  const size_t cap = std::max<size_t>(256, capacity_ / 4);
  factors.assign(g, {Trace(cap), Trace(cap), Trace(cap), Trace(cap)});
  effective_lr.assign(g, Trace(cap));
  effective_wd.assign(g, Trace(cap));
  features.assign(g, std::vector<Trace>(f, Trace(cap)));
}

void RunModel::on_start(const RunInfo& info) {
  info_ = info;
  status_ = "running";
  for (const auto& name : info.eval_extras) eval_extras.emplace(name, Trace(capacity_));
  size_groups(info.group_names.size(), info.feature_names.size());
  attention.shape(info.modulator_layers, info.modulator_heads,
                  static_cast<int64_t>(info.group_names.size()));
}

void RunModel::on_step(const StepRecord& r) {
  const auto x = static_cast<double>(r.step);
  last_wall_ = r.wall_time_s;
  std::string row;
  for (const auto& c : logschema::steps().columns) {
    const auto it = step_series_.find(c.name);
    if (it == step_series_.end()) continue;  // not a float64 scalar
    row.clear();
    c.encode(r, row);  // the codec's bytes of the field: one double
    double v = 0;
    std::memcpy(&v, row.data(), sizeof v);
    it->second.append(x, r.wall_time_s, v);
  }
}

const Trace& RunModel::step_series(const std::string& column) const {
  static const Trace none(8);
  const auto it = step_series_.find(column);
  return it == step_series_.end() ? none : it->second;
}

void RunModel::on_eval(const EvalRecord& r) {
  const auto x = static_cast<double>(r.step);
  eval_loss.append(x, r.wall_time_s, r.loss);
  eval_metric.append(x, r.wall_time_s, r.metric);
  for (const auto& [name, v] : r.extras) {
    auto it = eval_extras.find(name);
    if (it == eval_extras.end()) it = eval_extras.emplace(name, Trace(capacity_)).first;
    it->second.append(x, r.wall_time_s, v);
  }
}

void RunModel::on_snapshot(const Snapshot& s) {
  const auto G = static_cast<size_t>(s.groups), F = static_cast<size_t>(s.features);
  if (factors.size() != G || (G > 0 && features[0].size() != F)) size_groups(G, F);
  const auto x = static_cast<double>(s.step);
  for (size_t g = 0; g < G; ++g) {
    for (size_t k = 0; k < factor::count && g * factor::count + k < s.factors.size(); ++k)
      factors[g][k].append(x, last_wall_, s.factors[g * factor::count + k]);
    if (g < s.effective_lr.size()) effective_lr[g].append(x, last_wall_, s.effective_lr[g]);
    if (g < s.effective_wd.size()) effective_wd[g].append(x, last_wall_, s.effective_wd[g]);
    for (size_t f = 0; f < F && g * F + f < s.feature_values.size(); ++f)
      features[g][f].append(x, last_wall_, s.feature_values[g * F + f]);
  }
  if (!s.attention.empty()) {
    attention.shape(s.layers, s.heads, s.groups);
    attention.add(s.step, s.attention);
  }
}

void RunModel::on_meta_update(const MetaUpdateRecord& r) {
  const auto x = static_cast<double>(r.step);
  l_grad.append(x, last_wall_, r.l_grad);
  l_dec.append(x, last_wall_, r.l_dec);
  l_gap.append(x, last_wall_, r.l_gap);
  meta_total.append(x, last_wall_, r.total);
  meta_ms.append(x, last_wall_, r.meta_ms);
  for (size_t k = 0; k < 3; ++k) {
    huw_s[k].append(x, last_wall_, r.huw_s[k]);
    huw_weights[k].append(x, last_wall_, r.huw_weights[k]);
  }
  for (size_t k = 0; k < grad_norm.size(); ++k) grad_norm[k].append(x, last_wall_, r.grad_norm[k]);
  for (size_t k = 0; k < rel_change.size(); ++k)
    rel_change[k].append(x, last_wall_, r.rel_change[k]);
  for (size_t k = 0; k < at_bound.size(); ++k) at_bound[k].append(x, last_wall_, r.at_bound[k]);
}

void TrajectoryPath::add(int64_t step, const std::vector<float>& coords) {
  if (steps_.empty()) k_ = coords.size();
  if (coords.size() != k_) return;                     // one run has one K
  if (steps_.size() >= capacity_ && capacity_ >= 2) {  // every second point goes
    size_t kept = 0;
    for (size_t i = 0; i < steps_.size(); i += 2, ++kept) {
      steps_[kept] = steps_[i];
      std::copy_n(coords_.begin() + static_cast<std::ptrdiff_t>(i * k_), k_,
                  coords_.begin() + static_cast<std::ptrdiff_t>(kept * k_));
    }
    steps_.resize(kept);
    coords_.resize(kept * k_);
  }
  steps_.push_back(step);
  coords_.insert(coords_.end(), coords.begin(), coords.end());
}

double TrajectoryPath::at(size_t i, size_t k) const {
  return i < steps_.size() && k < k_ ? static_cast<double>(coords_[i * k_ + k])
                                     : std::numeric_limits<double>::quiet_NaN();
}

void RunModel::on_trajectory(const TrajectoryRecord& r) {
  const auto x = static_cast<double>(r.step);
  path.add(r.step, r.coords);
  distance.append(x, last_wall_, r.distance);
  if (group_distance.size() != r.group_distance.size())
    group_distance.assign(r.group_distance.size(), Trace(capacity_));
  for (size_t g = 0; g < r.group_distance.size(); ++g)
    group_distance[g].append(x, last_wall_, r.group_distance[g]);
}

void RunModel::on_event(const RunEvent& e) {
  events.push_back({e.step, name_of(e.kind), e.message});
}

void RunModel::on_finish(const RunSummary& s) {
  status_ = name_of(s.status);
  if (!s.message.empty()) events.push_back({s.steps, status_, s.message});
}

void RunModel::on_error(const std::string& message) {
  status_ = name_of(RunStatus::error);
  events.push_back({static_cast<int64_t>(train_loss.last_step()), status_, message});
}

namespace {

// A trace's value at `step`, linearly interpolated between its held points (clamped at
// the ends, NaN when empty).
double value_at(const Trace& t, double step) {
  const auto& xs = t.steps();
  const auto& ys = t.values();
  if (xs.empty()) return std::nan("");
  if (step <= xs.front()) return ys.front();
  if (step >= xs.back()) return ys.back();
  const auto i = static_cast<size_t>(std::upper_bound(xs.begin(), xs.end(), step) - xs.begin());
  const double x0 = xs[i - 1], x1 = xs[i];
  return x1 > x0 ? ys[i - 1] + (ys[i] - ys[i - 1]) * (step - x0) / (x1 - x0) : ys[i];
}

// A sum of finite values and their count.
struct Mean {
  double sum = 0;
  size_t n = 0;
  void add(double v) {
    if (!std::isfinite(v)) return;
    sum += v;
    ++n;
  }
  double value() const { return n ? sum / static_cast<double>(n) : std::nan(""); }
};

}  // namespace

std::vector<GroupMeans> group_means(const RunModel& m, double lo, double hi,
                                    const Trace* reference_lr) {
  const size_t G = std::min({m.factors.size(), m.effective_lr.size(), m.effective_wd.size()});
  std::vector<GroupMeans> out(G);
  for (size_t g = 0; g < G; ++g) {
    const Trace &alpha = m.factors[g][factor::alpha], &beta = m.factors[g][factor::beta];
    const Trace &elr = m.effective_lr[g], &ewd = m.effective_wd[g];
    const size_t n = std::min({alpha.size(), beta.size(), elr.size(), ewd.size()});
    Mean a, b, e, w;
    double lr_sum = 0, ref_sum = 0;
    size_t used = 0;
    for (size_t i = 0; i < n; ++i) {
      const double step = alpha.steps()[i];
      if (hi > lo && (step < lo || step > hi)) continue;
      ++used;
      const double ai = alpha.values()[i], ei = elr.values()[i];
      a.add(ai);
      b.add(beta.values()[i]);
      e.add(ei);
      w.add(ewd.values()[i]);
      const double ref = reference_lr ? value_at(*reference_lr, step) : ei / ai;
      if (std::isfinite(ei) && std::isfinite(ref) && ref > 0) {
        lr_sum += ei;
        ref_sum += ref;
      }
    }
    auto& r = out[g];
    r.alpha = a.value();
    r.beta = b.value();
    r.effective_lr = e.value();
    r.effective_wd = w.value();
    r.lr_ratio = ref_sum > 0 ? lr_sum / ref_sum : std::nan("");
    r.snapshots = used;
  }
  return out;
}

}  // namespace maw::ui
