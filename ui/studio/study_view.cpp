// Study: the statistics a study's JSON holds, as a table (views.h).
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QVBoxLayout>
#include <cmath>

#include "studio/plot_kit.h"
#include "studio/views.h"

namespace maw::ui {

namespace {

QString num(double v) {
  return format_number(v, 'g', 4);
}

QString mean_sd(const QJsonObject& stats) {
  if (stats.isEmpty()) return "–";
  return num(stats["mean"].toDouble(NAN)) + " ± " + num(stats["std"].toDouble(NAN));
}

// One row per comparison block (compare_study() in app/cli: baseline, candidate, their
// per-metric statistics, the tests on the primary metric).
void add_row(QTableWidget* t, const QString& label, const QJsonObject& c) {
  const QString base = c["baseline"].toString(), cand = c["candidate"].toString();
  const QString primary = c["primary"].toString("best");
  const bool higher = c["higher_is_better"].toBool(true);
  const QJsonObject b = c[base].toObject(), k = c[cand].toObject();
  const QJsonObject effect = c["effect"].toObject();
  const QJsonArray ci = effect["ci95"].toArray();
  const double diff =
      c[primary == "final" ? "mean_diff" : "mean_diff_best"].toDouble(c["mean_diff"].toDouble(NAN));
  const QJsonObject tt = c["time_to_target"].toObject();
  auto reached = [&tt](const QString& who) {
    const QJsonObject o = tt[who].toObject();
    if (o.isEmpty()) return QString("–");
    const double steps = o["steps_mean"].toDouble(NAN);
    return QString("%1/%2").arg(o["reached"].toInt()).arg(o["of"].toInt()) +
           (std::isfinite(steps) ? QString(" at %1").arg(std::lround(steps)) : QString());
  };
  const int row = t->rowCount();
  t->insertRow(row);
  auto set = [&](int col, QTableWidgetItem* item) {
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    t->setItem(row, col, item);
  };
  auto number = [&](int col, const QString& text, double key) {
    set(col, new NumberItem(text, key));
  };
  set(StudyView::kComparison, new QTableWidgetItem(label + ": " + base + " → " + cand));
  t->item(row, StudyView::kComparison)
      ->setToolTip(QString("%1 / %2, seeds %3")
                       .arg(c["task"].toString(), c["preset"].toString())
                       .arg(c["seeds"].toArray().size()));
  set(StudyView::kMetric,
      new QTableWidgetItem(primary + " " + c["metric"].toString() + (higher ? " (↑)" : " (↓)")));
  number(StudyView::kSeeds, QString::number(c["seeds"].toArray().size()),
         c["seeds"].toArray().size());
  number(StudyView::kBaseline, mean_sd(b[primary].toObject()),
         b[primary].toObject()["mean"].toDouble(NAN));
  number(StudyView::kCandidate, mean_sd(k[primary].toObject()),
         k[primary].toObject()["mean"].toDouble(NAN));
  number(StudyView::kDifference,
         num(diff) + (ci.size() == 2
                          ? " [" + num(ci[0].toDouble(NAN)) + ", " + num(ci[1].toDouble(NAN)) + "]"
                          : QString()),
         diff);
  const double p = c["p_value"].toDouble(NAN);
  const double pw = c["wilcoxon"].toObject()["p_value"].toDouble(NAN);
  number(StudyView::kPT, num(p), p);
  number(StudyView::kPWilcoxon, num(pw), pw);
  set(StudyView::kToTarget, new QTableWidgetItem(reached(base) + " / " + reached(cand)));
  t->item(row, StudyView::kToTarget)
      ->setToolTip(tt["definition"].toString() +
                   QString(" (target %1)").arg(num(tt["target"].toDouble(NAN))));
  const double ratio = c["time_ratio"].toDouble(NAN);
  number(StudyView::kTimeRatio, num(ratio), ratio);
  // A p below 0.05 in bold (uncorrected: Holm across tasks is `metaadamw report`'s).
  if (p < 0.05) {
    QFont f = t->item(row, StudyView::kPT)->font();
    f.setBold(true);
    t->item(row, StudyView::kPT)->setFont(f);
  }
}

QJsonObject read_json(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = path + ": " + f.errorString();
    return {};
  }
  QJsonParseError pe;
  const auto doc = QJsonDocument::fromJson(f.readAll(), &pe);
  if (!doc.isObject()) {
    if (error) *error = path + ": not a study's JSON (" + pe.errorString() + ")";
    return {};
  }
  return doc.object();
}

}  // namespace

StudyView::StudyView(QWidget* parent) : QWidget(parent) {
  caption_ = new QLabel("Open a study's folder (File › Open study folder) to see its statistics.");
  caption_->setWordWrap(true);
  table_ = new QTableWidget(0, kColumns);
  table_->setHorizontalHeaderLabels({"comparison", "metric", "seeds", "baseline", "candidate",
                                     "difference [95% CI]", "p (t-test)", "p (Wilcoxon)",
                                     "to target: reached at step", "time ratio"});
  table_->horizontalHeaderItem(kDifference)
      ->setToolTip("candidate − baseline, mean over the paired seeds; its 95% CI (t)");
  table_->horizontalHeaderItem(kTimeRatio)->setToolTip("wall time, candidate ÷ baseline");
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->verticalHeader()->setVisible(false);
  table_->setSortingEnabled(true);
  auto* v = new QVBoxLayout(this);
  v->addWidget(caption_);
  v->addWidget(table_, 1);
}

bool StudyView::add_folder(const QString& folder, QString* error) {
  const QDir dir(folder);
  const QString protocol = dir.filePath("protocol.json"), study = dir.filePath("study.json");
  QString why;
  table_->setSortingEnabled(false);  // rows filled in place
  int added = 0;
  if (QFileInfo::exists(protocol)) {
    const QJsonObject p = read_json(protocol, &why);
    if (p["schema"].toString() == "metaadamw-protocol") {
      if (p.contains("compare")) {
        add_row(table_, "tuned", p["compare"].toObject());
        ++added;
      }
      const QJsonObject variants = p["variants"].toObject();
      for (auto it = variants.begin(); it != variants.end(); ++it)
        for (const auto& c : it.value().toObject()["comparisons"].toArray()) {
          add_row(table_, it.key(), c.toObject());
          ++added;
        }
      if (!added) why = protocol + ": the study has no finished comparison yet";
    } else if (why.isEmpty()) {
      why = protocol + ": not a metaadamw study protocol";
    }
  } else if (QFileInfo::exists(study)) {
    const QJsonObject s = read_json(study, &why);
    if (s["schema"].toString().startsWith("metaadamw") && s.contains("study")) {
      add_row(table_, QFileInfo(folder).fileName(), s["study"].toObject());
      ++added;
    } else if (why.isEmpty()) {
      why = study + ": holds no comparison (" + s["kind"].toString("not a study") + ")";
    }
  } else {
    why = folder + ": no study.json or protocol.json";
  }
  table_->setSortingEnabled(true);
  if (!added) {
    if (error) *error = why;
    return false;
  }
  folders_ << QDir::toNativeSeparators(folder);
  caption_->setText("<b>" + folders_.join(", ") +
                    "</b>: paired over the seeds, on each comparison's primary metric "
                    "(final: the last evaluation). Uncorrected p; Holm across tasks: "
                    "<tt>metaadamw report</tt>. Right-click › export as CSV.");
  return true;
}

void StudyView::clear() {
  table_->setRowCount(0);
  folders_.clear();
  caption_->setText("Open a study's folder (File › Open study folder) to see its statistics.");
}

}  // namespace maw::ui
