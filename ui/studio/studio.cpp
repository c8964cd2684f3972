#include "studio/studio.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <algorithm>
#include <ctime>
#include <map>
#include <type_traits>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/session.h"
#include "services/study_runner.h"

namespace maw::ui {

void EngineWorker::run_study(std::vector<PlannedRun> plan, int first_index, QString log_dir,
                             bool lockstep) {
  runner_.rearm();
  // The bridge's observers of the runs going on (two or more in lockstep), by plan index.
  std::map<size_t, std::unique_ptr<UiBridge::Observer>> observers;
  StudyRunner::Hooks hooks;
  hooks.lockstep = lockstep;
  if (!log_dir.isEmpty()) {
    QDir().mkpath(log_dir);
    // A log already in the folder (an earlier Start) is kept: this run takes the next free
    // name, adamw-seed0-2.h5, -3, …
    hooks.log_path = [dir = log_dir.toStdString()](size_t, const PlannedRun& r) {
      return free_log_path(dir, run_log_name(r.config.optimizer, r.config.seed, r.settings));
    };
  }
  hooks.attach = [&](size_t k, Session& session) {
    auto& o = observers[k] =
        std::make_unique<UiBridge::Observer>(bridge_, first_index + static_cast<int>(k));
    session.add_observer(o.get());
  };
  hooks.finished = [&](size_t k, const PlannedRun&, const std::string&, const SeedRun&) {
    observers.erase(k);
  };
  hooks.started = [&](size_t k, const std::string& log) {
    emit run_started(first_index + static_cast<int>(k), QString::fromStdString(log));
  };
  QString error;
  try {
    runner_.run(plan, hooks);
  } catch (const std::exception& e) {
    const size_t k = runner_.failed_index();
    error = QString::fromStdString(plan[k].config.optimizer) + " seed " +
            QString::number(plan[k].config.seed) + ": " + QString::fromUtf8(e.what());
    RunSummary s;
    s.status = RunStatus::error;
    s.message = e.what();
    UiBridge::Observer(bridge_, first_index + static_cast<int>(k))
        .on_finish(s);  // its model shows it
  }
  emit finished(error);
}

void EngineWorker::pause() {
  runner_.pause();
}

void EngineWorker::resume() {
  runner_.resume();
}

void EngineWorker::step_once() {
  runner_.step_once();
}

void EngineWorker::stop() {
  runner_.stop();
}

Studio::Studio(QObject* parent) : QObject(parent) {
  worker_ = new EngineWorker(bridge_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &EngineWorker::run_started, this, [this](int index, QString log) {
    current_ = index;
    current_log_ = log;
    emit state_changed();
  });
  connect(worker_, &EngineWorker::finished, this, [this](QString err) {
    tick();  // the last records
    running_ = false;
    paused_ = false;
    stopping_ = false;
    emit state_changed();
    if (!err.isEmpty()) emit error(err);
  });
  thread_.start();
  connect(&timer_, &QTimer::timeout, this, &Studio::tick);
  timer_.start(kFastestTickMs);  // ≤ 30 replots a second (fewer under load: adapt_rate)
}

Studio::~Studio() {
  shutdown();
}

void Studio::shutdown() {
  if (!thread_.isRunning()) return;
  worker_->stop();
  thread_.quit();
  thread_.wait();  // the run ends within one step; its log is finalized
}

bool Studio::start(const RunConfig& base, const QStringList& optimizers, int seeds,
                   const QString& log_dir, const Overrides& overrides, bool lockstep) {
  if (running_) return false;
  std::vector<std::string> names;
  for (const auto& opt : optimizers) names.push_back(opt.toStdString());
  std::map<std::string, Settings> per_optimizer;
  for (const auto& [opt, keys] : overrides) per_optimizer[opt] = Settings(keys.begin(), keys.end());
  const auto plan = compare_plan(base, names, seeds, per_optimizer);
  const int first = static_cast<int>(runs_.size());
  ++starts_;
  picked_ = -1;  // the panels follow the new runs
  for (const auto& r : plan) {
    const RunConfig& c = r.config;
    auto m = std::make_unique<RunModel>("live:" + std::to_string(starts_) + ":" + c.optimizer +
                                        ":" + std::to_string(c.seed));
    m->set_start(starts_);
    RunInfo pending;
    pending.optimizer = c.optimizer;
    pending.seed = c.seed;
    pending.task = c.task;
    m->on_start(pending);
    m->set_status("queued");
    runs_.push_back(std::move(m));
  }
  running_ = true;
  paused_ = false;
  emit runs_changed();
  emit state_changed();
  QMetaObject::invokeMethod(
      worker_,
      [w = worker_, plan, first, log_dir, lockstep] {
        w->run_study(plan, first, log_dir, lockstep);
      },
      Qt::QueuedConnection);
  return true;
}

void Studio::pause() {
  worker_->pause();
  paused_ = true;
  emit state_changed();
}
void Studio::resume() {
  worker_->resume();
  paused_ = false;
  emit state_changed();
}
void Studio::step_once() {
  worker_->step_once();
}
void Studio::stop() {
  worker_->stop();
  if (running_) {
    stopping_ = true;
    emit state_changed();
  }
}

std::pair<int64_t, int64_t> Studio::study_progress() const {
  int64_t done = 0, total = 0, known = 0, unknown = 0;
  for (const auto& m : runs_) {
    if (m->start() != starts_ || starts_ == 0) continue;
    const int64_t t = m->info().total_steps;
    if (t > 0) {
      total += t;
      known = t;
      done += static_cast<int64_t>(std::max(0.0, m->train_loss.last_step()));
    } else {
      ++unknown;
    }
  }
  return {done, total + unknown * known};
}

void Studio::open_log(const QString& path) {
  auto follower = std::make_unique<LogFollower>(path.toStdString());
  auto model = std::make_unique<RunModel>(path.toStdString());
  follower->poll(*model);
  runs_.push_back(std::move(model));
  followers_.emplace_back(static_cast<int>(runs_.size()) - 1, std::move(follower));
  emit runs_changed();
  emit changed();
}

int Studio::shown_run() const {
  const int n = static_cast<int>(runs_.size());
  if (picked_ >= 0 && picked_ < n) return picked_;
  for (int i = n - 1; i >= 0; --i)
    if (runs_[static_cast<size_t>(i)]->info().optimizer == "metaadamw") return i;
  return n - 1;
}

void Studio::pick_run(int index) {
  if (index == picked_) return;
  picked_ = index;
  emit shown_run_changed();
}

void Studio::clear_finished() {
  if (running_) return;
  // First, while the panels' runs still exist: a selection of the cleared runs' steps
  // means nothing now.
  step_range_.clear();
  runs_.clear();
  followers_.clear();
  current_ = -1;
  picked_ = -1;
  emit runs_changed();
  emit changed();
}

namespace {
double thread_cpu_s() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0.0;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
}  // namespace

void Studio::adapt_rate(qint64 now) {
  // The display gives way to training: when the GUI thread (draining, rebuilding the
  // panels, painting) used more than a quarter of a core over the last second, it redraws
  // less often (down to once a second); below a tenth, more often again (up to 30 Hz).
  const double cpu = thread_cpu_s();
  if (now - rate_window_ms_ < 1000) return;
  const double share = (cpu - rate_cpu_s_) / (1e-3 * static_cast<double>(now - rate_window_ms_));
  int interval = timer_.interval();
  if (running_ && share > 0.25)
    interval = std::min(kSlowestTickMs, interval * 3 / 2 + 1);
  else if (!running_ || share < 0.10)
    interval = std::max(kFastestTickMs, interval * 2 / 3);
  if (interval != timer_.interval()) timer_.setInterval(interval);
  rate_cpu_s_ = cpu;
  rate_window_ms_ = now;
}

void Studio::tick() {
  bool any = false;
  int64_t steps = 0;
  for (auto& item : bridge_.drain()) {
    if (item.run < 0 || item.run >= static_cast<int>(runs_.size())) continue;
    RunModel& m = *runs_[static_cast<size_t>(item.run)];
    std::visit(
        [&](const auto& r) {
          using T = std::decay_t<decltype(r)>;
          if constexpr (std::is_same_v<T, StepRecord>) ++steps;
          forward(r, m);
        },
        item.record);
    any = true;
  }
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  last_steps_ += steps;
  if (last_time_ms_ == 0) {  // the first tick: the rate's window starts here
    last_time_ms_ = now;
    last_steps_ = 0;
  } else if (now - last_time_ms_ >= 1000) {
    steps_per_s_ =
        1000.0 * static_cast<double>(last_steps_) / static_cast<double>(now - last_time_ms_);
    last_steps_ = 0;
    last_time_ms_ = now;
  }
  adapt_rate(now);
  if (now - last_poll_ms_ >= 1000) {  // growing logs: once a second
    last_poll_ms_ = now;
    for (auto& [index, f] : followers_) {
      auto& m = *runs_[static_cast<size_t>(index)];
      if (m.status() != "running") continue;
      try {
        any = f->poll(m) || any;
      } catch (const DataError& e) {
        m.set_status("unreadable");
        emit error(QString::fromUtf8(e.what()));
      }
    }
  }
  if (any) emit changed();
}

}  // namespace maw::ui
