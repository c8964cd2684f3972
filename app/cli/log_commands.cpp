#include "cli/log_commands.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "api/file_checks.h"
#include "api/run_log_reader.h"
#include "services/summary_json.h"

namespace maw::cli {
namespace {

using Json = nlohmann::ordered_json;

std::string folder_of(const std::string& path) {
  const auto k = path.rfind('/');
  return k == std::string::npos ? "" : path.substr(0, k);
}
std::string name_of(const std::string& path) {
  const auto k = path.rfind('/');
  return k == std::string::npos ? path : path.substr(k + 1);
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Full precision for the series' stored type: float32 round-trips with 9 digits.
std::string number(double v, const std::string& type) {
  if (std::isnan(v)) return "nan";
  char buf[40];
  if (type == "int64")
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, type == "float32" ? "%.9g" : "%.17g", v);
  return buf;
}

// The last-seen value of a numeric series, or NaN.
double last(const RunLogReader& r, const std::string& path) {
  const uint64_t n = r.rows(path);
  if (n == 0 || !r.has(path) || r.info(path).type == "string") return std::nan("");
  return r.read(path, n - 1, 1).at(0);
}

std::string status_line(const RunLogReader& r, uint64_t steps) {
  const std::string total = r.attribute("total_steps", "?");
  const std::string status = r.status();
  const std::string pid = r.attribute("writer_pid", "?");
  std::string s;
  if (status == "running") {
    s = r.writer_alive()
            ? "running — being written (pid " + pid + "), " + std::to_string(steps) + " of " +
                  total + " steps so far"
            : "interrupted — the writer (pid " + pid + ") is gone; " + std::to_string(steps) +
                  " of " + total + " steps were recorded before it stopped";
  } else {
    s = status + " — " + std::to_string(steps) + " of " + total + " steps";
    const std::string msg = r.attribute("message");
    if (!msg.empty()) s += " (" + msg + ")";
  }
  return s;
}

// Labels of one axis of an N-D series: group and feature names, factor and term names.
std::vector<std::string> axis_labels(const RunLogReader& r, const std::string& axis, uint64_t n) {
  std::vector<std::string> labels;
  if ((axis == "group" || axis == "query_group" || axis == "key_group") && r.has("groups/name"))
    labels = r.read_strings("groups/name");
  else if (axis == "feature" && r.has("snapshots/feature_names"))
    labels = r.read_strings("snapshots/feature_names");
  else if (axis == "factor")
    labels.assign(std::begin(kFactorNames), std::end(kFactorNames));
  else if (axis == "term")
    labels.assign(std::begin(kMetaTerms), std::end(kMetaTerms));
  else if (axis == "block")
    labels.assign(std::begin(kMetaGradBlocks), std::end(kMetaGradBlocks));
  else if (axis == "part")
    labels.assign(std::begin(kMetaChangeParts), std::end(kMetaChangeParts));
  if (labels.size() != n) {
    labels.clear();
    for (uint64_t i = 0; i < n; ++i) labels.push_back(std::to_string(i));
  }
  return labels;
}

// One column of an [M, K] diagnostics dataset of meta/ (schema v2): its value at the last
// meta-update and its mean over the finite values of the run (NaN: none).
struct MetaColumn {
  std::string name;
  double last = std::nan(""), mean = std::nan("");
};

// The columns of meta/<name> labelled with `labels`; empty when the log lacks the dataset
// (schema v1) or its width differs.
template <size_t K>
std::vector<MetaColumn> meta_columns(const RunLogReader& r, const std::string& path,
                                     const char* const (&labels)[K], uint64_t rows) {
  if (!r.has(path) || r.info(path).shape.size() != 2 || r.info(path).shape[1] != K) return {};
  const uint64_t n = std::min(rows, r.rows(path));
  const auto v = n ? r.read(path, 0, n) : std::vector<double>{};
  std::vector<MetaColumn> out;
  for (size_t k = 0; k < K; ++k) {
    MetaColumn c{labels[k]};
    double sum = 0;
    size_t count = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const double x = v[i * K + k];
      if (!std::isfinite(x)) continue;
      sum += x;
      ++count;
    }
    if (n) c.last = v[(n - 1) * K + k];
    if (count) c.mean = sum / static_cast<double>(count);
    out.push_back(c);
  }
  return out;
}

// What `inspect` says about the meta-learning of a MetaAdamW log.
struct MetaDiagnostics {
  uint64_t updates = 0;
  double last_step = std::nan("");
  std::string design;  // "" in logs before schema v2
  double alpha_range = std::nan(""), beta_range = std::nan("");
  std::vector<MetaColumn> grad_norm, rel_change, at_bound;  // empty: not in the log
};

MetaDiagnostics meta_diagnostics(const RunLogReader& r) {
  MetaDiagnostics d;
  d.updates = r.rows("meta/step");
  if (d.updates) d.last_step = r.read("meta/step", d.updates - 1, 1).at(0);
  d.design = r.attribute("modulator_design");
  auto number = [&](const char* name) {
    const std::string v = r.attribute(name);
    return v.empty() ? std::nan("") : std::strtod(v.c_str(), nullptr);
  };
  d.alpha_range = number("alpha_range");
  d.beta_range = number("beta_range");
  d.grad_norm = meta_columns(r, "meta/grad_norm", kMetaGradBlocks, d.updates);
  d.rel_change = meta_columns(r, "meta/rel_change", kMetaChangeParts, d.updates);
  d.at_bound = meta_columns(r, "meta/at_bound", kFactorNames, d.updates);
  return d;
}

// NaN as JSON null.
Json json_number(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

Json meta_json(const MetaDiagnostics& d) {
  Json j;
  j["modulator_design"] = d.design.empty() ? Json(nullptr) : Json(d.design);
  j["alpha_range"] = json_number(d.alpha_range);
  j["beta_range"] = json_number(d.beta_range);
  j["meta_updates"] = d.updates;
  j["last_step"] = std::isfinite(d.last_step) ? Json(static_cast<int64_t>(d.last_step)) : Json();
  const std::pair<const char*, const std::vector<MetaColumn>*> blocks[] = {
      {"grad_norm", &d.grad_norm}, {"rel_change", &d.rel_change}, {"at_bound", &d.at_bound}};
  for (const auto& [key, cols] : blocks) {
    if (cols->empty()) {
      j[key] = nullptr;  // a log written before schema v2
      continue;
    }
    Json o = Json::object();
    for (const auto& c : *cols)
      o[c.name] = {{"last", json_number(c.last)}, {"mean", json_number(c.mean)}};
    j[key] = o;
  }
  return j;
}

void print_meta(const MetaDiagnostics& d, std::FILE* out) {
  std::string head = "design " + (d.design.empty() ? std::string("not recorded") : d.design);
  char buf[96];
  const std::pair<const char*, double> ranges[] = {{"α", d.alpha_range}, {"β", d.beta_range}};
  for (const auto& [name, range] : ranges)
    if (std::isfinite(range) && range > 0) {
      std::snprintf(buf, sizeof buf, " · %s ∈ [%.4g, %.4g]", name, 1 - range / 2, 1 + range / 2);
      head += buf;
    }
  std::fprintf(out, "meta       %s · %llu meta-update%s", head.c_str(),
               static_cast<unsigned long long>(d.updates), d.updates == 1 ? "" : "s");
  if (d.updates) std::fprintf(out, ", the last at step %s", number(d.last_step, "int64").c_str());
  std::fprintf(out, "\n");
  if (d.grad_norm.empty() && d.rel_change.empty() && d.at_bound.empty()) {
    std::fprintf(out,
                 "  diagnostics not in this log (schema v1: written before they were recorded)\n");
    return;
  }
  if (d.updates == 0) return;
  std::fprintf(out, "  %-34s %12s %12s\n", "", "last", "run mean");
  const std::pair<const char*, const std::vector<MetaColumn>*> sections[] = {
      {"meta-gradient norm", &d.grad_norm},
      {"relative change", &d.rel_change},
      {"fraction at a bound", &d.at_bound}};
  for (const auto& [title, cols] : sections) {
    bool shown = false;
    for (const auto& c : *cols) {
      if (std::isnan(c.last) && std::isnan(c.mean)) continue;  // a block the run lacks
      std::fprintf(out, "  %-20s %-13s %12.4g %12.4g\n", shown ? "" : title, c.name.c_str(), c.last,
                   c.mean);
      shown = true;
    }
  }
}

}  // namespace

void inspect_log(const std::string& path, bool json, std::FILE* out) {
  RunLogReader r(path);
  const uint64_t steps = r.rows("steps/step");
  std::vector<std::string> names, members, shapes;
  std::vector<double> sizes;
  if (r.has("groups/name")) names = r.read_strings("groups/name");
  if (r.has("groups/members")) members = r.read_strings("groups/members");
  if (r.has("groups/shapes")) shapes = r.read_strings("groups/shapes");
  if (r.has("groups/size")) sizes = r.read("groups/size");
  const std::string metric = r.attribute("metric_name", "metric");
  const bool higher = r.attribute("metric_higher_is_better") == "1";

  // The best and last evaluation.
  double best = std::nan(""), best_step = 0;
  std::vector<double> evals, eval_steps;
  if (r.rows("evals/metric") > 0) {
    evals = r.read("evals/metric");
    eval_steps = r.read("evals/step");
    for (size_t i = 0; i < evals.size() && i < eval_steps.size(); ++i)
      if (std::isnan(best) || (higher ? evals[i] > best : evals[i] < best)) {
        best = evals[i];
        best_step = eval_steps[i];
      }
  }

  if (json) {
    Json j;
    j["path"] = path;
    j["schema_version"] = r.schema_version();
    Json attrs = Json::object();
    for (const auto& [k, v] : r.attributes()) attrs[k] = v;
    j["attributes"] = attrs;
    j["status"] = r.status();
    j["writer_alive"] = r.writer_alive();
    j["steps_recorded"] = steps;
    j["evals_recorded"] = evals.size();
    if (!evals.empty()) {
      j["last_metric"] = evals.back();
      j["best_metric"] = best;
      j["best_step"] = static_cast<int64_t>(best_step);
    }
    Json groups = Json::array();
    auto list = [](const std::vector<std::string>& v, size_t g) {
      return g < v.size() ? split_list(v[g], ';') : std::vector<std::string>{};
    };
    for (size_t g = 0; g < names.size(); ++g)
      groups.push_back({{"name", names[g]},
                        {"size", g < sizes.size() ? static_cast<int64_t>(sizes[g]) : 0},
                        {"members", list(members, g)},
                        {"shapes", list(shapes, g)}});
    j["groups"] = groups;
    Json series = Json::array();
    for (const auto& s : r.series())
      series.push_back({{"path", s.path}, {"shape", s.shape}, {"type", s.type}, {"axes", s.axes}});
    j["series"] = series;
    j["meta_diagnostics"] = r.has("meta/step") ? meta_json(meta_diagnostics(r)) : Json(nullptr);
    std::fprintf(out, "%s\n", j.dump(2).c_str());
    return;
  }

  std::fprintf(out, "run log    %s  (schema v%d, metaadamw %s, LibTorch %s)\n", path.c_str(),
               r.schema_version(), r.attribute("tool_version", "?").c_str(),
               r.attribute("libtorch_version", "?").c_str());
  std::fprintf(out, "run        %s · %s · %s · seed %s · %s · host %s\n",
               r.attribute("task", "?").c_str(), r.attribute("preset", "?").c_str(),
               r.attribute("optimizer", "?").c_str(), r.attribute("seed", "?").c_str(),
               r.attribute("device", "?").c_str(), r.attribute("host", "?").c_str());
  std::fprintf(out, "started    %s\n", r.attribute("start_time", "?").c_str());
  const std::string conv = r.attribute("cpu_convolution", "");
  if (!conv.empty()) std::fprintf(out, "convolves  %s\n", conv.c_str());
  std::fprintf(out, "status     %s\n", status_line(r, steps).c_str());
  if (steps > 0)
    std::fprintf(out, "train loss %.6g at step %.0f\n", last(r, "steps/loss"),
                 last(r, "steps/step"));
  if (!evals.empty())
    std::fprintf(out, "%-10s last %.6g at step %.0f; best %.6g at step %.0f (%s is better)\n",
                 metric.c_str(), evals.back(), eval_steps.back(), best, best_step,
                 higher ? "higher" : "lower");
  if (r.status() != "running" && !r.attribute("log_writer_cpu_s").empty())
    std::fprintf(out,
                 "log cost   writer thread %.3f s CPU; engine thread %.3f s handing records over\n",
                 std::atof(r.attribute("log_writer_cpu_s").c_str()),
                 std::atof(r.attribute("log_enqueue_s").c_str()));
  std::fprintf(out, "groups     %zu\n", names.size());
  const size_t shown = std::min<size_t>(names.size(), 12);
  for (size_t g = 0; g < shown; ++g) {
    const auto tensors =
        g < members.size() ? split_list(members[g], ';') : std::vector<std::string>{};
    std::fprintf(out, "  %-40s %10.0f params  %zu tensor%s\n", names[g].c_str(),
                 g < sizes.size() ? sizes[g] : 0.0, tensors.size(), tensors.size() == 1 ? "" : "s");
  }
  if (names.size() > shown) std::fprintf(out, "  … %zu more\n", names.size() - shown);
  if (r.has("meta/step")) print_meta(meta_diagnostics(r), out);
  std::fprintf(out, "series\n");
  for (const auto& s : r.series())
    std::fprintf(out, "  %-28s %-24s %-8s %s\n", s.path.c_str(), shape_text(s.shape).c_str(),
                 s.type.c_str(), s.axes.c_str());
}

std::vector<std::pair<std::string, uint64_t>> export_csv(const std::string& path,
                                                         const std::string& dir) {
  RunLogReader r(path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw DataError("cannot create the export folder '" + dir + "': " + ec.message());
  std::vector<std::pair<std::string, uint64_t>> written;
  auto open = [&](const std::string& name) {
    const std::string file = (std::filesystem::path(dir) / name).string();
    std::ofstream f(file);
    if (!f) throw DataError("cannot write '" + file + "'");
    return std::make_pair(file, std::move(f));
  };

  // Groups: one row per group.
  if (r.has("groups/name")) {
    auto [file, f] = open("groups.csv");
    const auto names = r.read_strings("groups/name");
    const auto members =
        r.has("groups/members") ? r.read_strings("groups/members") : std::vector<std::string>{};
    const auto shapes =
        r.has("groups/shapes") ? r.read_strings("groups/shapes") : std::vector<std::string>{};
    const auto sizes = r.has("groups/size") ? r.read("groups/size") : std::vector<double>{};
    f << "index,name,size,members,shapes\n";
    for (size_t g = 0; g < names.size(); ++g)
      f << g << ',' << csv_field(names[g]) << ','
        << (g < sizes.size() ? number(sizes[g], "int64") : "") << ','
        << csv_field(g < members.size() ? members[g] : "") << ','
        << csv_field(g < shapes.size() ? shapes[g] : "") << '\n';
    written.emplace_back(file, names.size());
  }

  // Appended series (they carry `axes`), by folder; evals/extra/* joins evals.
  std::map<std::string, std::vector<LogSeries>> wide;
  std::vector<LogSeries> nd;
  for (const auto& s : r.series()) {
    if (s.axes.empty()) continue;  // lists (names), not series
    if (s.shape.size() >= 2) {
      nd.push_back(s);
      continue;
    }
    std::string folder = folder_of(s.path);
    if (folder == "evals/extra") folder = "evals";
    wide[folder].push_back(s);
  }
  for (auto& [folder, cols] : wide) {
    // "step" first, then the rest as stored; a growing file may differ by a row: cut.
    std::stable_partition(cols.begin(), cols.end(),
                          [](const LogSeries& s) { return name_of(s.path) == "step"; });
    uint64_t n = std::numeric_limits<uint64_t>::max();
    for (const auto& c : cols) n = std::min<uint64_t>(n, c.shape.empty() ? 1 : c.shape[0]);
    std::string name = folder;
    std::replace(name.begin(), name.end(), '/', '_');
    auto [file, f] = open(name + ".csv");
    for (size_t k = 0; k < cols.size(); ++k) f << (k ? "," : "") << name_of(cols[k].path);
    f << '\n';
    constexpr uint64_t kBlock = 65536;
    for (uint64_t first = 0; first < n; first += kBlock) {
      const uint64_t count = std::min(kBlock, n - first);
      std::vector<std::vector<std::string>> text(cols.size());
      std::vector<std::vector<double>> nums(cols.size());
      for (size_t k = 0; k < cols.size(); ++k) {
        if (cols[k].type == "string")
          text[k] = r.read_strings(cols[k].path, first, count);
        else
          nums[k] = r.read(cols[k].path, first, count);
      }
      for (uint64_t i = 0; i < count; ++i) {
        for (size_t k = 0; k < cols.size(); ++k) {
          if (k) f << ',';
          f << (cols[k].type == "string" ? csv_field(text[k][i])
                                         : number(nums[k][i], cols[k].type));
        }
        f << '\n';
      }
    }
    written.emplace_back(file, n);
  }

  // N-D series, long: step, one column per inner axis (labels), value.
  for (const auto& s : nd) {
    const auto axes = split_list(s.axes, ',');
    const std::string folder = folder_of(s.path);
    std::string name = s.path;
    std::replace(name.begin(), name.end(), '/', '_');
    auto [file, f] = open(name + ".csv");
    f << "step";
    std::vector<std::vector<std::string>> labels;
    uint64_t inner = 1;
    for (size_t d = 1; d < s.shape.size(); ++d) {
      f << ',' << (d < axes.size() ? axes[d] : "axis" + std::to_string(d));
      labels.push_back(axis_labels(r, d < axes.size() ? axes[d] : "", s.shape[d]));
      inner *= s.shape[d];
    }
    f << ",value\n";
    const uint64_t n = s.shape[0];
    const std::string step_path = folder + "/step";
    const auto steps = r.has(step_path) ? r.read(step_path) : std::vector<double>{};
    // Rows in blocks of about a million values.
    const uint64_t block = std::max<uint64_t>(1, (1u << 20) / std::max<uint64_t>(inner, 1));
    uint64_t rows = 0;
    std::vector<size_t> idx(labels.size());
    for (uint64_t first = 0; first < n; first += block) {
      const uint64_t count = std::min(block, n - first);
      const auto v = r.read(s.path, first, count);
      for (uint64_t i = 0; i < count; ++i) {
        const uint64_t row = first + i;
        const std::string step =
            row < steps.size() ? number(steps[row], "int64") : std::to_string(row);
        std::fill(idx.begin(), idx.end(), 0);
        for (uint64_t e = 0; e < inner; ++e) {
          f << step;
          for (size_t d = 0; d < labels.size(); ++d) f << ',' << csv_field(labels[d][idx[d]]);
          f << ',' << number(v[i * inner + e], s.type) << '\n';
          for (size_t d = labels.size(); d-- > 0;) {  // odometer over the inner axes
            if (++idx[d] < labels[d].size()) break;
            idx[d] = 0;
          }
          ++rows;
        }
      }
    }
    written.emplace_back(file, rows);
  }
  return written;
}

}  // namespace maw::cli
