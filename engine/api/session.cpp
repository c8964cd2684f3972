#include "api/session.h"

#include <torch/torch.h>

#include <atomic>
#include <thread>

#include "api/errors.h"
#include "api/version.h"
#include "optim/cpu_isa.h"
#include "train/trainer.h"

namespace maw {

struct Session::Impl {
  RunConfig config;
  std::vector<RunObserver*> observers;
  train::RunControl control;
};

Session::Session(RunConfig config) : impl_(std::make_unique<Impl>()) {
  config.resolve_preset();
  if (config.steps == 0 && config.epochs == 0)
    throw ConfigError("nothing to train: set steps or epochs > 0");
  if (config.groups == "custom" && config.group_rules.empty())
    throw ConfigError("groups=custom needs group_rules (REGEX=GROUP;...)");
  if (config.optimizer == "metaadamw") config.meta.validate();
  if (config.checkpoint_at > 0 && config.checkpoint.empty())
    throw ConfigError("checkpoint_at needs checkpoint (the file to write)");
  if (config.optimizer != "metaadamw" &&
      (!config.modulator.empty() || !config.export_modulator.empty()))
    throw ConfigError("modulator and export_modulator need optimizer=metaadamw");
  impl_->config = std::move(config);
}

Session::~Session() = default;

void Session::add_observer(RunObserver* observer) {
  impl_->observers.push_back(observer);
}

RunSummary Session::run() {
  train::Trainer trainer(impl_->config, impl_->observers, &impl_->control);
  return trainer.run();
}

void Session::stop() {
  impl_->control.stop();
}
void Session::pause() {
  impl_->control.pause();
}
void Session::resume() {
  impl_->control.resume();
}
void Session::step_once() {
  impl_->control.step_once();
}

const RunConfig& Session::config() const {
  return impl_->config;
}

const char* engine_version() {
  return METAADAMW_VERSION;
}

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::string cpu_kernels() {
  return optim::kernel::cpu_kernel_summary();
}

bool cuda_available() {
  return torch::cuda::is_available();
}

int default_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

}  // namespace maw
