// Groups: every parameter group's tensors, shapes and sizes.
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

// ---- Groups ----

GroupsView::GroupsView(Studio& studio, QWidget* parent) : QWidget(parent), studio_(studio) {
  run_ = new RunPicker(studio_);
  tree_ = new QTreeWidget;
  tree_->setHeaderLabels({"group / tensor", "parameters", "tensors / shape"});
  tree_->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
  tree_->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  tree_->headerItem()->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
  tree_->header()->setStretchLastSection(false);
  auto* v = new QVBoxLayout(this);
  v->addWidget(run_);
  v->addWidget(tree_);
  connect(run_, &QComboBox::currentIndexChanged, this, [this] {
    shown_.clear();
    refresh();
  });
}

void GroupsView::refresh() {
  run_->sync(studio_);
  const int r = run_->run();
  if (r < 0) {
    tree_->clear();
    shown_.clear();
    return;
  }
  const RunModel& m = *studio_.runs()[static_cast<size_t>(r)];
  const auto& i = m.info();
  const std::string key = m.id() + ":" + std::to_string(i.group_names.size());
  if (key == shown_) return;
  shown_ = key;
  tree_->clear();
  for (size_t g = 0; g < i.group_names.size(); ++g) {
    auto* item = new QTreeWidgetItem(tree_);
    item->setText(0, QString::fromStdString(i.group_names[g]));
    item->setForeground(0, group_color(static_cast<int>(g)));
    if (g < i.group_sizes.size())
      item->setText(1, QLocale().toString(static_cast<qlonglong>(i.group_sizes[g])));
    item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    if (g >= i.group_members.size()) continue;
    const auto& members = i.group_members[g];
    item->setText(2, QString::number(members.size()));
    const auto* shapes = g < i.group_shapes.size() ? &i.group_shapes[g] : nullptr;
    for (size_t t = 0; t < members.size(); ++t) {
      auto* child = new QTreeWidgetItem(item, {QString::fromStdString(members[t])});
      child->setToolTip(0, child->text(0));
      if (!shapes || t >= shapes->size()) continue;  // a log from before shapes were logged
      const std::string& shape = (*shapes)[t];
      qlonglong n = 1;
      if (shape != "()")
        for (const auto& d : split_list(shape, 'x')) n *= std::atoll(d.c_str());
      child->setText(1, QLocale().toString(n));
      child->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
      child->setText(2, QString::fromStdString(shape).replace('x', QChar(0x00D7)));
    }
  }
  // Small models open fully: every tensor and its shape in view at once.
  size_t tensors = 0;
  for (const auto& members : i.group_members) tensors += members.size();
  if (tensors <= 64) tree_->expandAll();
}

}  // namespace maw::ui
