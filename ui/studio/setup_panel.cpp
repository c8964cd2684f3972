#include "studio/setup_panel.h"

#include <QFile>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

#include "api/errors.h"
#include "data/datasets.h"

namespace maw::ui {

SetupPanel::SetupPanel(QWidget* parent) : QWidget(parent) {
  task_ = new QComboBox;
  task_->addItems({"image", "lm", "translation", "sentiment", "forecasting", "synthetic"});
  preset_ = new QComboBox;
  preset_->addItems({"tiny", "small", "medium", "paper"});
  preset_->setCurrentText("small");
  adamw_ = new QCheckBox("AdamW");
  metaadamw_ = new QCheckBox("MetaAdamW");
  torch_adamw_ = new QCheckBox("torch AdamW");
  adamw_->setChecked(true);
  metaadamw_->setChecked(true);
  auto* opts = new QVBoxLayout;  // one per line: the dock stays narrow
  opts->addWidget(adamw_);
  opts->addWidget(metaadamw_);
  opts->addWidget(torch_adamw_);
  auto spin = [](int lo, int hi, int v, const QString& special = {}) {
    auto* s = new QSpinBox;
    s->setRange(lo, hi);
    s->setValue(v);
    if (!special.isEmpty()) s->setSpecialValueText(special);
    return s;
  };
  order_ = new QComboBox;
  order_->setObjectName("order");
  order_->addItems({"side by side", "one after another"});
  order_->setToolTip(
      "Side by side: a seed's optimizers train together, a step each in turn, so their curves "
      "grow together (each run's numbers are those it would have alone). One after another: "
      "each run to its end before the next starts.");
  seeds_ = spin(1, 100, 1);
  processes_ = spin(1, 64, 1);
  processes_->setToolTip(
      "Data-parallel: each run trains over this many local processes (c10d Gloo), each a "
      "shard of every batch — `metaadamw compare --nproc N`, its logs followed as they grow. "
      "One after another; no pause.");
  seed_ = spin(0, 1000000, 0);
  steps_ = spin(0, 100000000, 0, "preset");
  threads_ = spin(0, 256, 0, "all cores");
  meta_freq_ = spin(0, 1000000, 0, "preset");
  snapshot_every_ = spin(0, 100000, 10, "never");
  attention_every_ = spin(0, 100000, 10, "never");
  lr_ = new QLineEdit;
  lr_->setPlaceholderText("preset");
  wd_ = new QLineEdit;
  wd_->setPlaceholderText("preset");
  meta_lr_ = new QLineEdit;
  meta_lr_->setPlaceholderText("preset");
  meta_opt_lr_ = new QLineEdit;
  meta_opt_lr_->setPlaceholderText("same as above");
  meta_opt_lr_->setToolTip("MetaAdamW's base learning rate η, when it should differ from AdamW's");
  meta_opt_wd_ = new QLineEdit;
  meta_opt_wd_->setPlaceholderText("same as above");
  meta_opt_wd_->setToolTip("MetaAdamW's base weight decay λ, when it should differ from AdamW's");
  device_ = new QComboBox;
  device_->addItems({"auto", "cpu", "cuda"});
  log_dir_ = new QLineEdit;
  log_dir_->setPlaceholderText("no logging (a folder: one HDF5 log per run)");
  extra_ = new QLineEdit;
  extra_->setPlaceholderText("more keys: key=value; key=value");
  dataset_ = new QLabel;
  dataset_->setWordWrap(true);
  dataset_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  // Each field named by its config key (tests, and QSettings-free automation).
  const std::pair<QWidget*, const char*> names[] = {{task_, "task"},
                                                    {preset_, "preset"},
                                                    {seeds_, "seeds"},
                                                    {seed_, "seed"},
                                                    {steps_, "steps"},
                                                    {threads_, "threads"},
                                                    {lr_, "lr"},
                                                    {wd_, "weight_decay"},
                                                    {meta_lr_, "meta_lr"},
                                                    {meta_freq_, "meta_update_freq"},
                                                    {device_, "device"},
                                                    {extra_, "other_keys"},
                                                    {processes_, "processes"}};
  for (const auto& [w, name] : names) w->setObjectName(name);
  auto* form = new QFormLayout(this);
  form->addRow("task", task_);
  form->addRow("preset", preset_);
  form->addRow("optimizers", opts);
  form->addRow("run them", order_);
  form->addRow("seeds", seeds_);
  form->addRow("first seed", seed_);
  form->addRow("steps", steps_);
  form->addRow("learning rate", lr_);
  form->addRow("weight decay", wd_);
  form->addRow("MetaAdamW learning rate", meta_opt_lr_);
  form->addRow("MetaAdamW weight decay", meta_opt_wd_);
  form->addRow("meta-update every", meta_freq_);
  form->addRow("meta learning rate", meta_lr_);
  form->addRow("snapshot every", snapshot_every_);
  form->addRow("attention every", attention_every_);
  form->addRow("device", device_);
  form->addRow("threads", threads_);
  form->addRow("processes", processes_);
  form->addRow("log folder", log_dir_);
  form->addRow("other keys", extra_);
  form->addRow("data", dataset_);
  connect(task_, &QComboBox::currentTextChanged, this, [this] { update_dataset_status(); });
  task_->setCurrentText("image");
  update_dataset_status();
}

void SetupPanel::update_dataset_status() {
  const std::string task = task_->currentText().toStdString();
  if (task == "synthetic") {
    dataset_->setText("generated (no files)");
    return;
  }
  QStringList lines;
  try {
    for (const auto& d : list_datasets(resolve_data_dir()))
      if (d.task == task)
        lines << QString::fromStdString(d.name) + ": " +
                     (d.present ? QString("present")
                                : QString("missing — run: ") +
                                      QString::fromStdString(fetch_command(d.name)));
  } catch (const std::exception& e) {
    lines << QString::fromUtf8(e.what());
  }
  dataset_->setText(lines.join("\n"));
}

RunConfig SetupPanel::config() const {
  RunConfig c;
  c.set("task", task_->currentText().toStdString());
  c.set("preset", preset_->currentText().toStdString());
  c.set("seed", std::to_string(seed_->value()));
  if (steps_->value() > 0) c.set("steps", std::to_string(steps_->value()));
  if (!lr_->text().trimmed().isEmpty()) c.set("lr", lr_->text().trimmed().toStdString());
  if (!wd_->text().trimmed().isEmpty()) c.set("weight_decay", wd_->text().trimmed().toStdString());
  if (meta_freq_->value() > 0) c.set("meta_update_freq", std::to_string(meta_freq_->value()));
  if (!meta_lr_->text().trimmed().isEmpty())
    c.set("meta_lr", meta_lr_->text().trimmed().toStdString());
  c.set("snapshot_every", std::to_string(snapshot_every_->value()));
  c.set("attention_every", std::to_string(attention_every_->value()));
  c.set("device", device_->currentText().toStdString());
  if (threads_->value() > 0) c.set("threads", std::to_string(threads_->value()));
  for (const QString& kv : extra_->text().split(';', Qt::SkipEmptyParts)) {
    const int eq = kv.indexOf('=');
    if (eq <= 0)
      throw ConfigError("other keys: expected key=value, got '" + kv.trimmed().toStdString() + "'");
    c.set(kv.left(eq).trimmed().toStdString(), kv.mid(eq + 1).trimmed().toStdString());
  }
  return c;
}

std::map<std::string, std::map<std::string, std::string>> SetupPanel::overrides() const {
  std::map<std::string, std::map<std::string, std::string>> o;
  if (!meta_opt_lr_->text().trimmed().isEmpty())
    o["metaadamw"]["lr"] = meta_opt_lr_->text().trimmed().toStdString();
  if (!meta_opt_wd_->text().trimmed().isEmpty())
    o["metaadamw"]["weight_decay"] = meta_opt_wd_->text().trimmed().toStdString();
  return o;
}

QStringList SetupPanel::optimizers() const {
  QStringList o;
  if (adamw_->isChecked()) o << "adamw";
  if (metaadamw_->isChecked()) o << "metaadamw";
  if (torch_adamw_->isChecked()) o << "torch_adamw";
  return o;
}

void SetupPanel::apply(const RunConfig& c) {
  task_->setCurrentText(QString::fromStdString(c.task));
  preset_->setCurrentText(QString::fromStdString(c.preset));
  seed_->setValue(static_cast<int>(c.seed));
  device_->setCurrentText(QString::fromStdString(c.device));
  snapshot_every_->setValue(static_cast<int>(c.snapshot_every));
  attention_every_->setValue(static_cast<int>(c.attention_every));
}

void SetupPanel::load_json(const QString& path) {
  RunConfig c;
  c.apply_json_file(path.toStdString());  // validates every key and value
  apply(c);
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) throw DataError("cannot read " + path.toStdString());
  const auto j = nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
  // The keys the form has a field for fill it (the field shows what the run will use);
  // the others go to "other keys", so nothing in the file is lost.
  auto text = [](const nlohmann::json& v) {
    return QString::fromStdString(v.is_string() ? v.get<std::string>() : v.dump());
  };
  const std::map<std::string, QSpinBox*> spins = {
      {"steps", steps_}, {"threads", threads_}, {"meta_update_freq", meta_freq_}};
  const std::map<std::string, QLineEdit*> edits = {
      {"lr", lr_}, {"weight_decay", wd_}, {"meta_lr", meta_lr_}};
  static const QStringList applied = {"task",   "preset",         "seed",
                                      "device", "snapshot_every", "attention_every"};
  QStringList extra;
  if (j.is_object())
    for (const auto& [k, v] : j.items()) {
      if (applied.contains(QString::fromStdString(k))) continue;
      if (const auto s = spins.find(k); s != spins.end() && v.is_number_integer()) {
        s->second->setValue(v.get<int>());
        continue;
      }
      if (const auto e = edits.find(k); e != edits.end()) {
        e->second->setText(text(v));
        continue;
      }
      extra << QString::fromStdString(k) + "=" + text(v);
    }
  extra_->setText(extra.join("; "));
}

void SetupPanel::save_json(const QString& path) const {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
    throw DataError("cannot write " + path.toStdString());
  f.write(QByteArray::fromStdString(config().to_json()));
}

void SetupPanel::set_enabled_for_run(bool running) {
  for (auto* w : findChildren<QWidget*>()) w->setEnabled(!running);
}

}  // namespace maw::ui
