#include "studio/main_window.h"

#include <qcustomplot.h>
#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <algorithm>
#include <utility>

#include "api/errors.h"
#include "studio/export.h"
#include "studio/setup_panel.h"
#include "studio/studio.h"
#include "studio/views.h"

namespace maw::ui {

namespace {
// A panel in a dock, inside a scroll area: a panel's minimum size (a long caption, a row of
// plots) scrolls within its dock instead of growing the window past the screen.
QDockWidget* dock(QMainWindow* w, const QString& title, const QString& name, QWidget* content,
                  Qt::DockWidgetArea area) {
  auto* d = new QDockWidget(title, w);
  d->setObjectName(name);  // QSettings restores the layout by name
  auto* scroll = qobject_cast<QScrollArea*>(content);
  if (!scroll) {
    scroll = new QScrollArea;
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
  }
  d->setWidget(scroll);
  w->addDockWidget(area, d);
  return d;
}

// The panels that export (dock object names, "curves" for the central one) and their titles.
constexpr std::pair<const char*, const char*> kPanels[] = {
    {"curves", "&Curves"},         {"steps", "&Steps"},         {"modulation", "&Modulation"},
    {"features", "&Features"},     {"attention", "&Attention"}, {"meta", "M&eta"},
    {"trajectory", "T&rajectory"}, {"study", "S&tudy"}};

// The panel a dock shows (inside its scroll area).
QWidget* panel_of(QDockWidget* d) {
  auto* scroll = qobject_cast<QScrollArea*>(d->widget());
  return scroll ? scroll->widget() : d->widget();
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle("MetaAdamW Studio");
  setAcceptDrops(true);
  studio_ = new Studio(this);
  setup_ = new SetupPanel;
  curves_ = new CurvesView(*studio_);
  modulation_ = new GroupPlotView(*studio_, GroupPlotView::Kind::Modulation);
  features_ = new GroupPlotView(*studio_, GroupPlotView::Kind::Features);
  attention_ = new AttentionView(*studio_);
  meta_ = new MetaView(*studio_);
  steps_ = new StepSeriesView(*studio_);
  groups_ = new GroupsView(*studio_);
  study_ = new StudyView;
  trajectory_ = new TrajectoryView(*studio_);
  setCentralWidget(curves_);

  auto* scroll = new QScrollArea;
  scroll->setWidget(setup_);
  scroll->setWidgetResizable(true);
  scroll->setMinimumWidth(340);
  auto* d_setup = dock(this, "Run setup", "setup", scroll, Qt::LeftDockWidgetArea);
  auto* d_groups = dock(this, "Groups", "groups", groups_, Qt::LeftDockWidgetArea);
  tabifyDockWidget(d_setup, d_groups);
  d_setup->raise();
  auto* d_mod = dock(this, "Modulation", "modulation", modulation_, Qt::RightDockWidgetArea);
  auto* d_att = dock(this, "Attention", "attention", attention_, Qt::RightDockWidgetArea);
  auto* d_feat = dock(this, "Features", "features", features_, Qt::BottomDockWidgetArea);
  auto* d_meta = dock(this, "Meta", "meta", meta_, Qt::BottomDockWidgetArea);
  auto* d_steps = dock(this, "Steps", "steps", steps_, Qt::BottomDockWidgetArea);
  auto* d_traj = dock(this, "Trajectory", "trajectory", trajectory_, Qt::BottomDockWidgetArea);
  d_study_ = dock(this, "Study", "study", study_, Qt::BottomDockWidgetArea);
  // Panels refresh only while shown (a hidden tab costs nothing), and at once when shown.
  panels_ = {
      {d_mod, [this] { modulation_->refresh(); }}, {d_att, [this] { attention_->refresh(); }},
      {d_feat, [this] { features_->refresh(); }},  {d_meta, [this] { meta_->refresh(); }},
      {d_steps, [this] { steps_->refresh(); }},    {d_groups, [this] { groups_->refresh(); }},
      {d_traj, [this] { trajectory_->refresh(); }}};
  for (const auto& [d, refresh] : panels_)
    connect(d, &QDockWidget::visibilityChanged, this, [refresh = refresh](bool shown) {
      if (shown) refresh();
    });
  tabifyDockWidget(d_feat, d_meta);
  tabifyDockWidget(d_meta, d_steps);
  tabifyDockWidget(d_steps, d_traj);
  tabifyDockWidget(d_traj, d_study_);
  d_feat->raise();
  // Below ~1200 pixels of height (a 1366×768 laptop, a 1080p screen) Modulation's plot and
  // table and Attention's heatmap do not fit one above the other: they share a tab there
  // (set before the window is shown, so that it never grows past the screen).
  const bool small = QGuiApplication::primaryScreen() &&
                     QGuiApplication::primaryScreen()->availableGeometry().height() < 1200;
  if (small) {
    tabifyDockWidget(d_mod, d_att);
    d_mod->raise();
  }
  // The default layout's sizes, once the window has its size (a saved layout wins).
  default_sizes_ = [this, d_setup, d_mod, d_att, d_feat, small] {
    const bool narrow = screen() && screen()->availableGeometry().width() < 1500;
    resizeDocks({d_setup, d_mod}, {narrow ? 340 : 420, 500}, Qt::Horizontal);
    if (!small) resizeDocks({d_mod, d_att}, {520, 420}, Qt::Vertical);
    // Features and Meta: 30% of the height (Meta's plots are one row of three).
    const int high = screen() ? screen()->availableGeometry().height() : 1000;
    resizeDocks({d_feat}, {std::max(240, 3 * high / 10)}, Qt::Vertical);
  };
  default_state_ = saveState();  // View › Reset layout returns here
  QTimer::singleShot(0, this, [this] {
    if (!QSettings().contains("window/state")) default_sizes_();
  });

  // Controls.
  auto* tb = addToolBar("Controls");
  tb->setObjectName("controls");
  start_ = tb->addAction("Start", this, &MainWindow::start);
  start_->setShortcut(QKeySequence(Qt::Key_F5));
  pause_ = tb->addAction("Pause", this, [this] {
    if (studio_->paused())
      studio_->resume();
    else
      studio_->pause();
  });
  pause_->setShortcut(QKeySequence(Qt::Key_F6));
  step_ = tb->addAction("Step", this, [this] { studio_->step_once(); });
  step_->setShortcut(QKeySequence(Qt::Key_F7));
  stop_ = tb->addAction("Stop", this, [this] { studio_->stop(); });
  stop_->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_F5));
  for (auto* a : {start_, pause_, step_, stop_})
    a->setToolTip(a->text() + " (" + a->shortcut().toString() + ")");

  // Menus.
  auto* file = menuBar()->addMenu("&File");
  file->addAction("&Open run logs…", QKeySequence::Open, this, [this] {
    const auto files = QFileDialog::getOpenFileNames(this, "Open run logs", {},
                                                     "Run logs (*.h5 *.hdf5);;All files (*)");
    if (!files.isEmpty()) open_logs(files);
  });
  file->addAction("Open study &folder…", this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, "Open a study folder (--log-dir)");
    if (!dir.isEmpty()) open_logs({dir});
  });
  recent_ = file->addMenu("Open &recent");
  file->addSeparator();
  file->addAction("&Load run setup…", this, [this] {
    const QString f = QFileDialog::getOpenFileName(this, "Load run setup", {}, "JSON (*.json)");
    if (f.isEmpty()) return;
    try {
      setup_->load_json(f);
    } catch (const std::exception& e) {
      show_error(QString::fromUtf8(e.what()));
    }
  });
  file->addAction("&Save run setup…", this, [this] {
    const QString f =
        QFileDialog::getSaveFileName(this, "Save run setup", "run.json", "JSON (*.json)");
    if (f.isEmpty()) return;
    try {
      setup_->save_json(f);
    } catch (const std::exception& e) {
      show_error(QString::fromUtf8(e.what()));
    }
  });
  file->addSeparator();
  // Export: every panel's plots as one picture, or its data (named columns) as CSV; the
  // same from a right-click on any plot.
  auto* exports = file->addMenu("&Export panel");
  for (const auto& [name, title] : kPanels) {
    auto* a = exports->addAction(QString(title) + "…", this, [this, name = QString(name)] {
      const QString f = QFileDialog::getSaveFileName(
          this, "Export " + name, name + ".png",
          "PNG (*.png);;SVG (*.svg);;PDF (*.pdf);;CSV: the data (*.csv)");
      if (!f.isEmpty() && !export_panel(name, f)) show_error(last_error_);
    });
    if (QString(name) == "curves") a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    add_export_menu(panel(name), name);
  }
  file->addAction("Clear finished runs", this, [this] {
    studio_->clear_finished();
    study_->clear();
  });
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
  auto* view = menuBar()->addMenu("&View");
  for (auto* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
  view->addSeparator();
  view->addAction("&Reset layout", this, &MainWindow::reset_layout);
  auto* help = menuBar()->addMenu("&Help");
  help->addAction("&Keyboard and mouse", QKeySequence::HelpContents, this, [this] {
    QMessageBox::information(this, "MetaAdamW Studio — keyboard and mouse", help_text());
  });
  help->addAction("&About", this, [this] {
    QMessageBox::about(this, "About MetaAdamW Studio",
                       "MetaAdamW Studio: AdamW and MetaAdamW side by side, live and from "
                       "HDF5 run logs. The CLI is metaadamw (man metaadamw).");
  });

  // Status bar.
  status_step_ = new QLabel("idle");
  status_speed_ = new QLabel;
  status_device_ = new QLabel;
  status_log_ = new QLabel;
  status_error_ = new QLabel;
  status_error_->setStyleSheet("color: #c0392b");
  statusBar()->addWidget(status_step_);
  statusBar()->addWidget(status_speed_);
  statusBar()->addWidget(status_device_);
  statusBar()->addWidget(status_log_, 1);
  statusBar()->addPermanentWidget(status_error_);

  connect(studio_, &Studio::changed, this, &MainWindow::refresh);
  connect(studio_, &Studio::runs_changed, this, &MainWindow::refresh);
  connect(studio_, &Studio::shown_run_changed, this, &MainWindow::refresh);
  connect(studio_, &Studio::state_changed, this, &MainWindow::update_state);
  connect(studio_, &Studio::error, this, &MainWindow::show_error);

  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  rebuild_recent();
  update_state();
  refresh();
}

MainWindow::~MainWindow() = default;

void MainWindow::start() {
  try {
    const auto config = setup_->config();
    const auto optimizers = setup_->optimizers();
    if (optimizers.isEmpty()) throw ConfigError("choose at least one optimizer");
    status_error_->clear();
    if (setup_->processes() > 1) {
      if (!setup_->overrides().empty())
        throw ConfigError(
            "MetaAdamW's own learning rate or weight decay: not with processes > 1 "
            "yet (set them for both, or use one process)");
      studio_->start_data_parallel(config, optimizers, setup_->seeds(), setup_->log_dir(),
                                   setup_->processes());
      return;
    }
    studio_->start(config, optimizers, setup_->seeds(), setup_->log_dir(), setup_->overrides(),
                   setup_->lockstep());
  } catch (const std::exception& e) {
    show_error(QString::fromUtf8(e.what()));
  }
}

void MainWindow::open_logs(const QStringList& paths) {
  QStringList errors;
  for (const auto& p : paths) {
    QStringList files{p};
    bool study = false;
    if (QFileInfo(p).isDir()) {  // a compare's --log-dir, or a study's folder (its compare/)
      files.clear();
      for (const QString& sub : {QString(), QString("compare")})
        if (files.isEmpty())
          for (const auto& f :
               QDir(QDir(p).filePath(sub)).entryInfoList({"*.h5"}, QDir::Files, QDir::Name))
            files << f.absoluteFilePath();
      // Its statistics in the Study panel (a folder of committed results has no logs).
      QString why;
      study = study_->add_folder(p, &why);
      if (study) {
        d_study_->show();
        d_study_->raise();
        add_recent(p);
      }
      const bool no_json = why.contains("no study.json");
      if (!study && !no_json)  // a study's JSON that cannot be read
        errors << why;
      else if (!study && files.isEmpty())
        errors << p + ": no run logs (*.h5) in this folder or its compare/, and no study JSON";
    }
    for (const auto& f : files) {
      try {
        studio_->open_log(f);
        if (!study) add_recent(f);
      } catch (const std::exception& e) {
        errors << QString::fromUtf8(e.what());
      }
    }
  }
  // Every file that could not be opened, in one message (not only the last).
  if (errors.size() == 1) show_error(errors.first());
  if (errors.size() > 1)
    show_error(QString("%1 of the logs could not be opened:\n").arg(errors.size()) +
               errors.join("\n"));
}

void MainWindow::run_command_line(const CommandLine& cl, std::function<void(bool)> done) {
  open_logs(cl.logs);
  const auto select = [this, sel = cl.selection] {
    if (sel.second > sel.first) studio_->step_range().select(sel.first, sel.second);
  };
  select();
  const bool screenshots = !cl.screenshots_dir.isEmpty();
  if (cl.start || (screenshots && cl.logs.isEmpty())) start();
  if (!screenshots) return;
  auto* poll = new QTimer(this);
  connect(poll, &QTimer::timeout, this, [this, select, poll, cl, done] {
    if (studio_->running()) return;
    poll->stop();
    poll->deleteLater();
    select();  // again, over the whole run
    QTimer::singleShot(500, this, [this, dir = cl.screenshots_dir, size = cl.panel_size, done] {
      const bool ok = save_screenshots(dir, size);
      if (done) done(ok);
    });
  });
  poll->start(200);
}

void MainWindow::refresh() {
  curves_->refresh();
  for (const auto& [d, refresh] : panels_)
    if (d->isVisible()) refresh();
  update_state();
}

void MainWindow::update_state() {
  const bool running = studio_->running();
  start_->setEnabled(!running);
  pause_->setEnabled(running);
  pause_->setText(studio_->paused() ? "Resume" : "Pause");
  step_->setEnabled(running && studio_->paused());
  stop_->setEnabled(running);
  setup_->set_enabled_for_run(running);
  const int cur = studio_->current_run();
  if (cur >= 0 && cur < static_cast<int>(studio_->runs().size())) {
    const RunModel& m = *studio_->runs()[static_cast<size_t>(cur)];
    const auto done = static_cast<int64_t>(m.train_loss.last_step());
    const auto total = m.info().total_steps;
    // Honest state: paused and stopping say so; the run's own status otherwise.
    const QString state = !running              ? QString::fromStdString(m.status())
                          : studio_->stopping() ? QString("stopping…")
                          : studio_->paused()   ? QString("paused")
                                                : QString::fromStdString(m.status());
    status_step_->setText(QString("%1 · step %2 / %3 · %4")
                              .arg(QString::fromStdString(m.label()))
                              .arg(done)
                              .arg(total)
                              .arg(state));
    // Speed over every run training (both, side by side); slow runs in seconds per step;
    // the ETA of the whole comparison (queued runs included).
    const double sps = studio_->steps_per_second();
    QString speed = sps >= 1.0 || sps <= 0.0 ? QString("%1 steps/s").arg(sps, 0, 'f', 1)
                                             : QString("%1 s/step").arg(1.0 / sps, 0, 'f', 1);
    const auto [study_done, study_total] = studio_->study_progress();
    if (running && !studio_->paused() && sps > 0 && study_total > study_done) {
      const double eta = static_cast<double>(study_total - study_done) / sps;
      speed += eta < 120 ? QString(" · ETA %1 s").arg(eta, 0, 'f', 0)
                         : QString(" · ETA %1 min").arg(eta / 60, 0, 'f', 0);
      speed += " (the comparison)";
    }
    if (running && studio_->refresh_interval_ms() > 40)  // the display gave way to training
      speed += QString(" · display %1 Hz").arg(1000.0 / studio_->refresh_interval_ms(), 0, 'f', 1);
    status_speed_->setText(speed);
    status_device_->setText(QString::fromStdString(m.info().device));
    status_log_->setText(studio_->current_log().isEmpty() ? "not logged"
                                                          : "log: " + studio_->current_log());
  }
  if (studio_->dropped() > 0)
    status_error_->setText(
        QString("display skipped %1 records (the log has them)").arg(studio_->dropped()));
}

void MainWindow::show_error(const QString& message) {
  last_error_ = message;
  status_error_->setText(message.left(160));
  status_error_->setToolTip(message);
  if (isVisible() && !QApplication::platformName().contains("offscreen"))
    QMessageBox::warning(this, "MetaAdamW Studio", message);
}

QString MainWindow::help_text() {
  return "Start F5 · Pause/Resume F6 · one Step (while paused) F7 · Stop Shift+F5\n"
         "Open logs Ctrl+O (a folder: its logs) · Export Curves Ctrl+E · Quit Ctrl+Q\n\n"
         "In a plot: the wheel zooms the steps (y follows), a drag pans them; the step under\n"
         "the mouse is every panel's crosshair, with each run's value there.\n"
         "Shift+drag in Curves selects a step range for every panel; Esc or a double-click\n"
         "clears it.\n"
         "Legend: a click hides or shows a run, a double-click shows it alone.\n"
         "Right-click a plot: export its panel, every plot in one picture (PNG, SVG, PDF)\n"
         "or its data as CSV (File › Export panel: the same for any panel).\n"
         "Attention: ▶ plays the maps in step order; the mouse over a cell names its groups.\n"
         "View › Reset layout puts every panel back.";
}

void MainWindow::reset_layout() {
  restoreState(default_state_);  // every panel docked where it starts, floating ones too
  for (auto* d : findChildren<QDockWidget*>()) d->setFloating(false);
  default_sizes_();
}

void MainWindow::add_recent(const QString& path) {
  QSettings s;
  QStringList r = s.value("recent").toStringList();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  r.removeAll(absolute);  // once, at the top
  r.prepend(absolute);
  while (r.size() > 10) r.removeLast();
  s.setValue("recent", r);
  rebuild_recent();
}

void MainWindow::rebuild_recent() {
  recent_->clear();
  for (const auto& p : QSettings().value("recent").toStringList())
    recent_->addAction(p, this, [this, p] { open_logs({p}); });
  recent_->setEnabled(!recent_->isEmpty());
}

bool MainWindow::save_screenshots(const QString& dir, QSize panel) {
  QDir().mkpath(dir);
  bool ok = grab().save(QDir(dir).filePath("studio.png"));
  for (auto* d : findChildren<QDockWidget*>()) {
    const bool float_it = panel.isValid() && !d->isFloating();
    if (float_it) {
      d->setFloating(true);
      d->show();
      QApplication::processEvents();
      d->resize(panel + (d->size() - d->widget()->size()));  // the panel fills its scroll area
    }
    d->raise();  // a tabbed dock has no size until it is shown
    QApplication::processEvents();
    if (panel_of(d) == modulation_) {  // Modulation: as shown, and β beside α
      ok = modulation_->grab().save(QDir(dir).filePath("modulation.png")) && ok;
      const int quantity = modulation_->quantity()->currentIndex();
      const bool log_y = modulation_->log_y()->isChecked();
      modulation_->quantity()->setCurrentIndex(1);
      QApplication::processEvents();
      ok = modulation_->grab().save(QDir(dir).filePath("modulation-beta.png")) && ok;
      modulation_->quantity()->setCurrentIndex(quantity);
      modulation_->log_y()->setChecked(log_y);
    } else if (panel_of(d) == attention_) {  // Attention: one head, and all heads of layer 0
      ok = attention_->grab().save(QDir(dir).filePath("attention.png")) && ok;
      const bool all = attention_->all_heads()->isChecked();
      attention_->all_heads()->setChecked(true);
      QApplication::processEvents();
      ok = attention_->grab().save(QDir(dir).filePath("attention-heads.png")) && ok;
      attention_->all_heads()->setChecked(all);
    } else if (panel_of(d) != meta_) {
      ok = panel_of(d)->grab().save(QDir(dir).filePath(d->objectName() + ".png")) && ok;
    } else {
      const int page = meta_->pages()->currentIndex();  // Meta: both pages
      const std::pair<int, const char*> pages[] = {{0, "meta.png"}, {1, "meta-diagnostics.png"}};
      for (const auto& [index, file] : pages) {
        meta_->pages()->setCurrentIndex(index);
        QApplication::processEvents();
        ok = meta_->grab().save(QDir(dir).filePath(file)) && ok;
      }
      meta_->pages()->setCurrentIndex(page);
    }
    if (float_it) d->setFloating(false);
  }
  ok = curves_->grab().save(QDir(dir).filePath("curves.png")) && ok;
  return ok;
}

QWidget* MainWindow::panel(const QString& name) const {
  if (name == "curves") return curves_;
  for (auto* d : findChildren<QDockWidget*>())
    if (d->objectName() == name) return panel_of(d);
  return nullptr;
}

bool MainWindow::show_panel(const QString& name) {
  if (name == "curves") return true;  // the central widget: always shown
  for (auto* d : findChildren<QDockWidget*>())
    if (d->objectName() == name) {
      d->show();
      d->raise();
      return true;
    }
  return false;
}

bool MainWindow::export_panel(const QString& name, const QString& path) {
  QWidget* p = panel(name);
  if (!p) {
    last_error_ = "no panel named " + name;
    return false;
  }
  if (p->isHidden() || p->width() == 0) {  // a closed dock: laid out only once shown
    last_error_ = "the " + name + " panel is closed: show it (View menu) to export it";
    return false;
  }
  const bool ok = path.endsWith(".csv", Qt::CaseInsensitive)
                      ? save_panel_csv(shown_plots(p), shown_tables(p), path, &last_error_)
                  : shown_plots(p).empty() ? save_widget_image(p, path, &last_error_)
                                           : save_plots_image(shown_plots(p), path, &last_error_);
  return ok;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  studio_->shutdown();  // stops the run within a step and finalizes its log
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  e->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  QStringList files;
  for (const auto& u : e->mimeData()->urls())
    if (u.isLocalFile()) files << u.toLocalFile();
  open_logs(files);
}

}  // namespace maw::ui
