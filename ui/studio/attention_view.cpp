// Attention: the modulator's G×G maps per layer and head (or all heads of a layer), with a
// step scrubber, play/pause and a step entry.
#include "studio/views.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMouseEvent>
#include <QShortcut>
#include <QSignalBlocker>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
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
  all_heads_ = new QCheckBox("all heads");
  all_heads_->setToolTip("Every head of the layer side by side, on one colour scale");
  step_ = new QSlider(Qt::Horizontal);
  step_->setMinimumWidth(100);
  step_->setToolTip("The held maps in step order (the selected step range's only)");
  play_ = new QToolButton;
  play_->setCheckable(true);
  play_->setText("▶");
  play_->setToolTip("Play the maps in step order from here (again: pause)");
  player_ = new QTimer(this);
  player_->setInterval(300);
  step_entry_ = new QSpinBox;
  step_entry_->setPrefix("step ");
  step_entry_->setKeyboardTracking(false);  // a typed step counts once entered
  step_entry_->setToolTip("Go to the map nearest to this step");
  follow_ = new QCheckBox("follow live");
  follow_->setChecked(true);
  fixed_scale_ = new QCheckBox("one scale");
  fixed_scale_->setChecked(true);
  fixed_scale_->setToolTip(
      "One colour scale for every map of this run (its largest weight in any held map, layer "
      "and head), so two steps compare; off: the shown maps scaled to their own largest weight");
  step_label_ = new QLabel("no attention maps yet");
  plot_ = new QCustomPlot(this);
  plot_->setMinimumSize(220, 170);
  plot_->setBackground(plot_->palette().base());
  plot_->setMouseTracking(true);
  plot_->installEventFilter(this);
  layout_maps(1, 1);
  auto* top = new QHBoxLayout;
  top->addWidget(layer_);
  top->addWidget(head_);
  top->addWidget(all_heads_);
  top->addWidget(fixed_scale_);
  top->addWidget(follow_);
  top->addStretch();
  auto* mid = new QHBoxLayout;
  mid->addWidget(play_);
  mid->addWidget(step_, 1);
  mid->addWidget(step_entry_);
  mid->addWidget(step_label_);
  auto* v = new QVBoxLayout(this);
  v->addWidget(run_);  // a row of its own: the run's whole name (the controls fill theirs)
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
  connect(step_entry_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int step) {
    const int r = run_->run();
    if (r < 0) return;
    const auto& maps = studio_.runs()[static_cast<size_t>(r)]->attention;
    const auto [first, last] = reachable(maps);
    follow_->setChecked(false);
    step_->setValue(std::clamp(static_cast<int>(maps.nearest(step)), first, last));
    refresh();  // the entry shows the step of the map it went to
  });
  connect(play_, &QToolButton::toggled, this, [this](bool on) {
    play_->setText(on ? "⏸" : "▶");
    if (!on) {
      player_->stop();
      return;
    }
    follow_->setChecked(false);
    if (step_->value() >= step_->maximum()) step_->setValue(step_->minimum());  // again
    player_->start();
  });
  connect(player_, &QTimer::timeout, this, &AttentionView::advance);
  connect(follow_, &QCheckBox::toggled, this, [this](bool on) {
    if (on) play_->setChecked(false);
    refresh();
  });
  for (auto* c : {fixed_scale_, all_heads_})
    connect(c, &QCheckBox::toggled, this, [this] { refresh(); });
}

int AttentionView::map_size() const {
  return shown_groups_;
}

double AttentionView::color_max() const {
  return scale_ ? scale_->dataRange().upper : 0.0;
}

int64_t AttentionView::shown_step() const {
  const int r = run_->run();
  if (r < 0 || shown_groups_ == 0) return -1;
  const auto& steps = studio_.runs()[static_cast<size_t>(r)]->attention.steps();
  const auto i = static_cast<size_t>(step_->value());
  return i < steps.size() ? steps[i] : -1;
}

void AttentionView::advance() {
  if (step_->value() >= step_->maximum()) {
    play_->setChecked(false);  // the last map: stop there
    return;
  }
  step_->setValue(step_->value() + 1);
}

// `count` maps (axis rects) on a grid of `columns`, sharing one colour scale on the right;
// rebuilt only when the count or the grid changes.
void AttentionView::layout_maps(int count, int columns) {
  if (static_cast<int>(maps_.size()) == count && plot_->property("columns").toInt() == columns)
    return;
  plot_->setProperty("columns", columns);
  plot_->clearPlottables();      // the maps, before their axes go
  plot_->plotLayout()->clear();  // the axis rects and the colour scale
  maps_.clear();
  auto* grid = new QCPLayoutGrid;
  plot_->plotLayout()->addElement(0, 0, grid);
  scale_ = new QCPColorScale(plot_);
  plot_->plotLayout()->addElement(0, 1, scale_);
  plot_->plotLayout()->setColumnStretchFactor(1, 0.01);
  scale_->setLabel("attention weight");
  scale_->setGradient(QCPColorGradient::gpThermal);
  follow_palette(plot_->palette(), {scale_->axis()});
  auto* margins = new QCPMarginGroup(plot_);
  for (int i = 0; i < count; ++i) {
    auto* rect = new QCPAxisRect(plot_);
    grid->addElement(i / columns, i % columns, rect);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight | QCP::msTop | QCP::msBottom, margins);
    auto* x = rect->axis(QCPAxis::atBottom);
    auto* y = rect->axis(QCPAxis::atLeft);
    y->setRangeReversed(true);  // query group 0 at the top, like a matrix
    follow_palette(plot_->palette(), {x, y});
    for (auto* a : {x, y}) {
      // Group indices (integers, as many as fit); the mouse over a cell names the groups.
      auto ticker = QSharedPointer<QCPAxisTickerFixed>(new QCPAxisTickerFixed);
      ticker->setTickStep(1.0);
      ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
      a->setTicker(ticker);
      a->setSubTicks(false);
    }
    auto* map = new QCPColorMap(x, y);
    map->setColorScale(scale_);
    map->setGradient(QCPColorGradient::gpThermal);
    map->setInterpolate(false);
    maps_.push_back(map);
  }
  scale_->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
  shown_groups_ = 0;
}

QString AttentionView::cell_text(const QPoint& pos) const {
  const int G = shown_groups_;
  for (size_t i = 0; i < maps_.size() && G > 0; ++i) {
    const QCPColorMap* map = maps_[i];
    if (!map->keyAxis()->axisRect()->rect().contains(pos)) continue;
    const int k = static_cast<int>(std::lround(map->keyAxis()->pixelToCoord(pos.x())));
    const int q = static_cast<int>(std::lround(map->valueAxis()->pixelToCoord(pos.y())));
    if (k < 0 || q < 0 || k >= G || q >= G) return {};
    auto name = [this](int g) { return g < names_.size() ? names_[g] : QString(); };
    return QString("query %1 %2\n→ key %3 %4\nweight %5 (layer %6, head %7, step %8)")
        .arg(q)
        .arg(name(q))
        .arg(k)
        .arg(name(k))
        .arg(map->data()->cell(k, q), 0, 'g', 4)
        .arg(shown_layer_)
        .arg(map_heads_[i])
        .arg(shown_step());
  }
  return {};
}

bool AttentionView::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::MouseMove) {
    const auto* e = static_cast<QMouseEvent*>(event);
    const QString text = cell_text(e->pos());
    if (text.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(e->globalPosition().toPoint(), text, plot_);
  }
  return QWidget::eventFilter(watched, event);
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
  auto show_nothing = [this](const QString& why) {  // no heatmap of an earlier run stays
    step_label_->setText(why);
    for (auto* map : maps_) map->data()->clear();
    shown_groups_ = 0;
    play_->setChecked(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
  };
  if (r < 0) return show_nothing("no run");
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  const auto& maps = m.attention;
  {
    QSignalBlocker b1(layer_), b2(head_), b3(step_), b4(step_entry_);
    // "of N": a layer or head beyond the run's is not silently kept at 0.
    layer_->setRange(0, std::max<int>(0, static_cast<int>(maps.layers()) - 1));
    head_->setRange(0, std::max<int>(0, static_cast<int>(maps.heads()) - 1));
    layer_->setSuffix(QString(" of %1").arg(std::max<int64_t>(1, maps.layers())));
    head_->setSuffix(QString(" of %1").arg(std::max<int64_t>(1, maps.heads())));
    const auto [first, last] = reachable(maps);
    step_->setRange(first, last);
    if (follow_->isChecked()) step_->setValue(step_->maximum());
    if (maps.size() > 0) {
      step_entry_->setRange(static_cast<int>(maps.steps()[static_cast<size_t>(first)]),
                            static_cast<int>(maps.steps()[static_cast<size_t>(last)]));
      step_entry_->setValue(static_cast<int>(maps.steps()[static_cast<size_t>(step_->value())]));
    }
  }
  head_->setEnabled(!all_heads_->isChecked());
  std::vector<int> heads;
  if (all_heads_->isChecked())
    for (int h = 0; h < std::max<int64_t>(1, maps.heads()); ++h) heads.push_back(h);
  else
    heads.push_back(head_->value());
  const int n = static_cast<int>(heads.size());
  layout_maps(n, static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n)))));
  map_heads_ = heads;
  const auto G = static_cast<int>(maps.groups());
  const auto index = static_cast<size_t>(step_->value());
  std::vector<std::vector<float>> data;
  for (int h : heads) data.push_back(maps.map(index, layer_->value(), h));
  if (G == 0 || std::any_of(data.begin(), data.end(), [](const auto& d) { return d.empty(); }))
    return show_nothing(m.metaadamw() ? "no attention maps yet (attention_every)"
                                      : "no attention: not a MetaAdamW run");
  const bool in_range = studio_.step_range().shown().second > studio_.step_range().shown().first;
  step_label_->setText(QString("%1 of %2 maps held%3")
                           .arg(step_->value() + 1)
                           .arg(maps.size())
                           .arg(in_range ? QString("; %1 in the selected range")
                                               .arg(step_->maximum() - step_->minimum() + 1)
                                         : QString()));
  float hi = 0.0f;
  for (int i = 0; i < n; ++i) {
    auto* cells = maps_[static_cast<size_t>(i)]->data();
    cells->setSize(G, G);
    cells->setRange(QCPRange(0, G - 1), QCPRange(0, G - 1));
    for (int q = 0; q < G; ++q)
      for (int k = 0; k < G; ++k) {
        const float v = data[static_cast<size_t>(i)][static_cast<size_t>(q * G + k)];
        cells->setCell(k, q, v);
        hi = std::max(hi, v);
      }
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
  scale_->setDataRange(QCPRange(0, std::max(1e-6f, hi)));
  names_.clear();
  for (const auto& g : m.info().group_names) names_ << QString::fromStdString(g);
  const int columns = plot_->property("columns").toInt();
  for (int i = 0; i < n; ++i) {
    auto* map = maps_[static_cast<size_t>(i)];
    map->setProperty("names", names_);  // the CSV export's row and column labels
    map->setProperty("title", QString("layer %1 head %2").arg(layer_->value()).arg(heads[i]));
    auto* x = map->keyAxis();
    auto* y = map->valueAxis();
    x->setLabel(n > 1 ? QString("head %1 · key").arg(heads[i])
                      : QString("key group (attended to)"));
    y->setLabel(n > 1 ? (i % columns == 0 ? QString("query") : QString()) : QString("query group"));
    QFont f = x->tickLabelFont();
    f.setPointSizeF(n > 1 ? 7 : 8);
    x->setTickLabelFont(f);
    y->setTickLabelFont(f);
    x->setRange(-0.5, G - 0.5);
    y->setRange(-0.5, G - 0.5);
  }
  shown_groups_ = G;
  shown_layer_ = layer_->value();
  plot_->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace maw::ui
