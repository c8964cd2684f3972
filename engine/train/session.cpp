#include "api/session.h"

#include <torch/torch.h>

#include <atomic>
#include <thread>

#include "api/errors.h"
#include "api/file_checks.h"
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
  if (config.steps > 0 && config.checkpoint_at > config.steps)
    throw ConfigError("checkpoint_at " + std::to_string(config.checkpoint_at) +
                      " is beyond the run's " + std::to_string(config.steps) +
                      " steps: the checkpoint would never be written");
  // Files the run reads or writes, checked now rather than after minutes of training.
  auto check = [](const char* key, const std::string& path, bool input, const char* what) {
    if (path.empty()) return;
    const std::string problem = input ? files::input_problem(path) : files::output_problem(path);
    if (!problem.empty())
      throw ConfigError(std::string(key) + ": cannot " + (input ? "read " : "write ") + what +
                        " '" + path + "': " + problem);
  };
  check("resume", config.resume, true, "checkpoint");
  check("modulator", config.modulator, true, "modulator file");
  check("checkpoint", config.checkpoint, false, "checkpoint");
  check("export_modulator", config.export_modulator, false, "modulator file");
  impl_->config = std::move(config);
}

Session::~Session() = default;

void Session::add_observer(RunObserver* observer) {
  impl_->observers.push_back(observer);
}

RunSummary Session::run() {
  auto fail = [&](const std::string& message) {
    for (RunObserver* o : impl_->observers) o->on_error(message);
  };
  try {
    train::Trainer trainer(impl_->config, impl_->observers, &impl_->control);
    return trainer.run();
  } catch (const ConfigError& e) {
    fail(e.what());
    throw;
  } catch (const DataError& e) {
    fail(e.what());
    throw;
  } catch (const c10::Error& e) {
    const std::string what = first_line(e.what_without_backtrace());
    const bool oom = what.find("allocate") != std::string::npos ||
                     what.find("out of memory") != std::string::npos;
    const std::string message =
        (oom ? "out of memory (a model, batch or dataset too large for this device?): " : "") +
        std::string("LibTorch: ") + what;
    fail(message);
    throw RunError(message);
  } catch (const std::bad_alloc&) {
    const std::string message =
        "out of memory: the model, batch or data do not fit in this machine's memory";
    fail(message);
    throw RunError(message);
  } catch (const std::exception& e) {
    const std::string message = first_line(e.what());
    fail(message);
    throw RunError(message);
  }
}

void Session::join(std::shared_ptr<Lockstep> group, int member) {
  impl_->control.join(std::move(group), member);
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
