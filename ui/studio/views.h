// The studio's panels (ISSUE step 5): each reads the Studio's RunModels only, so a live
// run and a loaded log look the same. One concern per class; all show the Studio's one
// StepRange (studio/step_range.h), listening to its changed().
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QToolButton>
#include <QTreeWidget>
#include <QWidget>
#include <utility>
#include <vector>

#include "studio/plot_kit.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemStraightLine;
class QTimer;

namespace maw::ui {

class Studio;
class RunModel;
class Trace;
class AttentionMaps;

// A combo box listing the runs ("metaadamw · seed 0", "… · #2" for a later Start, a log's
// file name), showing the studio's shown run (Studio::shown_run: the newest MetaAdamW run
// until the user picks one); a pick here is the pick of every panel.
class RunPicker : public QComboBox {
  Q_OBJECT
 public:
  explicit RunPicker(Studio& studio, QWidget* parent = nullptr);
  void sync(const Studio& studio);
  int run() const;  // index into Studio::runs(), -1 when none
};

class CurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesView(Studio& studio, QWidget* parent = nullptr);
  void refresh();
  QCustomPlot* loss_plot() const { return loss_; }
  QCustomPlot* metric_plot() const { return metric_; }
  int graph_points() const;  // data points shown, all graphs (tests)

  // The Studio's step range selection, as Curves edits it: Shift+drag on either plot
  // selects, Esc, double-click or "clear" clears. While one is set, the other panels show
  // that range only; without one they follow Curves' zoom on its step axis.
  void set_selection(double lo, double hi);  // in steps; hi <= lo clears
  void clear_selection() { set_selection(0, 0); }
  std::pair<double, double> selection() const;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void plot(QCustomPlot* p, bool eval);
  void show_selection();
  const Trace* clock() const;  // a run's step ↔ wall-time relation (x: wall time)
  Studio& studio_;
  QCustomPlot *loss_, *metric_;
  QComboBox *x_axis_, *seeds_;
  QCheckBox *log_y_, *follow_;
  QSlider* smoothing_;
  QLabel *smoothing_label_, *selection_label_;
  QToolButton* clear_selection_;
  void update_view();  // Curves' step-axis view → StepRange (what panels show unselected)
};

// α, β, λ1, λ2, effective lr / wd per group over time, or a chosen feature per group;
// log y and EMA smoothing. α and β on a linear axis always show 1 (AdamW's step) and, where
// in view, the design's bounds as dashed lines: a factor pinned to a bound reads as a flat
// line on it, not as motion in the 7th digit. Modulation adds a sortable table of per-group means
// over the selected step range (the whole run without one), with the mean effective learning rate
// relative to AdamW's: which layers got a larger learning rate.
class GroupPlotView : public QWidget {
  Q_OBJECT
 public:
  enum class Kind { Modulation, Features };
  GroupPlotView(Studio& studio, Kind kind, QWidget* parent = nullptr);
  void refresh();
  QCustomPlot* plot() const { return plot_; }
  QComboBox* quantity() const { return quantity_; }
  QCheckBox* log_y() const { return log_y_; }
  QSlider* smoothing() const { return smoothing_; }
  // Modulation only (null for Features): the per-group table and what it averages.
  QTableWidget* summary() const { return summary_; }
  // The run's modulator design and factor ranges, what the table averages, the extremes.
  QLabel* summary_caption() const { return summary_caption_; }

  // Columns of the summary table.
  enum Column { kGroup, kLrRatio, kAlpha, kBeta, kEffectiveLr, kEffectiveWd, kColumns };

 protected:
  void resizeEvent(QResizeEvent* e) override;

 private:
  void show_step_range();  // the Studio's StepRange changed
  void fill_summary(const RunModel& m);
  void fit();  // the x range (the selection), y to the data; α, β: 1 and the bounds
  const RunModel* reference_run(const RunModel& m) const;  // an AdamW run beside m
  Studio& studio_;
  Kind kind_;
  RunPicker* run_;
  QComboBox* quantity_;
  QCheckBox* log_y_;
  QSlider* smoothing_;
  QLabel *smoothing_label_, *summary_caption_ = nullptr;
  QCustomPlot* plot_;
  QSplitter* split_ = nullptr;
  QTableWidget* summary_ = nullptr;
  QCPItemStraightLine *bound_lo_ = nullptr, *bound_hi_ = nullptr;  // Modulation: α's, β's range
};

// Attention: the modulator's G×G maps (query group × key group) of one layer and head, or
// all heads of a layer side by side on one colour scale; a step scrubber with play/pause
// and a step entry. Axes label groups by index (the panel stays readable with many groups);
// the mouse over a cell names both groups and the weight.
class AttentionView : public QWidget {
  Q_OBJECT
 public:
  explicit AttentionView(Studio& studio, QWidget* parent = nullptr);
  void refresh();
  int map_size() const;      // G of the shown map (tests)
  double color_max() const;  // the colour scale's upper end (tests)
  QCheckBox* fixed_scale() const { return fixed_scale_; }
  QCheckBox* all_heads() const { return all_heads_; }
  QToolButton* play() const { return play_; }           // checked: playing
  QSpinBox* step_entry() const { return step_entry_; }  // a step: the nearest map
  int64_t shown_step() const;  // the step of the shown map, -1 when none (tests)
  int maps_shown() const { return shown_groups_ > 0 ? static_cast<int>(maps_.size()) : 0; }
  QCustomPlot* plot() const { return plot_; }
  // What the mouse at `pos` (plot coordinates) points at: "query 3 name → key 5 name: w",
  // empty off the maps.
  QString cell_text(const QPoint& pos) const;

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void layout_maps(int count, int columns);  // `count` maps on a grid, one colour scale
  void advance();                            // play: the next map, stop at the last
  Studio& studio_;
  RunPicker* run_;
  QSpinBox *layer_, *head_, *step_entry_;
  QSlider* step_;
  QToolButton* play_;
  QTimer* player_;
  QCheckBox* follow_;
  QCheckBox* fixed_scale_;  // one colour scale for every map of the run (comparable maps)
  QCheckBox* all_heads_;
  // The largest weight of the maps seen so far, per run (`scale_seen_` maps of `scale_id_`).
  std::string scale_id_;
  size_t scale_seen_ = 0;
  float scale_hi_ = 0.0f;
  QLabel* step_label_;
  QCustomPlot* plot_;
  std::vector<QCPColorMap*> maps_;  // one per shown head
  std::vector<int> map_heads_;      // the head each map shows
  QStringList names_;               // the shown run's group names
  QCPColorScale* scale_ = nullptr;
  int shown_groups_ = 0, shown_layer_ = 0;
  std::pair<int, int> reachable(const AttentionMaps& maps) const;
};

// The meta-objective (terms, HUW weights and log-variances) over the meta-updates, and
// the meta-learning's health: the meta-gradient's norm per block, the modulator's relative
// change, the fraction of groups whose factors sit at a bound (saturation).
class MetaView : public QWidget {
  Q_OBJECT
 public:
  explicit MetaView(Studio& studio, QWidget* parent = nullptr);
  void refresh();
  QCustomPlot* plot() const { return terms_; }
  QCustomPlot* grad_norm_plot() const { return grad_norm_; }
  QCustomPlot* rel_change_plot() const { return rel_change_; }
  QCustomPlot* at_bound_plot() const { return at_bound_; }
  QTabWidget* pages() const { return pages_; }  // 0: the objective, 1: the diagnostics

 private:
  void fit();
  Studio& studio_;
  RunPicker* run_;
  QTabWidget* pages_;
  QCustomPlot *terms_, *weights_, *log_vars_, *grad_norm_, *rel_change_, *at_bound_;
  QLabel* summary_;
};

// Steps: a per-step series of every run (the log's steps table: loss, η_t, timings, and
// whatever the codec adds), one line per run in its optimizer's colour.
class StepSeriesView : public QWidget {
  Q_OBJECT
 public:
  explicit StepSeriesView(Studio& studio, QWidget* parent = nullptr);
  void refresh();
  QComboBox* series() const { return series_; }
  QCustomPlot* plot() const { return plot_; }

 private:
  void sync_series();
  Studio& studio_;
  QComboBox* series_;
  QCheckBox* log_y_;
  QSlider* smoothing_;
  QLabel* smoothing_label_;
  QCustomPlot* plot_;
};

// Trajectory: the runs' paths in parameter space on their plane (two of the run's K random
// directions, train/trajectory.h) — every run sharing the shown run's plane (one seed, one
// initialization), its start and end marked, the hovered step's point marked on each — and
// the distance from the initialization, ‖θ_t − θ_0‖, per group of the shown run with every
// run's overall distance. Both follow the step range (a selection shows its points only).
// After a run, the probes (api/probe.h) on the engine thread with a progress bar and
// Cancel: the loss landscape under the paths around the run's end or a clicked point, and
// the loss along the line from the run's final parameters to another run's.
class TrajectoryView : public QWidget {
  Q_OBJECT
 public:
  explicit TrajectoryView(Studio& studio, QWidget* parent = nullptr);
  void refresh();
  QCustomPlot* plane() const { return plane_; }
  QCustomPlot* distance_plot() const { return distance_; }
  QCustomPlot* line_plot() const { return line_; }
  QSpinBox* x_direction() const { return x_dir_; }
  QSpinBox* y_direction() const { return y_dir_; }
  QSpinBox* grid() const { return grid_; }
  QDoubleSpinBox* half_width() const { return width_; }
  QComboBox* around() const { return around_; }  // 0: the run's end, 1: the clicked point
  QComboBox* line_to() const { return other_; }  // the other run of the line
  QPushButton* compute_button() const { return compute_; }
  QPushButton* interpolate_button() const { return interpolate_; }
  QPushButton* cancel_button() const { return cancel_; }
  QLabel* probe_note() const { return note_; }
  int paths() const { return static_cast<int>(paths_.size()); }  // runs drawn on the plane
  // The shown run's landscape under the paths: its grid's size, 0 when none is drawn.
  int landscape_cells() const;
  int contour_lines() const { return contours_; }  // the landscape's iso-lines drawn
  // Run i's drawn points (plane coordinates), in step order (tests).
  std::vector<std::pair<double, double>> path_points(int i) const;
  // The point a landscape is computed around when "around" is the clicked point (a click on
  // the plane of directions 1 and 2 sets it).
  void set_clicked_point(double x, double y);

 private:
  void mark_hovered(double step);
  void mark_clicked();
  void say(const QString& text);  // the probes' note, hidden when empty
  void sync_probes();             // the probe controls' state, the line's run list
  void draw_line(const RunModel* shown);
  void compute_landscape();
  void interpolate();
  Studio& studio_;
  RunPicker* run_;
  QSpinBox *x_dir_, *y_dir_;
  QLabel* caption_;
  QCustomPlot *plane_, *distance_, *line_;
  QSpinBox* grid_;
  QDoubleSpinBox* width_;
  QComboBox *around_, *other_;
  QPushButton *compute_, *interpolate_, *cancel_;
  class QProgressBar* progress_;
  QLabel* note_;
  class QTimer* progress_timer_;
  std::vector<class QCPCurve*> paths_;
  QCPColorMap* landscape_ = nullptr;
  QCPColorScale* landscape_scale_ = nullptr;
  std::vector<const RunModel*> path_runs_;
  int contours_ = 0;
  bool has_click_ = false;
  double click_x_ = 0, click_y_ = 0;
  QPoint press_;
};

// Study: the statistics of the studies opened (a compare or sweep --log-dir's study.json,
// a `metaadamw study` folder's protocol.json with its variants): per comparison the metric
// both ways over the seeds, the difference with its 95% CI, the paired t-test's and the
// Wilcoxon test's p, time to target and the wall-time ratio. Read from the JSON the CLI
// wrote (never recomputed here), so a folder of committed results shows without its logs.
class StudyView : public QWidget {
  Q_OBJECT
 public:
  explicit StudyView(QWidget* parent = nullptr);
  // The study in `folder` added to the table: false (and `error`) when it holds none or its
  // JSON cannot be read.
  bool add_folder(const QString& folder, QString* error);
  void clear();
  QTableWidget* table() const { return table_; }
  enum Column {
    kComparison,
    kMetric,
    kSeeds,
    kBaseline,
    kCandidate,
    kDifference,
    kPT,
    kPWilcoxon,
    kToTarget,
    kTimeRatio,
    kColumns
  };

 private:
  QLabel* caption_;
  QTableWidget* table_;
  QStringList folders_;
};

class GroupsView : public QWidget {
  Q_OBJECT
 public:
  explicit GroupsView(Studio& studio, QWidget* parent = nullptr);
  void refresh();

 private:
  Studio& studio_;
  RunPicker* run_;
  QTreeWidget* tree_;
  std::string shown_;
};

}  // namespace maw::ui
