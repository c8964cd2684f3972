// Session: one training run, driven from outside the engine without torch headers.
// run() trains on the calling thread; stop(), pause(), resume() and step_once() may be
// called from any other thread and are honoured within one step.
#pragma once

#include <memory>
#include <vector>

#include "api/observer.h"
#include "api/run_config.h"

namespace maw {

class Session {
 public:
  // Validates the configuration (throws ConfigError) but loads no data yet.
  explicit Session(RunConfig config);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void add_observer(RunObserver* observer);  // not owned; must outlive run()
  // Trains to the end (or until stopped / diverged). Throws DataError, ConfigError or
  // std::runtime_error for problems found while setting up.
  RunSummary run();
  void stop();       // thread-safe; also async-signal-safe (one atomic store)
  void pause();      // hold before the next step (a Paused event is sent)
  void resume();     // continue after pause
  void step_once();  // while paused: run exactly one step, then hold again

  const RunConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Library facts for --version and log headers.
const char* engine_version();
std::string torch_version();
bool cuda_available();
// The instruction set the fused CPU kernels run, with the CPU's model and SIMD flags
// (optim/cpu_isa.h), e.g. "avx512f on AMD EPYC [avx avx2 fma avx512f …]".
std::string cpu_kernels();
int default_threads();

}  // namespace maw
