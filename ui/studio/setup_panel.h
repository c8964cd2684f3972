// Run setup: task, preset, optimizers, seeds, the key hyperparameters, device, threads,
// log folder; JSON load/save; the task's dataset status with the fetch command.
#pragma once

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QWidget>
#include <map>
#include <string>

#include "api/run_config.h"

namespace maw::ui {

class SetupPanel : public QWidget {
  Q_OBJECT
 public:
  explicit SetupPanel(QWidget* parent = nullptr);
  // The configuration the fields say; throws ConfigError naming the field's key.
  RunConfig config() const;
  QStringList optimizers() const;
  // MetaAdamW's own learning rate / weight decay when set (else it shares AdamW's).
  std::map<std::string, std::map<std::string, std::string>> overrides() const;
  int seeds() const { return seeds_->value(); }
  int processes() const { return processes_->value(); }  // data-parallel ranks per run
  // The optimizers of a seed train side by side, a step each in turn (else one after another).
  bool lockstep() const { return order_->currentIndex() == 0; }
  QString log_dir() const { return log_dir_->text(); }
  void load_json(const QString& path);  // throws ConfigError / DataError
  void save_json(const QString& path) const;
  void set_enabled_for_run(bool running);

 private:
  void update_dataset_status();
  void apply(const RunConfig& c);
  QComboBox *task_, *preset_, *device_, *order_;
  QCheckBox *adamw_, *metaadamw_, *torch_adamw_;
  QSpinBox *seeds_, *processes_, *seed_, *threads_, *steps_, *meta_freq_, *snapshot_every_,
      *attention_every_;
  QLineEdit *lr_, *wd_, *meta_lr_, *meta_opt_lr_, *meta_opt_wd_, *log_dir_, *extra_;
  QLabel* dataset_;
};

}  // namespace maw::ui
