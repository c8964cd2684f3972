// The studio's main window: Curves in the middle; Run setup, Groups, Modulation,
// Features, Attention and Meta as docks; controls in a toolbar; state in the status bar.
#pragma once

#include <QByteArray>
#include <QLabel>
#include <QMainWindow>
#include <QSize>
#include <QStringList>
#include <functional>
#include <utility>
#include <vector>

class QDockWidget;

namespace maw::ui {

class Studio;
class SetupPanel;
class CurvesView;
class GroupPlotView;
class AttentionView;
class MetaView;
class GroupsView;
class StepSeriesView;
class StudyView;
class TrajectoryView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  Studio& studio() { return *studio_; }
  SetupPanel& setup() { return *setup_; }
  CurvesView& curves() { return *curves_; }
  AttentionView& attention() { return *attention_; }
  GroupPlotView& modulation() { return *modulation_; }
  GroupPlotView& features() { return *features_; }
  StepSeriesView& steps() { return *steps_; }
  MetaView& meta() { return *meta_; }
  StudyView& study() { return *study_; }
  TrajectoryView& trajectory() { return *trajectory_; }

  void start();
  void open_logs(const QStringList& paths);

  // What the command line asks for once the window is up (app/studio/main.cpp): open
  // `logs`; start the run setup's comparison when `start` is set, or for screenshots with
  // no logs to show (logs alone are only shown: no run starts); select `selection` in
  // Curves when its upper end is above its lower one. With a `screenshots_dir`, once no run
  // is going, save every panel there (the selection set again over the whole run) and call
  // `done` with whether every file was written.
  struct CommandLine {
    QStringList logs;
    bool start = false;
    QString screenshots_dir;  // empty: no screenshots
    std::pair<double, double> selection{0, 0};
    QSize panel_size;  // each panel's picture at this size (save_screenshots)
  };
  void run_command_line(const CommandLine& cl, std::function<void(bool)> done = {});
  // Every panel as a PNG in `dir` (docs/screenshots; Meta's two pages as meta.png and
  // meta-diagnostics.png, Modulation also with β as modulation-beta.png, Attention also
  // with all heads of a layer as attention-heads.png); false on a
  // write error. A valid `panel` size: each panel is
  // floated out of the window for its picture and saved at that size, or at its minimum
  // size where that is larger (documentation pictures larger than the layout gives a
  // panel), then docked again.
  bool save_screenshots(const QString& dir, QSize panel = {});
  // A panel ("curves", "steps", "modulation", "features", "attention", "meta") as it
  // shows now: its plots as one picture (PNG, SVG, PDF by the extension) or, for a .csv
  // path, its data (studio/export.h). False with last_error() when it cannot.
  bool export_panel(const QString& panel, const QString& path);
  QWidget* panel(const QString& name) const;
  // The named panel's dock shown and in front of its tab group (false: no such panel).
  bool show_panel(const QString& name);
  QString last_error() const { return last_error_; }
  // Every panel back where a first start puts it, at its first size (View › Reset layout).
  void reset_layout();
  // Help › Keyboard and mouse: every shortcut and mouse gesture.
  static QString help_text();

 protected:
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  void refresh();
  void update_state();
  void show_error(const QString& message);
  void add_recent(const QString& path);
  void rebuild_recent();
  Studio* studio_;
  SetupPanel* setup_;
  CurvesView* curves_;
  GroupPlotView *modulation_, *features_;
  StepSeriesView* steps_;
  AttentionView* attention_;
  MetaView* meta_;
  GroupsView* groups_;
  StudyView* study_;
  TrajectoryView* trajectory_;
  QDockWidget* d_study_;
  QAction *start_, *pause_, *step_, *stop_;
  QMenu* recent_;
  QLabel *status_step_, *status_speed_, *status_device_, *status_log_, *status_error_;
  std::vector<std::pair<QDockWidget*, std::function<void()>>> panels_;
  QString last_error_;
  QByteArray default_state_;
  std::function<void()> default_sizes_;
};

}  // namespace maw::ui
