// Steps: any per-step series of the run log's steps table (docs/LOG_FORMAT.md), every run
// on one plot. The series are the codec's float columns (api/log_schema.h) as RunModel
// holds them: a value added to the codec appears here with no change to this panel.
#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <algorithm>

#include "api/log_schema.h"
#include "model/run_model.h"
#include "model/trace.h"
#include "studio/studio.h"
#include "studio/views.h"

namespace maw::ui {
namespace {

// The columns that are the x axis or the run's bookkeeping, not a quantity to plot.
bool is_axis(const std::string& column) {
  return column == "step" || column == "epoch" || column == "wall_time_s";
}

}  // namespace

StepSeriesView::StepSeriesView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  series_ = new QComboBox;
  series_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  series_->setToolTip("A per-step value of every run (the log's /steps table)");
  log_y_ = new QCheckBox("log y");
  smoothing_ =
      make_smoothing_slider("EMA smoothing of every run's line (bias-corrected, as in Curves)");
  smoothing_label_ = new QLabel;
  plot_ = make_plot(this, "value");
  link_hover(plot_, studio_.step_range());
  auto* top = new QHBoxLayout;
  top->addWidget(series_);
  add_y_controls(top, log_y_, smoothing_, smoothing_label_);
  top->addStretch();
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addWidget(plot_, 1);
  connect(series_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(log_y_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(smoothing_, &QSlider::valueChanged, this, [this] { refresh(); });
  connect(&studio_.step_range(), &StepRange::changed, this, [this](double lo, double hi) {
    range_to(plot_, lo, hi);
    plot_->replot(QCustomPlot::rpQueuedReplot);
  });
}

// The codec's columns that some run holds, in the table's order, with their meaning.
void StepSeriesView::sync_series() {
  std::vector<std::pair<QString, QString>> items;
  for (const auto& c : logschema::steps().columns) {
    if (is_axis(c.name)) continue;
    for (const auto& m : studio_.runs())
      if (m->step_series().count(c.name)) {
        items.emplace_back(QString::fromUtf8(c.name), QString::fromUtf8(c.doc));
        break;
      }
  }
  bool same = static_cast<int>(items.size()) == series_->count();
  for (int i = 0; same && i < series_->count(); ++i)
    same = series_->itemText(i) == items[static_cast<size_t>(i)].first;
  if (same) return;
  const QString keep = series_->currentText();
  QSignalBlocker b(series_);
  series_->clear();
  for (const auto& [name, doc] : items) {
    series_->addItem(name);
    series_->setItemData(series_->count() - 1, doc, Qt::ToolTipRole);
  }
  // First shown: the gradient norm where the runs have it (the loss is in Curves already).
  int at = series_->findText(keep);
  if (at < 0) at = series_->findText("grad_norm");
  if (at < 0) at = series_->findText("loss");
  series_->setCurrentIndex(std::max(at, 0));
}

void StepSeriesView::refresh() {
  sync_series();
  smoothing_label_->setText(QString::number(smoothing_->value() / 100.0, 'f', 2));
  const std::string column = series_->currentText().toStdString();
  const double s = smoothing_->value() / 100.0;
  plot_->clearGraphs();
  set_log_y(plot_, log_y_->isChecked());
  plot_->yAxis->setLabel(series_->currentText().isEmpty() ? "value" : series_->currentText());
  if (series_->currentIndex() >= 0)
    series_->setToolTip(series_->currentData(Qt::ToolTipRole).toString());
  for (const auto& m : studio_.runs()) {
    const Trace& t = m->step_series(column);
    if (t.empty()) continue;
    auto* g = plot_->addGraph();
    g->setName(run_name(*m));
    g->setPen(QPen(run_color(*m), 1.5));
    thin_if_dense(g);
    if (s > 0) {
      const auto smooth = ema(t, s);
      set_graph(g, t, /*wall=*/false, &smooth);
    } else {
      set_graph(g, t, /*wall=*/false);
    }
    if (log_y_->isChecked()) name_if_zero(g, t);
  }
  set_note(plot_, has_data(plot_) || studio_.runs().empty()
                      ? QString()
                      : QString("no run holds “%1”").arg(series_->currentText()));
  const auto [lo, hi] = studio_.step_range().shown();
  range_to(plot_, lo, hi);
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace maw::ui
