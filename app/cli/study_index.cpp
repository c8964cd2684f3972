#include "cli/study_index.h"

#include "api/run_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "api/file_checks.h"
#include "api/run_log_reader.h"
#include "api/run_log_replay.h"
#include "services/study_runner.h"
#include "services/summary_json.h"

namespace maw::cli {
namespace {

using Json = nlohmann::ordered_json;

// Every evaluation of a log, as the run reported them (extras included).
std::vector<EvalRecord> read_evals(const RunLogReader& r) {
  struct Evals : RunObserver {
    std::vector<EvalRecord> all;
    void on_eval(const EvalRecord& e) override { all.push_back(e); }
  } evals;
  ReplayCursor cursor;
  ReplayOptions only;
  only.tables = ReplayOptions::evals;
  replay(r, cursor, evals, only);
  return std::move(evals.all);
}

// A run's evaluations in study.json: one array per column (NaN as null), extras by name.
Json evals_to_json(const std::vector<EvalRecord>& evals) {
  auto number = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  Json step = Json::array(), epoch = Json::array(), loss = Json::array(), metric = Json::array(),
       ms = Json::array(), wall = Json::array(), extra = Json::object();
  for (const auto& e : evals) {
    step.push_back(e.step);
    epoch.push_back(e.epoch);
    loss.push_back(number(e.loss));
    metric.push_back(number(e.metric));
    ms.push_back(number(e.eval_ms));
    wall.push_back(number(e.wall_time_s));
  }
  for (size_t i = 0; i < evals.size(); ++i)
    for (const auto& [name, v] : evals[i].extras) {
      if (!extra.contains(name)) extra[name] = Json::array();
      Json& column = extra[name];
      while (column.size() < i) column.push_back(nullptr);
      column.push_back(number(v));
    }
  return Json{{"step", step},  {"epoch", epoch},      {"loss", loss},  {"metric", metric},
              {"eval_ms", ms}, {"wall_time_s", wall}, {"extra", extra}};
}

std::vector<EvalRecord> evals_from_json(const Json& j) {
  auto column = [&](const Json& c, size_t i) {
    return i < c.size() && c[i].is_number() ? c[i].get<double>() : std::nan("");
  };
  const Json none = Json::array();
  auto get = [&](const char* key) -> const Json& {
    return j.contains(key) && j[key].is_array() ? j[key] : none;
  };
  const Json &step = get("step"), &epoch = get("epoch"), &loss = get("loss"),
             &metric = get("metric"), &ms = get("eval_ms"), &wall = get("wall_time_s");
  std::vector<EvalRecord> out(step.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].step = static_cast<int64_t>(column(step, i));
    out[i].epoch = static_cast<int64_t>(column(epoch, i));
    out[i].loss = column(loss, i);
    out[i].metric = column(metric, i);
    out[i].eval_ms = column(ms, i);
    out[i].wall_time_s = column(wall, i);
  }
  if (j.contains("extra") && j["extra"].is_object())
    for (const auto& [name, c] : j["extra"].items())
      if (c.is_array())
        for (size_t i = 0; i < out.size() && i < c.size(); ++i)
          out[i].extras.emplace_back(name, column(c, i));
  return out;
}

}  // namespace

void write_json_atomically(const std::string& path, const Json& j) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp);
    if (!f) throw DataError("cannot write '" + tmp + "'");
    f << j.dump(2) << '\n';
    if (!f) throw DataError("cannot write '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: readers never see half a file
  if (ec) throw DataError("cannot write '" + path + "': " + ec.message());
}

StudyIndex::StudyIndex(std::string dir, std::string kind, std::vector<std::string> argv,
                       std::string config_json, bool overwrite, bool continuing)
    : dir_(std::move(dir)),
      kind_(std::move(kind)),
      argv_(std::move(argv)),
      config_json_(std::move(config_json)),
      overwrite_(overwrite),
      continuing_(continuing) {
  if (dir_.empty()) return;
  const auto index = std::filesystem::path(dir_) / "study.json";
  std::error_code exists_ec;
  const bool exists = std::filesystem::exists(index, exists_ec);
  if (continuing_) {
    load_previous(index.string(), exists);
    return;
  }
  if (!overwrite_ && exists)
    throw ConfigError("--log-dir '" + dir_ +
                      "' already holds a study (study.json): pass --continue to finish it, "
                      "--overwrite to replace it and its logs, or choose another folder");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw DataError("cannot create --log-dir '" + dir_ + "': " + ec.message());
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  created_ = buf;
  write();  // fails now, before hours of training, if the folder is not writable
}

std::vector<std::string> config_differences(const nlohmann::ordered_json& before,
                                            const nlohmann::ordered_json& now) {
  static const auto defaults = nlohmann::ordered_json::parse(RunConfig().to_json());
  std::vector<std::string> keys;
  for (const auto& [k, v] : now.items()) {
    if (k == "export_modulator") continue;  // where a run writes its modulator, not what it does
    const bool recorded = before.is_object() && before.contains(k);
    if (recorded ? before[k] != v : (!defaults.contains(k) || defaults[k] != v)) keys.push_back(k);
  }
  return keys;
}

void StudyIndex::load_previous(const std::string& index, bool exists) {
  if (!exists) throw ConfigError("--continue: '" + dir_ + "' holds no study.json to continue");
  if (const auto problem = files::input_problem(index, 256ull << 20); !problem.empty())
    throw ConfigError("--continue: '" + index + "': " + problem);
  std::ifstream in(index);
  const auto j = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("schema", "") != "metaadamw-study" || !j.contains("runs") ||
      !j["runs"].is_array())
    throw ConfigError("--continue: '" + index + "' is not a metaadamw study index");
  if (j.value("kind", "") != kind_)
    throw ConfigError("--continue: '" + index + "' holds a " + j.value("kind", "?") +
                      " study, not a " + kind_);
  if (!j.contains("config"))
    throw ConfigError("--continue: '" + index +
                      "' was written by an older metaadamw that did not record the study's "
                      "configuration; start the study again in a new folder");
  if (const auto keys =
          config_differences(j["config"], nlohmann::ordered_json::parse(config_json_));
      !keys.empty()) {
    std::string differ;
    for (const auto& k : keys) differ += (differ.empty() ? "" : ", ") + k;
    throw ConfigError("--continue: the study in '" + dir_ +
                      "' ran under another configuration (differs in: " + differ +
                      "); continue it with the options it was started with");
  }
  created_ = j.value("created", "");
  for (const auto& run : j["runs"])
    if (run.is_object() && run.contains("file") && run["file"].is_string())
      runs_.emplace_back(run["file"].get<std::string>(), run);
}

std::string StudyIndex::log_path(
    const std::string& optimizer, uint64_t seed,
    const std::vector<std::pair<std::string, std::string>>& settings) const {
  return (std::filesystem::path(dir_) / run_log_name(optimizer, seed, settings)).string();
}

void StudyIndex::claim(const std::vector<std::string>& log_paths) const {
  if (overwrite_ || continuing_) return;
  for (const auto& p : log_paths) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec) && std::filesystem::file_size(p, ec) > 0 && !ec)
      throw ConfigError("run log '" + p +
                        "' already exists: pass --overwrite to replace the study's logs, or "
                        "choose another --log-dir");
  }
}

StudyIndex::Finished StudyIndex::finished(const std::string& log_path, SeedRun* out) const {
  if (!continuing_) return Finished::no;
  const std::string file = std::filesystem::path(log_path).filename().string();
  const Json* entry = nullptr;
  for (const auto& [f, run] : runs_)
    if (f == file) entry = &run;
  if (!entry) return Finished::no;
  const Json& run = *entry;
  if (!run.contains("summary")) return Finished::no;
  RunSummary s = summary_from_json(run["summary"]);
  if (!maw::finished(s.status)) return Finished::no;
  std::error_code ec;
  if (!std::filesystem::exists(log_path, ec) && !ec) {
    // Indexed before evaluations were: a sweep chooses on the summary's validation metric
    // alone, so its run counts; a comparison needs the evaluations (time to target).
    if (run.contains("evals"))
      out->evals = evals_from_json(run["evals"]);
    else if (kind_ != "sweep")
      return Finished::no;
    out->summary = std::move(s);
    return Finished::from_index;
  }
  try {
    RunLogReader r(log_path);
    if (r.attribute("status") != name_of(s.status)) return Finished::no;  // the log was replaced
    out->summary = std::move(s);
    out->evals = read_evals(r);
  } catch (const DataError&) {
    return Finished::no;  // damaged: run it again
  }
  return Finished::from_log;
}

void StudyIndex::add(const std::string& log_path, const SeedRun& seed_run,
                     const std::vector<std::pair<std::string, std::string>>& settings) {
  const RunSummary& summary = seed_run.summary;
  Json run;
  run["file"] = std::filesystem::path(log_path).filename().string();
  run["optimizer"] = summary.optimizer;
  run["seed"] = summary.seed;
  Json s = Json::object();
  for (const auto& [k, v] : settings) s[k] = v;
  run["settings"] = s;
  run["summary"] = summary_to_json(summary);
  run["evals"] = evals_to_json(seed_run.evals);
  const std::string file = run["file"].get<std::string>();
  auto same =
      std::find_if(runs_.begin(), runs_.end(), [&](const auto& r) { return r.first == file; });
  if (same != runs_.end())
    same->second = run;
  else
    runs_.emplace_back(file, run);
  write();
}

void StudyIndex::finish(const nlohmann::ordered_json& study) {
  study_ = study;
  write();
}

void StudyIndex::write() const {
  if (read_only_) return;
  Json j;
  j["schema"] = "metaadamw-study";
  j["schema_version"] = 1;
  j["kind"] = kind_;
  j["created"] = created_;
  j["command"] = argv_;
  j["config"] = Json::parse(config_json_);
  j["runs"] = Json::array();
  for (const auto& r : runs_) j["runs"].push_back(r.second);
  j["complete"] = !study_.is_null();
  if (!study_.is_null()) j["study"] = study_;
  write_json_atomically((std::filesystem::path(dir_) / "study.json").string(), j);
}

}  // namespace maw::cli
