#include "services/study_runner.h"

#include <cctype>
#include <filesystem>
#include <memory>

#include "api/run_log.h"
#include "api/session.h"

namespace maw {

std::vector<PlannedRun> compare_plan(const RunConfig& base,
                                     const std::vector<std::string>& optimizers, int64_t seeds,
                                     const std::map<std::string, Settings>& overrides) {
  std::vector<PlannedRun> plan;
  for (int64_t k = 0; k < seeds; ++k)
    for (const auto& opt : optimizers) {
      PlannedRun r{base, {}};
      r.config.set("optimizer", opt);
      if (const auto o = overrides.find(opt); o != overrides.end())
        for (const auto& [key, value] : o->second) r.config.set(key, value);
      r.config.set("seed", std::to_string(base.seed + static_cast<uint64_t>(k)));
      plan.push_back(std::move(r));
    }
  return plan;
}

std::vector<PlannedRun> sweep_plan(
    const RunConfig& base, const std::vector<std::string>& optimizers,
    const std::vector<std::pair<std::string, std::vector<std::string>>>& grid, int64_t seeds) {
  std::vector<Settings> points = {{}};
  for (const auto& [key, values] : grid) {
    std::vector<Settings> next;
    for (const auto& p : points)
      for (const auto& v : values) {
        auto q = p;
        q.emplace_back(key, v);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  std::vector<PlannedRun> plan;
  for (const auto& opt : optimizers)
    for (const auto& settings : points)
      for (int64_t k = 0; k < seeds; ++k) {
        PlannedRun r{base, settings};
        for (const auto& [key, v] : settings) r.config.set(key, v);
        r.config.set("optimizer", opt);
        r.config.set("seed", std::to_string(base.seed + static_cast<uint64_t>(k)));
        plan.push_back(std::move(r));
      }
  return plan;
}

std::string run_log_name(const std::string& optimizer, uint64_t seed, const Settings& settings) {
  std::string name = optimizer;
  for (const auto& [k, v] : settings) name += "-" + k + "=" + v;
  name += "-seed" + std::to_string(seed);
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=' ||
          c == '.'))
      c = '_';
  return name + ".h5";
}

std::string free_log_path(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  const fs::path base = fs::path(dir) / name;
  std::error_code ec;
  fs::path path = base;
  for (int n = 2; fs::exists(path, ec); ++n)
    path = base.parent_path() / (base.stem().string() + "-" + std::to_string(n) + ".h5");
  return path.string();
}

std::vector<SeedRun> StudyRunner::run(const std::vector<PlannedRun>& plan, const Hooks& hooks) {
  std::vector<SeedRun> done;
  for (size_t i = 0; i < plan.size() && !stop_.load(); ++i) {
    failed_ = i;
    const std::string log = hooks.log_path ? hooks.log_path(i, plan[i]) : "";
    SeedRun run;
    if (!(hooks.read_back && hooks.read_back(i, plan[i], log, &run))) {
      Session session(plan[i].config);
      EvalCollector evals;
      session.add_observer(&evals);
      if (hooks.attach) hooks.attach(i, session);
      std::unique_ptr<RunObserver> writer;
      if (!log.empty()) {
        writer = make_run_log_writer(log, session.config(), hooks.overwrite_logs);
        session.add_observer(writer.get());
      }
      if (hooks.started) hooks.started(i, log);
      set_current(&session);
      try {
        run.summary = session.run();
      } catch (...) {
        set_current(nullptr);
        throw;
      }
      set_current(nullptr);
      run.evals = std::move(evals.evals);
    }
    if (hooks.finished) hooks.finished(i, plan[i], log, run);
    done.push_back(std::move(run));
  }
  return done;
}

void StudyRunner::set_current(Session* s) {
  std::lock_guard<std::mutex> lock(mu_);
  current_.store(s);
  if (!s) return;
  if (paused_) s->pause();
  if (stop_.load()) s->stop();  // stopped between two runs: this one ends at once
}

void StudyRunner::stop() {
  stop_.store(true);
  if (Session* s = current_.load()) s->stop();
}

void StudyRunner::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
  if (Session* s = current_.load()) s->pause();
}

void StudyRunner::resume() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = false;
  if (Session* s = current_.load()) s->resume();
}

void StudyRunner::step_once() {
  std::lock_guard<std::mutex> lock(mu_);
  if (Session* s = current_.load()) s->step_once();
}

}  // namespace maw
