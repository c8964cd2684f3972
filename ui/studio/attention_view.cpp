// Attention: the modulator's G×G maps per layer and head, with a step scrubber.
#include "studio/views.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMouseEvent>
#include <QShortcut>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iterator>
#include <map>
#include <tuple>

#include "api/run_log_reader.h"
#include "model/run_model.h"
#include "model/trace.h"
#include "studio/studio.h"

namespace maw::ui {

// ---- Attention ----

AttentionView::AttentionView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  connect(&studio_.step_range(), &StepRange::changed, this, [this] { refresh(); });
  run_ = new RunPicker(studio_);
  layer_ = new QSpinBox;
  head_ = new QSpinBox;
  layer_->setPrefix("layer ");
  head_->setPrefix("head ");
  step_ = new QSlider(Qt::Horizontal);
  step_->setMinimumWidth(120);
  follow_ = new QCheckBox("follow live");
  follow_->setChecked(true);
  fixed_scale_ = new QCheckBox("one scale");
  fixed_scale_->setChecked(true);
  fixed_scale_->setToolTip(
      "One colour scale for every map of this run (its largest weight in any held map, layer "
      "and head), so two steps compare; off: each map scaled to its own largest weight");
  step_label_ = new QLabel("no attention maps yet");
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(220, 170);
  map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
  scale_ = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, scale_);
  scale_->setLabel("attention weight");
  map_->setColorScale(scale_);
  map_->setGradient(QCPColorGradient::gpThermal);
  map_->setInterpolate(false);
  plot_->yAxis->setRangeReversed(true);  // query group 0 at the top, like a matrix
  plot_->xAxis->setLabel("key group (attended to)");
  plot_->yAxis->setLabel("query group");
  plot_->setBackground(plot_->palette().base());
  follow_palette(plot_->palette(), {plot_->xAxis, plot_->yAxis, scale_->axis()});
  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(layer_);
  top->addWidget(head_);
  top->addWidget(follow_);
  top->addWidget(fixed_scale_);
  top->addStretch();
  auto* mid = new QHBoxLayout;
  mid->addWidget(step_, 1);
  mid->addWidget(step_label_);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addLayout(mid);
  v->addWidget(plot_, 1);
  for (auto* s : {layer_, head_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, [this] { refresh(); });
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(step_, &QSlider::sliderMoved, this, [this] {
    follow_->setChecked(false);
    refresh();
  });
  connect(step_, &QSlider::valueChanged, this, [this] { refresh(); });
  connect(follow_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(fixed_scale_, &QCheckBox::toggled, this, [this] { refresh(); });
}

int AttentionView::map_size() const {
  return shown_groups_;
}

double AttentionView::color_max() const {
  return map_->dataRange().upper;
}

int64_t AttentionView::shown_step() const {
  const int r = run_->run();
  if (r < 0 || shown_groups_ == 0) return -1;
  const auto& steps = studio_.runs()[static_cast<size_t>(r)]->attention.steps();
  const auto i = static_cast<size_t>(step_->value());
  return i < steps.size() ? steps[i] : -1;
}

// The maps the scrubber reaches: all, or those inside the selected step range (the nearest
// one when none falls inside).
std::pair<int, int> AttentionView::reachable(const AttentionMaps& maps) const {
  const int n = static_cast<int>(maps.size());
  const auto [lo, hi] = studio_.step_range().shown();
  if (n == 0 || hi <= lo) return {0, std::max(0, n - 1)};
  const auto& steps = maps.steps();
  int first = -1, last = -1;
  for (int i = 0; i < n; ++i)
    if (steps[static_cast<size_t>(i)] >= lo && steps[static_cast<size_t>(i)] <= hi) {
      if (first < 0) first = i;
      last = i;
    }
  if (first < 0) {
    const auto i = static_cast<int>(maps.nearest(static_cast<int64_t>(0.5 * (lo + hi))));
    return {std::max(0, i), std::max(0, i)};
  }
  return {first, last};
}

void AttentionView::refresh() {
  run_->sync(studio_);
  const int r = run_->run();
  if (r < 0) {  // no run (cleared): no heatmap of an earlier one stays
    step_label_->setText("no run");
    map_->data()->clear();
    shown_groups_ = 0;
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  const auto& maps = m.attention;
  {
    QSignalBlocker b1(layer_), b2(head_), b3(step_);
    // "of N": a layer or head beyond the run's is not silently kept at 0.
    layer_->setRange(0, std::max<int>(0, static_cast<int>(maps.layers()) - 1));
    head_->setRange(0, std::max<int>(0, static_cast<int>(maps.heads()) - 1));
    layer_->setSuffix(QString(" of %1").arg(std::max<int64_t>(1, maps.layers())));
    head_->setSuffix(QString(" of %1").arg(std::max<int64_t>(1, maps.heads())));
    const auto [first, last] = reachable(maps);
    step_->setRange(first, last);
    if (follow_->isChecked()) step_->setValue(step_->maximum());
  }
  const auto G = static_cast<int>(maps.groups());
  const auto data = maps.map(static_cast<size_t>(step_->value()), layer_->value(), head_->value());
  if (data.empty() || G == 0) {
    step_label_->setText(m.metaadamw() ? "no attention maps yet (attention_every)"
                                       : "no attention: not a MetaAdamW run");
    map_->data()->clear();
    shown_groups_ = 0;
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const bool in_range = studio_.step_range().shown().second > studio_.step_range().shown().first;
  step_label_->setText(QString("step %1  (%2 of %3 maps held%4)")
                           .arg(maps.steps()[static_cast<size_t>(step_->value())])
                           .arg(step_->value() + 1)
                           .arg(maps.size())
                           .arg(in_range ? QString("; %1 in the selected range")
                                               .arg(step_->maximum() - step_->minimum() + 1)
                                         : QString()));
  map_->data()->setSize(G, G);
  map_->data()->setRange(QCPRange(0, G - 1), QCPRange(0, G - 1));
  float hi = 0.0f;
  for (int q = 0; q < G; ++q)
    for (int k = 0; k < G; ++k) {
      const float v = data[static_cast<size_t>(q * G + k)];
      map_->data()->setCell(k, q, v);
      hi = std::max(hi, v);
    }
  if (fixed_scale_->isChecked()) {  // the run's largest weight in any map seen (new ones only)
    if (scale_id_ != m.id() || scale_seen_ > maps.size()) {
      scale_id_ = m.id();
      scale_seen_ = 0;
      scale_hi_ = 0.0f;
    }
    for (; scale_seen_ < maps.size(); ++scale_seen_)
      for (int64_t l = 0; l < maps.layers(); ++l)
        for (int64_t h = 0; h < maps.heads(); ++h)
          for (float v : maps.map(scale_seen_, l, h)) scale_hi_ = std::max(scale_hi_, v);
    hi = std::max(hi, scale_hi_);
  }
  map_->setDataRange(QCPRange(0, std::max(1e-6f, hi)));
  if (shown_groups_ != G) {
    // Group names on both axes (shortened; the Groups panel has the full names).
    auto ticker_x = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    auto ticker_y = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const auto& names = m.info().group_names;
    for (int g = 0; g < G; ++g) {
      QString n = g < static_cast<int>(names.size())
                      ? QString::fromStdString(names[static_cast<size_t>(g)])
                      : QString::number(g);
      if (n.size() > 22) n = n.left(10) + "…" + n.right(10);
      ticker_x->addTick(g, n);
      ticker_y->addTick(g, n);
    }
    plot_->xAxis->setTicker(ticker_x);
    plot_->yAxis->setTicker(ticker_y);
    plot_->xAxis->setTickLabelRotation(60);
    QFont f = plot_->xAxis->tickLabelFont();
    f.setPointSizeF(G > 24 ? 6.5 : 8);
    plot_->xAxis->setTickLabelFont(f);
    plot_->yAxis->setTickLabelFont(f);
    plot_->xAxis->setRange(-0.5, G - 0.5);
    plot_->yAxis->setRange(-0.5, G - 0.5);
    shown_groups_ = G;
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace maw::ui
