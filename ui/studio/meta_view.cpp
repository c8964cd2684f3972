// Meta: the meta-objective's terms, HUW weights and the meta-gradient diagnostics.
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

// ---- Meta ----

MetaView::MetaView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  connect(&studio_.step_range(), &StepRange::changed, this, [this] { fit(); });
  run_ = new RunPicker(studio_);
  summary_ = new QLabel;
  summary_->setTextFormat(Qt::RichText);
  // Page 1: the meta-objective. Page 2: how the meta-learning goes.
  // Three plots side by side in a low dock: legends beside the plots, not over the points.
  terms_ = make_plot(this, "terms", /*legend_outside=*/true);
  weights_ = make_plot(this, "HUW weight w", /*legend_outside=*/true);
  log_vars_ = make_plot(this, "HUW log-variance s", /*legend_outside=*/true);
  grad_norm_ = make_plot(this, "L2 norm", /*legend_outside=*/true);
  rel_change_ = make_plot(this, "‖Δθ‖ / ‖θ‖", /*legend_outside=*/true);
  at_bound_ = make_plot(this, "fraction at a bound", /*legend_outside=*/true);
  for (auto* p : {terms_, weights_, log_vars_, grad_norm_, rel_change_, at_bound_})
    link_hover(p, studio_.step_range());
  add_title(grad_norm_, "meta-gradient norm per block of meta-parameters");
  add_title(rel_change_, "relative change of the modulator per meta-update");
  add_title(at_bound_, "fraction of groups within 1e-3 of a bound: 1 = saturated");
  for (auto* p : {grad_norm_, rel_change_}) set_log_y(p, true);
  // The modulator's line is drawn over its parts' (the encoder's often equals it).
  rel_change_->addLayer("front", rel_change_->layer("main"), QCustomPlot::limAbove);
  grad_norm_->setToolTip(
      "L2 norm of the meta-gradient for each block of meta-parameters (encoder, the heads of "
      "α, β, λ1, λ2, the feature gates, the per-group parameters, HUW's s), before the "
      "meta-optimizer's step. Blocks the run does not have are not drawn.");
  rel_change_->setToolTip(
      "‖θ after − θ before‖ / ‖θ before‖ of the modulator's parameters at each meta-update: all "
      "of them, the encoder, the head. Near 0: the modulator no longer moves.");
  at_bound_->setToolTip(
      "Fraction of the groups whose α, β, λ1 or λ2 lies within 1e-3 of a bound of its range, as "
      "the meta-update's forward computed it. 1: every group saturated (the factor is stuck at "
      "its limit and its gradient vanishes).");
  auto row = [](std::initializer_list<QCustomPlot*> plots) {
    auto* page = new QWidget;
    auto* h = new QHBoxLayout(page);
    h->setContentsMargins(0, 4, 0, 0);
    for (auto* p : plots) h->addWidget(p, 1);
    return page;
  };
  pages_ = new QTabWidget;
  pages_->setDocumentMode(true);
  pages_->addTab(row({terms_, weights_, log_vars_}), "Meta-objective");
  pages_->addTab(row({grad_norm_, rel_change_, at_bound_}),
                 "Diagnostics: gradient, change, saturation");
  pages_->setTabToolTip(0, "The meta-objective's terms and their uncertainty weighting (HUW)");
  pages_->setTabToolTip(1,
                        "Is the meta-learning working? The meta-gradient per block, how much "
                        "the modulator moves, and whether its factors are stuck at a bound");
  auto* top = new QHBoxLayout;
  top->addWidget(run_);
  top->addWidget(summary_, 1);
  auto* v = new QVBoxLayout(this);
  v->addLayout(top);
  v->addWidget(pages_, 1);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] { refresh(); });
}

void MetaView::fit() {
  const auto [lo, hi] = studio_.step_range().shown();
  for (auto* p : {terms_, weights_, log_vars_, grad_norm_, rel_change_, at_bound_}) {
    range_to(p, lo, hi);
    if (p == at_bound_) p->yAxis->setRange(-0.03, 1.03);  // a fraction: always 0 … 1
    p->replot(QCustomPlot::rpQueuedReplot);
  }
}

void MetaView::refresh() {
  run_->sync(studio_);
  for (auto* p : {terms_, weights_, log_vars_, grad_norm_, rel_change_, at_bound_})
    p->clearGraphs();
  const int r = run_->run();
  const RunModel* run = r >= 0 ? studio_.runs()[static_cast<size_t>(r)].get() : nullptr;
  if (run) {
    const RunModel& m = *run;
    auto add = [](QCustomPlot* p, const Trace& t, const QString& name, int colour,
                  double width = 1.5) {
      auto* g = p->addGraph();
      g->setPen(QPen(group_color(colour), width));
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
      g->setName(name);
      set_graph(g, t, false);
      if (g->dataCount() == 0) g->removeFromLegend();
      return g;
    };
    const std::pair<const Trace*, const char*> terms[] = {{&m.l_grad, "L_grad"},
                                                          {&m.l_dec, "L_dec"},
                                                          {&m.l_gap, "L_gap"},
                                                          {&m.meta_total, "total (regularized)"}};
    int k = 0;
    for (const auto& [t, name] : terms) add(terms_, *t, name, k++);
    const char* term[] = {"L_grad", "L_dec", "L_gap"};  // kMetaTerms, as printed
    for (size_t i = 0; i < std::size(kMetaTerms); ++i) {
      const int c = static_cast<int>(i);
      add(weights_, m.huw_weights[i], QString("w(%1)").arg(term[i]), c);
      add(log_vars_, m.huw_s[i], QString("s(%1)").arg(term[i]), c);
    }
    // Diagnostics: one line per block / part / factor the run has (NaN: absent).
    for (size_t b = 0; b < m.grad_norm.size(); ++b) {
      const Trace& t = m.grad_norm[b];
      auto* g = add(grad_norm_, t, kMetaGradBlocks[b], static_cast<int>(b));
      if (g->dataCount() == 0)
        grad_norm_->removeGraph(g);
      else
        name_if_zero(g, t);
    }
    for (size_t p = 0; p < m.rel_change.size(); ++p) {
      auto* g = add(rel_change_, m.rel_change[p], kMetaChangeParts[p], static_cast<int>(p),
                    p ? 1.2 : 2.0);
      if (p == 0) g->setLayer("front");
      name_if_zero(g, m.rel_change[p]);
    }
    // Fractions often coincide (all at a bound, or none): each factor's line and points are
    // narrower than the one before, drawn over it, so every factor stays visible.
    for (size_t f = 0; f < m.at_bound.size(); ++f) {
      const auto n = static_cast<double>(f);
      auto* g =
          add(at_bound_, m.at_bound[f], factor::kSymbols[f], static_cast<int>(f), 4.0 - 0.9 * n);
      g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 10.0 - 2.0 * n));
    }

    double ms = 0;
    for (double v : m.meta_ms.values()) ms += v;
    const auto n = m.meta_ms.appended();
    QString text = n ? QString("%1 meta-updates, mean %2 ms each")
                           .arg(n)
                           .arg(ms / static_cast<double>(m.meta_ms.size()), 0, 'f', 1)
                     : QString(m.metaadamw() ? "no meta-update yet (meta_update_freq)"
                                             : "not a MetaAdamW run");
    if (m.metaadamw()) text += " · " + design_text(m);
    summary_->setText(text);
  }
  // Say why a diagnostics plot is empty.
  const bool meta_updates = run && run->meta_ms.appended() > 0;
  const QString absent = !run || !run->metaadamw() ? QString()
                         : !meta_updates           ? QString("no meta-update yet")
                                         : QString("not in this log (written before schema v2)");
  for (auto* p : {grad_norm_, rel_change_, at_bound_})
    set_note(p, has_data(p) ? QString() : absent);
  fit();
}

}  // namespace maw::ui
