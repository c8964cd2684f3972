#include "studio/studio.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
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

void EngineWorker::run_probe(const std::function<void()>& probe) {
  QString error;
  try {
    probe();
  } catch (const ProbeCancelled&) {
    error = "cancelled";
  } catch (const std::exception& e) {
    error = QString::fromUtf8(e.what());
  }
  emit probe_done(error);
}

Studio::Studio(QObject* parent) : QObject(parent) {
  worker_ = new EngineWorker(bridge_);
  worker_->moveToThread(&thread_);
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &EngineWorker::run_started, this, [this](int index, QString log) {
    current_ = index;
    current_log_ = log;
    if (index >= 0 && index < static_cast<int>(runs_.size()))
      runs_[static_cast<size_t>(index)]->log_path = log.toStdString();
    emit state_changed();
  });
  connect(worker_, &EngineWorker::probe_done, this, [this](QString err) {
    probing_ = false;
    for (int r : probed_) read_probes(r);
    probed_.clear();
    emit state_changed();
    emit changed();
    emit probe_finished(err);
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
  if (running_ || probing_) return false;
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

void Studio::start_data_parallel(const RunConfig& base, const QStringList& optimizers, int seeds,
                                 const QString& log_dir, int processes) {
  if (running_ || probing_) return;
  // The CLI beside the studio (build/app/, bin/), or METAADAMW_CLI.
  QString cli = qEnvironmentVariable("METAADAMW_CLI");
  const QDir here(QCoreApplication::applicationDirPath());
  for (const QString& c : {here.filePath("metaadamw"), here.filePath("../app/metaadamw")})
    if (cli.isEmpty() && QFileInfo(c).isExecutable()) cli = QFileInfo(c).absoluteFilePath();
  if (cli.isEmpty() || !QFileInfo(cli).isExecutable())
    throw ConfigError("data-parallel runs need the metaadamw CLI beside the studio (" +
                      here.filePath("metaadamw").toStdString() + "), or METAADAMW_CLI");
  // A folder of its own for this Start's study (the CLI refuses to replace one).
  const QString parent = log_dir.isEmpty() ? QDir::temp().filePath("metaadamw-studio") : log_dir;
  cli_dir_ = QDir(parent).filePath("data-parallel-" +
                                   QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss-zzz"));
  if (!QDir().mkpath(cli_dir_))
    throw ConfigError("cannot create the log folder '" + cli_dir_.toStdString() + "'");
  // The keys the setup gave, as the CLI's --set (the others stay the preset's: a whole
  // RunConfig's JSON would pin its unresolved 0s, "the preset's", as explicit values).
  QStringList args = {"compare",
                      "--optimizers",
                      optimizers.join(","),
                      "--seeds",
                      QString::number(seeds),
                      "--nproc",
                      QString::number(processes),
                      "--log-dir",
                      cli_dir_,
                      "-q"};
  for (const auto& key : base.explicit_keys)
    if (key != "optimizer") args << "--set" << QString::fromStdString(key + "=" + base.get(key));
  cli_logs_.clear();
  cli_ = new QProcess(this);
  cli_->setProcessChannelMode(QProcess::SeparateChannels);
  connect(cli_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus how) {
    open_new_logs();
    last_poll_ms_ = 0;
    tick();  // the logs' last records
    const QString err = QString::fromUtf8(cli_->readAllStandardError()).trimmed();
    cli_->deleteLater();
    cli_ = nullptr;
    running_ = false;
    stopping_ = false;
    emit state_changed();
    if (how != QProcess::NormalExit || code != 0)
      emit error("data-parallel compare ended with exit code " + QString::number(code) +
                 (err.isEmpty() ? QString() : ": " + err.section('\n', -3)));
  });
  cli_->start(cli, args);
  ++starts_;
  picked_ = -1;
  running_ = true;
  paused_ = false;
  current_log_ = cli_dir_;
  emit state_changed();
}

void Studio::open_new_logs() {
  if (cli_dir_.isEmpty()) return;
  for (const auto& f : QDir(cli_dir_).entryInfoList({"*.h5"}, QDir::Files, QDir::Name)) {
    const QString path = f.absoluteFilePath();
    if (cli_logs_.count(path)) continue;
    try {
      open_log(path);
      cli_logs_.insert(path);
    } catch (const DataError&) {
      // Being created by rank 0: readable once its run starts; the next look opens it.
    }
  }
}

void Studio::pause() {
  if (cli_) return;  // a data-parallel study does not pause
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
  if (cli_) cli_->terminate();  // SIGTERM to the launcher: its ranks stop together
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
  model->log_path = path.toStdString();
  follower->poll(*model);
  runs_.push_back(std::move(model));
  followers_.emplace_back(static_cast<int>(runs_.size()) - 1, std::move(follower));
  emit runs_changed();
  emit changed();
}

bool Studio::probeable(int run, QString* why) const {
  auto no = [why](const QString& reason) {
    if (why) *why = reason;
    return false;
  };
  if (run < 0 || run >= static_cast<int>(runs_.size())) return no("no run");
  const RunModel& m = *runs_[static_cast<size_t>(run)];
  const std::string& st = m.status();
  if (st == "running" || st == "queued" || st == "starting" || st == "paused")
    return no("after the run ends");
  if (m.log_path.empty()) return no("the run has no log (set a log folder before Start)");
  if (!m.info().final_parameters)
    return no(
        "its log holds no final parameters (a log before schema 5, or "
        "keep_final_parameters = false)");
  return true;
}

bool Studio::probe_landscape(int run, const LandscapeRequest& request, QString* why) {
  if (!probeable(run, why)) return false;
  const std::string log = runs_[static_cast<size_t>(run)]->log_path;
  return start_probe(
      {run}, [log, request](const ProbeControl& c) { maw::probe_landscape(log, request, c); }, why);
}

bool Studio::probe_interpolation(int run, int other, int64_t points, QString* why) {
  if (!probeable(run, why) || !probeable(other, why)) return false;
  if (run == other) {
    if (why) *why = "choose another run";
    return false;
  }
  const std::string a = runs_[static_cast<size_t>(run)]->log_path,
                    b = runs_[static_cast<size_t>(other)]->log_path;
  return start_probe(
      {run, other},
      [a, b, points](const ProbeControl& c) { maw::probe_interpolation(a, b, points, c); }, why);
}

bool Studio::start_probe(std::vector<int> runs, std::function<void(const ProbeControl&)> probe,
                         QString* why) {
  if (running_ || probing_) {
    if (why) *why = running_ ? "after the runs end" : "one probe at a time";
    return false;
  }
  // The probe writes these logs: their readers (finished logs need none) are closed first —
  // HDF5 opens a file once per process.
  for (int r : runs)
    followers_.erase(std::remove_if(followers_.begin(), followers_.end(),
                                    [r](const auto& f) { return f.first == r; }),
                     followers_.end());
  probing_ = true;
  probed_ = std::move(runs);
  probe_cancel_.store(false);
  probe_done_.store(0);
  probe_total_.store(0);
  ProbeControl control;
  control.cancelled = [this] { return probe_cancel_.load(); };
  control.progress = [this](int64_t done, int64_t total) {
    probe_total_.store(total);
    probe_done_.store(done);
  };
  emit state_changed();
  QMetaObject::invokeMethod(
      worker_, [w = worker_, probe, control] { w->run_probe([&] { probe(control); }); },
      Qt::QueuedConnection);
  return true;
}

// The probes' results the run's log holds, into its model.
void Studio::read_probes(int run) {
  if (run < 0 || run >= static_cast<int>(runs_.size())) return;
  RunModel& m = *runs_[static_cast<size_t>(run)];
  try {
    const auto stored = stored_probes(RunLogReader(m.log_path));
    if (stored.landscape) m.landscape = stored.landscape;
    if (stored.interpolation) m.interpolation = stored.interpolation;
  } catch (const DataError& e) {
    emit error(QString::fromUtf8(e.what()));
  }
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
  if (running_ || probing_) return;
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
    if (cli_) open_new_logs();
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
