#include "services/study_runner.h"

#include <cctype>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

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
  for (size_t i = 0; i < plan.size() && !stop_.load();) {
    size_t end = i + 1;
    if (hooks.lockstep)
      while (end < plan.size() && end - i < kMaxLockstep &&
             plan[end].config.seed == plan[i].config.seed)
        ++end;
    run_group(plan, i, end, hooks, done);
    i = end;
  }
  return done;
}

void StudyRunner::run_group(const std::vector<PlannedRun>& plan, size_t begin, size_t end,
                            const Hooks& hooks, std::vector<SeedRun>& done) {
  // One run to train: its session, the observers only it holds, and how it ended.
  struct Member {
    size_t index = 0;
    std::unique_ptr<Session> session;
    EvalCollector evals;
    std::unique_ptr<RunObserver> writer;
    RunSummary summary;
    std::exception_ptr error;
  };
  std::vector<SeedRun> runs(end - begin);
  std::vector<std::string> logs(end - begin);
  std::vector<std::unique_ptr<Member>> members;
  for (size_t i = begin; i < end; ++i) {
    failed_ = i;
    const std::string& log = logs[i - begin] = hooks.log_path ? hooks.log_path(i, plan[i]) : "";
    if (hooks.read_back && hooks.read_back(i, plan[i], log, &runs[i - begin])) continue;
    auto m = std::make_unique<Member>();
    m->index = i;
    m->session = std::make_unique<Session>(plan[i].config);
    m->session->add_observer(&m->evals);
    if (hooks.attach) hooks.attach(i, *m->session);
    if (!log.empty()) {
      m->writer = make_run_log_writer(log, m->session->config(), hooks.overwrite_logs);
      m->session->add_observer(m->writer.get());
    }
    members.push_back(std::move(m));
  }
  for (const auto& m : members)
    if (hooks.started) hooks.started(m->index, logs[m->index - begin]);
  auto train = [](Member& m) {
    try {
      m.summary = m.session->run();
    } catch (...) {
      m.error = std::current_exception();
    }
  };
  if (members.size() > 1) {
    auto group = std::make_shared<Lockstep>(static_cast<int>(members.size()));
    for (size_t k = 0; k < members.size(); ++k)
      members[k]->session->join(group, static_cast<int>(k));
  }
  for (size_t k = 0; k < members.size(); ++k) set_current(k, members[k]->session.get());
  if (members.size() == 1) {
    train(*members[0]);
  } else {
    std::vector<std::thread> threads;
    for (auto& m : members) threads.emplace_back(train, std::ref(*m));
    for (auto& t : threads) t.join();
  }
  for (size_t k = 0; k < members.size(); ++k) set_current(k, nullptr);
  for (const auto& m : members)
    if (m->error) {
      failed_ = m->index;
      std::rethrow_exception(m->error);
    }
  for (auto& m : members) {
    runs[m->index - begin].summary = std::move(m->summary);
    runs[m->index - begin].evals = std::move(m->evals.evals);
  }
  for (size_t i = begin; i < end; ++i) {
    if (hooks.finished) hooks.finished(i, plan[i], logs[i - begin], runs[i - begin]);
    done.push_back(std::move(runs[i - begin]));
  }
}

void StudyRunner::set_current(size_t slot, Session* s) {
  std::lock_guard<std::mutex> lock(mu_);
  current_[slot].store(s);
  if (!s) return;
  if (paused_) s->pause();
  if (stop_.load()) s->stop();  // stopped between two runs: this one ends at once
}

void StudyRunner::stop() {
  stop_.store(true);
  for (auto& c : current_)  // atomic loads and stores only: safe in a signal handler
    if (Session* s = c.load()) s->stop();
}

void StudyRunner::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
  for (auto& c : current_)
    if (Session* s = c.load()) s->pause();
}

void StudyRunner::resume() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = false;
  for (auto& c : current_)
    if (Session* s = c.load()) s->resume();
}

void StudyRunner::step_once() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : current_)
    if (Session* s = c.load()) s->step_once();
}

}  // namespace maw
