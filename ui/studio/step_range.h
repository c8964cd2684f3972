// The step range every panel shows (KDAB hotspot's one selection driving all views),
// owned by the Studio: a selection (Shift+drag in Curves, a saved layout, a test) or,
// without one, the view that Curves' step axis is zoomed to. Panels listen to changed();
// none keeps a copy of the selection or is wired to another panel.
#pragma once

#include <QObject>
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

 signals:
  void selection_changed(double lo, double hi);  // (0, 0): cleared
  void changed(double lo, double hi);            // shown() changed

 private:
  void announce();
  double lo_ = 0, hi_ = 0, view_lo_ = 0, view_hi_ = 0;
  std::pair<double, double> announced_{0, 0};
};

}  // namespace maw::ui
