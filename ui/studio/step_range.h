// The step range every panel shows (KDAB hotspot's one selection driving all views),
// owned by the Studio: a selection (Shift+drag in Curves, a saved layout, a test) or,
// without one, the view that Curves' step axis is zoomed to. Panels listen to changed();
// none keeps a copy of the selection or is wired to another panel.
#pragma once

#include <QObject>
#include <limits>
#include <utility>

namespace maw::ui {

class StepRange : public QObject {
  Q_OBJECT
 public:
  using QObject::QObject;

  // Steps [lo, hi], widened to whole steps (lo ≥ 0); hi <= lo clears the selection.
  void select(double lo, double hi);
  void clear() { select(0, 0); }
  bool has_selection() const { return hi_ > lo_; }
  std::pair<double, double> selection() const { return {lo_, hi_}; }  // (0, 0): none
  // The range in view where there is no selection (Curves' zoom on its step axis);
  // hi <= lo: the whole run (Curves follows the run, or plots against wall time).
  void set_view(double lo, double hi);
  // What the panels show: the selection, else the view; hi <= lo: the whole run.
  std::pair<double, double> shown() const;
  // The step under the mouse in any panel (NaN: none): every panel with a step axis draws
  // its crosshair and readout there.
  void hover(double step);
  double hovered_step() const { return hover_; }

 signals:
  void selection_changed(double lo, double hi);  // (0, 0): cleared
  void changed(double lo, double hi);            // shown() changed
  void hovered(double step);                     // NaN: the mouse left

 private:
  void announce();
  double lo_ = 0, hi_ = 0, view_lo_ = 0, view_hi_ = 0;
  double hover_ = std::numeric_limits<double>::quiet_NaN();
  std::pair<double, double> announced_{0, 0};
};

}  // namespace maw::ui
