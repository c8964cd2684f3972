// Studio: the GUI-side state of the application, apart from its widgets (STYLE.md:
// PlotJuggler's data model apart from views). Owns the RunModels (live and loaded), the
// engine thread with its bridge, and the followers of opened logs; a timer drains the
// bridge and polls growing logs, then emits changed() — at most 30 times a second.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>
#include <QTimer>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "api/probe.h"
#include "api/run_config.h"
#include "model/log_follower.h"
#include "model/run_model.h"
#include "services/study_runner.h"
#include "studio/step_range.h"
#include "studio/ui_bridge.h"

class QProcess;

namespace maw {
class Session;
}

namespace maw::ui {

// Runs a study (runs one after another, through the engine's StudyRunner) on its own thread.
class EngineWorker : public QObject {
  Q_OBJECT
 public:
  explicit EngineWorker(UiBridge& bridge) : bridge_(bridge) {}
  // `first_index`: the RunModel index of runs[0]; `lockstep`: a seed's runs train
  // together, a step each in turn (StudyRunner::Hooks::lockstep), else one after another.
  void run_study(std::vector<PlannedRun> plan, int first_index, QString log_dir, bool lockstep);
  // Thread-safe controls of the current run; stop() also cancels the runs after it.
  void pause();
  void resume();
  void step_once();
  void stop();
  // Runs a probe (api/probe.h) on this thread; probe_done("") after it, or its error.
  void run_probe(const std::function<void()>& probe);

 signals:
  void run_started(int index, QString log_path);
  void finished(QString error);  // empty when every run ended normally
  void probe_done(QString error);

 private:
  UiBridge& bridge_;
  StudyRunner runner_;  // the engine's study runner, as the CLI's
};

class Studio : public QObject {
  Q_OBJECT
 public:
  explicit Studio(QObject* parent = nullptr);
  ~Studio() override;

  // Config keys set for one optimizer's runs only (optimizer → key → value), e.g. a
  // learning rate tuned for MetaAdamW beside AdamW's.
  using Overrides = std::map<std::string, std::map<std::string, std::string>>;

  // Starts AdamW and MetaAdamW (the `optimizers`) over `seeds` seeds from `base` (its
  // seed is the first); logs into `log_dir` when not empty. `lockstep` (the default): each
  // seed's optimizers train side by side, a step each in turn, so their curves grow
  // together; else one run after another. False when a study runs. Throws ConfigError
  // (nothing started) when an override is not a valid value.
  bool start(const RunConfig& base, const QStringList& optimizers, int seeds,
             const QString& log_dir, const Overrides& overrides = {}, bool lockstep = true);
  // Data-parallel: `metaadamw compare --nproc PROCESSES` in a process of its own (its ranks
  // local, c10d Gloo), the runs one after another; their logs (in `log_dir`, else a
  // temporary folder) are opened as they appear and followed while they grow. Stop ends it
  // (the ranks stop together); no pause. Throws ConfigError when the CLI is not beside the
  // studio (or METAADAMW_CLI) or the log folder cannot be made.
  void start_data_parallel(const RunConfig& base, const QStringList& optimizers, int seeds,
                           const QString& log_dir, int processes);
  bool data_parallel() const { return cli_ != nullptr; }
  void pause();
  void resume();
  void step_once();
  void stop();
  bool running() const { return running_; }
  bool paused() const { return paused_; }
  bool stopping() const { return stopping_; }  // Stop asked, the runs not ended yet
  // The latest Start's runs together: steps done and planned (a queued run counts with its
  // siblings' length until it starts).
  std::pair<int64_t, int64_t> study_progress() const;

  // Probes of a finished run after it (api/probe.h), on the engine thread while no study
  // runs: the landscape of run `run` as asked, or the line from run `run`'s final
  // parameters to run `other`'s. The result is stored in the logs and shown by the runs'
  // models once probe_finished("") is emitted. False, with why, when none can start.
  bool probe_landscape(int run, const LandscapeRequest& request, QString* why = nullptr);
  bool probe_interpolation(int run, int other, int64_t points = 41, QString* why = nullptr);
  // Whether run `run` can be probed now (finished, logged with its final parameters).
  bool probeable(int run, QString* why = nullptr) const;
  void cancel_probe() { probe_cancel_.store(true); }
  bool probing() const { return probing_; }
  // The running probe's evaluations: done, of total.
  std::pair<int64_t, int64_t> probe_progress() const {
    return {probe_done_.load(), probe_total_.load()};
  }

  // Opens a run log (finished or growing); throws DataError with the reader's message.
  void open_log(const QString& path);
  void clear_finished();

  const std::vector<std::unique_ptr<RunModel>>& runs() const { return runs_; }
  // The step range every panel shows (a selection, else Curves' zoom).
  StepRange& step_range() { return step_range_; }
  const StepRange& step_range() const { return step_range_; }
  int current_run() const { return current_; }
  // The run the per-run panels show (Modulation, Attention, Features, Meta, Groups — one
  // choice for all): the one the user picked, else the newest MetaAdamW run (it has
  // modulation to show), else the newest run; -1 when there is none. A Start follows its
  // new runs again.
  int shown_run() const;
  void pick_run(int index);  // the user's choice (-1: follow the newest MetaAdamW run)
  // The Start a run came from (1, 2, …; 0 for an opened log): re-runs get their own label
  // and shade and never merge with earlier ones.
  int start_count() const { return starts_; }
  QString current_log() const { return current_log_; }
  int64_t dropped() const { return bridge_.dropped(); }
  double steps_per_second() const { return steps_per_s_; }

  // Milliseconds between display updates: 33 (30 Hz), more while the GUI thread is busy.
  int refresh_interval_ms() const { return timer_.interval(); }

  // Blocks until the engine thread has ended the study (closing the window).
  void shutdown();

 signals:
  void changed();
  void runs_changed();  // a run was added or removed
  void shown_run_changed();
  void state_changed();
  void error(QString message);
  void probe_finished(QString error);  // empty: the result is in the models; "cancelled"

 private:
  // Starts `probe` on the engine thread for runs `runs` (their followers released: the
  // probe writes their logs); their models read the results back after it.
  bool start_probe(std::vector<int> runs, std::function<void(const ProbeControl&)> probe,
                   QString* why);
  void read_probes(int run);
  void open_new_logs();  // data-parallel: the logs the CLI's rank 0 has started since
  void tick();
  void adapt_rate(qint64 now_ms);
  static constexpr int kFastestTickMs = 33, kSlowestTickMs = 1000;
  std::vector<std::unique_ptr<RunModel>> runs_;
  StepRange step_range_;
  std::vector<std::pair<int, std::unique_ptr<LogFollower>>> followers_;
  UiBridge bridge_;
  QThread thread_;
  EngineWorker* worker_ = nullptr;
  QTimer timer_;
  bool running_ = false, paused_ = false, stopping_ = false;
  int current_ = -1;
  int picked_ = -1;  // the user's pick; -1: the newest MetaAdamW run
  int starts_ = 0;
  QString current_log_;
  qint64 last_poll_ms_ = 0;
  qint64 rate_window_ms_ = 0;
  double rate_cpu_s_ = 0.0;
  double steps_per_s_ = 0.0;
  int64_t last_steps_ = 0;
  qint64 last_time_ms_ = 0;
  bool probing_ = false;
  QProcess* cli_ = nullptr;     // data-parallel: the CLI's launcher
  QString cli_dir_;             // its log folder
  std::set<QString> cli_logs_;  // the logs of it opened
  std::vector<int> probed_;     // the runs the current probe writes
  std::atomic<bool> probe_cancel_{false};
  std::atomic<int64_t> probe_done_{0}, probe_total_{0};
};

}  // namespace maw::ui
