// Modulation and Features: one line per group over the steps, with the group table.
#include "studio/views.h"

#include <qcustomplot.h>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QMouseEvent>
#include <QPainter>
#include <QShortcut>
#include <QSignalBlocker>
#include <QStyledItemDelegate>
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

namespace {
// A bar behind a factor's or a ratio's number, from the cell's middle (1×: as AdamW) to the
// right for more, to the left for less, on a log scale whose ends are the column's largest
// deviation (its header's Qt::UserRole, at least 2×): which groups got more at a glance.
class CentredBarDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* p, const QStyleOptionViewItem& o, const QModelIndex& i) const override {
    const double v = i.data(Qt::UserRole).toDouble();
    const double span = i.model()->headerData(i.column(), Qt::Horizontal, Qt::UserRole).toDouble();
    const auto [from, to] = centred_bar(v, span);
    if (to > from) {
      const QRectF r = QRectF(o.rect).adjusted(2, 3, -2, -3);
      p->fillRect(QRectF(r.left() + from * r.width(), r.top(), (to - from) * r.width(), r.height()),
                  v >= 1 ? QColor(46, 134, 193, 90) : QColor(192, 57, 43, 80));
      p->setPen(QColor(128, 128, 128, 140));
      p->drawLine(QPointF(r.center().x(), r.top()), QPointF(r.center().x(), r.bottom()));
    }
    QStyledItemDelegate::paint(p, o, i);
  }
};
}  // namespace

// ---- Modulation and features ----

GroupPlotView::GroupPlotView(Studio& studio, Kind kind, QWidget* parent)
    : QWidget(parent), studio_(studio), kind_(kind) {
  connect(&studio_.step_range(), &StepRange::changed, this, [this] { show_step_range(); });
  const bool modulation = kind == Kind::Modulation;
  run_ = new RunPicker(studio_);
  quantity_ = new QComboBox;
  quantity_->setSizeAdjustPolicy(QComboBox::AdjustToContents);  // features arrive with a run
  if (modulation)
    quantity_->addItems({"α — learning-rate factor", "β — weight-decay factor", "λ1", "λ2",
                         "effective learning rate (η·α)", "effective weight decay (λ·β)"});
  log_y_ = new QCheckBox("log y");
  smoothing_ = make_smoothing_slider(
      "EMA smoothing of every group's line (bias-corrected, as in Curves); 0: the raw values");
  smoothing_label_ = new QLabel;
  // Modulation's table names the groups in their lines' colours: no legend there.
  plot_ = make_plot(this, modulation ? "α" : "feature", /*legend_outside=*/!modulation);
  link_hover(plot_, studio_.step_range());
  if (modulation) {
    plot_->setToolTip(
        "Each group's colour: its name in the table. α and β (linear y): the axis always shows "
        "1, AdamW's step; dashed: the bounds of the design's range");
    QPen dashed(palette().text().color(), 1, Qt::DashLine);
    for (auto** line : {&bound_lo_, &bound_hi_}) {
      *line = new QCPItemStraightLine(plot_);
      (*line)->setPen(dashed);
      (*line)->setLayer("grid");  // under the groups' lines
      (*line)->setVisible(false);
    }
  }

  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(quantity_);
  auto* controls = modulation ? new QHBoxLayout : top;  // narrow dock: a second row
  add_y_controls(controls, log_y_, smoothing_, smoothing_label_);
  controls->addStretch();
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  if (!modulation) {
    v->addWidget(plot_, 1);
  } else {
    top->addStretch();
    v->addLayout(controls);

    summary_caption_ = new QLabel;
    summary_caption_->setWordWrap(true);
    summary_caption_->setTextFormat(Qt::RichText);
    summary_ = new QTableWidget(0, kColumns);
    // The answer first (group, ratio), then the means it comes from.
    summary_->setHorizontalHeaderLabels({"group", "η·α ÷ AdamW η", "α", "β", "η·α", "λ·β"});
    const char* tips[kColumns] = {
        "Parameter group, coloured as its line in the plot (sorting this column restores the "
        "groups' order, shallow to deep)",
        "Mean effective learning rate over the mean learning rate AdamW used at the same steps "
        "(an AdamW run of the same task open in the studio), else over this run's own η: "
        "> 1 means this group learned faster than with AdamW",
        "Mean learning-rate factor α over the snapshots in the range",
        "Mean weight-decay factor β over the snapshots in the range",
        "Mean effective learning rate η·α",
        "Mean effective weight decay λ·β"};
    for (int c = 0; c < kColumns; ++c) summary_->horizontalHeaderItem(c)->setToolTip(tips[c]);
    summary_->verticalHeader()->hide();
    summary_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 4);
    summary_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    summary_->setSelectionBehavior(QAbstractItemView::SelectRows);
    summary_->setAlternatingRowColors(true);
    summary_->setWordWrap(false);
    summary_->setTextElideMode(Qt::ElideMiddle);  // long module paths keep both ends
    auto* header = summary_->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setMaximumSectionSize(280);
    header->setStretchLastSection(true);
    header->setSortIndicator(kGroup, Qt::AscendingOrder);
    for (int c : {kLrRatio, kAlpha, kBeta})
      summary_->setItemDelegateForColumn(c, new CentredBarDelegate(summary_));
    for (int c : {kAlpha, kBeta}) {  // room for the bar beside the number
      header->setSectionResizeMode(c, QHeaderView::Fixed);
      header->resizeSection(c, fontMetrics().horizontalAdvance("0.00000") + 40);
    }
    summary_->setSortingEnabled(true);
    auto* table = new QWidget;
    auto* tv = new QVBoxLayout(table);
    tv->setContentsMargins(0, 0, 0, 0);
    tv->addWidget(summary_caption_);
    tv->addWidget(summary_, 1);
    split_ = new QSplitter(Qt::Vertical);
    split_->addWidget(plot_);
    split_->addWidget(table);
    split_->setStretchFactor(0, 3);
    split_->setStretchFactor(1, 2);
    split_->setSizes({300, 200});  // scaled to the dock's size when it is laid out
    split_->setChildrenCollapsible(false);
    table->setMinimumHeight(80);
    v->addWidget(split_, 1);
  }
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
  connect(quantity_, &QComboBox::currentIndexChanged, this, [this](int q) {
    if (kind_ == Kind::Modulation) {  // rates span decades, factors do not
      QSignalBlocker b(log_y_);
      log_y_->setChecked(q >= 4);
    }
    refresh();
  });
  connect(log_y_, &QCheckBox::toggled, this, [this] { refresh(); });
  connect(smoothing_, &QSlider::valueChanged, this, [this] { refresh(); });
}

void GroupPlotView::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  // The table beside the plot in a wide dock, below it in a tall one.
  if (split_)
    split_->setOrientation(width() > 900 && width() > 2 * height() ? Qt::Horizontal : Qt::Vertical);
}

void GroupPlotView::fit() {
  range_to(plot_, studio_.step_range().shown().first, studio_.step_range().shown().second);
  if (!bound_lo_) return;
  bound_lo_->setVisible(false);
  bound_hi_->setVisible(false);
  const int r = run_->run();
  const int q = quantity_->currentIndex();
  if (r < 0 || q > 1 || log_y_->isChecked() || plot_->graphCount() == 0) return;
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  // 1 in view: how far from AdamW's step a factor is reads from the axis, and a factor at
  // its bound is a flat line there, not motion in the 7th digit filling the plot.
  const QCPRange y = plot_->yAxis->range();
  if (!y.contains(1.0)) {
    const double lo = std::min(y.lower, 1.0), hi = std::max(y.upper, 1.0);
    plot_->yAxis->setRange(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo));
  }
  const double range = q == 0 ? m.info().alpha_range : m.info().beta_range;
  if (!(std::isfinite(range) && range > 0)) return;
  const QCPRange shown = plot_->yAxis->range();
  // A named array, not an initializer_list of make_pair temporaries (GCC 14 flags those
  // as -Wdangling-reference).
  const std::pair<QCPItemStraightLine*, double> bounds[] = {{bound_lo_, 1 - range / 2},
                                                            {bound_hi_, 1 + range / 2}};
  for (const auto& [line, at] : bounds) {
    line->point1->setCoords(0, at);
    line->point2->setCoords(1, at);
    line->setVisible(shown.contains(at));
  }
}

void GroupPlotView::show_step_range() {
  fit();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (summary_) {
    const int r = run_->run();
    if (r >= 0) fill_summary(*studio_.runs()[static_cast<size_t>(r)]);
  }
}

void GroupPlotView::refresh() {
  run_->sync(studio_);
  plot_->clearGraphs();
  const double smoothing = smoothing_->value() / 100.0;
  smoothing_label_->setText(QString::number(smoothing, 'f', 2));
  const int r = run_->run();
  if (r < 0) {  // no run (cleared): nothing of an earlier one stays
    plot_->clearGraphs();
    if (summary_) summary_->setRowCount(0);
    for (auto* line : {bound_lo_, bound_hi_})
      if (line) line->setVisible(false);
    plot_->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  if (kind_ == Kind::Features) {  // the feature list is the run's
    QStringList names;
    for (const auto& f : m.info().feature_names) names << QString::fromStdString(f);
    QStringList have;
    for (int i = 0; i < quantity_->count(); ++i) have << quantity_->itemText(i);
    if (names != have) {
      QSignalBlocker b(quantity_);
      const QString keep = quantity_->currentText();
      quantity_->clear();
      quantity_->addItems(names);
      quantity_->setCurrentIndex(std::max(0, quantity_->findText(keep)));
    }
  }
  const int q = quantity_->currentIndex();
  plot_->yAxis->setLabel(quantity_->currentText().section(" — ", 0, 0) +
                         (smoothing > 0 ? " (smoothed)" : ""));
  const auto& names = m.info().group_names;
  for (size_t g = 0; g < names.size(); ++g) {
    const Trace* t = nullptr;
    if (kind_ == Kind::Modulation) {
      // The quantity list: the factors in factor::Index's order, then η·α, λ·β.
      if (q < factor::count && g < m.factors.size())
        t = &m.factors[g][static_cast<size_t>(q)];
      else if (q == factor::count && g < m.effective_lr.size())
        t = &m.effective_lr[g];
      else if (q == factor::count + 1 && g < m.effective_wd.size())
        t = &m.effective_wd[g];
    } else if (q >= 0 && g < m.features.size() && static_cast<size_t>(q) < m.features[g].size()) {
      t = &m.features[g][static_cast<size_t>(q)];
    }
    if (!t) continue;
    auto* gr = plot_->addGraph();
    gr->setPen(QPen(group_color(static_cast<int>(g)), 1.5));
    gr->setName(QString::fromStdString(names[g]));
    if (smoothing > 0) {
      const auto smooth = ema(*t, smoothing);
      set_graph(gr, *t, false, &smooth);
    } else {
      set_graph(gr, *t, false);
    }
  }
  plot_->legend->setVisible(kind_ == Kind::Features && names.size() <= 16);
  if (!m.metaadamw()) {
    plot_->yAxis->setLabel("(no modulation: " + QString::fromStdString(m.info().optimizer) + ")");
  }
  set_log_y(plot_, log_y_->isChecked());
  fit();
  plot_->replot(QCustomPlot::rpQueuedReplot);
  if (summary_) fill_summary(m);
}

const RunModel* GroupPlotView::reference_run(const RunModel& m) const {
  const RunModel* best = nullptr;
  int best_score = -1;
  for (const auto& run : studio_.runs()) {
    const auto& i = run->info();
    if (run.get() == &m || (i.optimizer != "adamw" && i.optimizer != "torch_adamw") ||
        run->lr.empty() || i.task != m.info().task || i.preset != m.info().preset)
      continue;
    const int score = (i.seed == m.info().seed ? 2 : 0) + (i.optimizer == "adamw" ? 1 : 0);
    if (score > best_score) {
      best = run.get();
      best_score = score;
    }
  }
  return best;
}

void GroupPlotView::fill_summary(const RunModel& m) {
  const RunModel* ref = m.metaadamw() ? reference_run(m) : nullptr;
  const auto [lo, hi] = studio_.step_range().shown();
  const auto means = group_means(m, lo, hi, ref ? &ref->lr : nullptr);
  const auto& names = m.info().group_names;
  summary_->setSortingEnabled(false);  // filled in group order, sorted again below
  summary_->setRowCount(m.metaadamw() ? static_cast<int>(means.size()) : 0);
  summary_->horizontalHeaderItem(kLrRatio)->setText(ref ? "η·α ÷ AdamW η" : "η·α ÷ own η");
  for (int g = 0; g < summary_->rowCount(); ++g) {
    const auto& mean = means[static_cast<size_t>(g)];
    const QString name = g < static_cast<int>(names.size())
                             ? QString::fromStdString(names[static_cast<size_t>(g)])
                             : QString::number(g);
    auto* group = new NumberItem(name, g);  // sorts in the groups' order
    group->setForeground(group_color(g));
    group->setToolTip(name);
    summary_->setItem(g, kGroup, group);
    const std::pair<Column, QString> cells[] = {
        {kAlpha, format_number(mean.alpha, 'f', 4)},
        {kBeta, format_number(mean.beta, 'f', 4)},
        {kEffectiveLr, format_number(mean.effective_lr, 'e', 3)},
        {kEffectiveWd, format_number(mean.effective_wd, 'e', 3)},
        {kLrRatio, std::isfinite(mean.lr_ratio) ? QString::number(mean.lr_ratio, 'f', 3) + "×"
                                                : QString("–")}};
    const double keys[] = {mean.alpha, mean.beta, mean.effective_lr, mean.effective_wd,
                           mean.lr_ratio};
    for (size_t c = 0; c < std::size(cells); ++c) {
      auto* item = new NumberItem(cells[c].second, keys[c]);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      summary_->setItem(g, cells[c].first, item);
    }
  }
  // The bars' scale: each column's largest deviation from 1× (log), at least 2×.
  for (int c : {kLrRatio, kAlpha, kBeta}) {
    double span = std::log(2.0);
    for (int g = 0; g < summary_->rowCount(); ++g) {
      const double v = summary_->item(g, c)->data(Qt::UserRole).toDouble();
      if (std::isfinite(v) && v > 0) span = std::max(span, std::abs(std::log(v)));
    }
    summary_->horizontalHeaderItem(c)->setData(Qt::UserRole, span);
  }
  summary_->setSortingEnabled(true);

  if (!m.metaadamw()) {
    summary_caption_->setText(
        "No per-group factors: " + QString::fromStdString(m.info().optimizer) +
        " runs are not modulated.");
    return;
  }
  const size_t snapshots = means.empty() ? 0 : means.front().snapshots;
  const QString range = hi > lo
                            ? QString("steps %1–%2")
                                  .arg(QLocale().toString(static_cast<qlonglong>(std::ceil(lo))),
                                       QLocale().toString(static_cast<qlonglong>(std::floor(hi))))
                            : QString("the whole run");
  QString text = design_text(m) + QString(" · means over %1 (%2 snapshot%3) · ratio to ")
                                      .arg(range)
                                      .arg(snapshots)
                                      .arg(snapshots == 1 ? "" : "s");
  text += ref ? "AdamW's η (" + QString::fromStdString(ref->label()) + ")"
              : QString("this run's own η");
  summary_caption_->setToolTip(
      ref ? QString()
          : QString("No AdamW run of this task and preset is open: open or start one to compare "
                    "the effective learning rates with AdamW's"));
  summary_caption_->setText(text + ".");
}

}  // namespace maw::ui
