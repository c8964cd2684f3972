// Session: one training run, driven from outside the engine without torch headers.
// run() trains on the calling thread; stop(), pause(), resume() and step_once() may be
// called from any other thread and are honoured within one step.
#pragma once

#include <memory>
#include <vector>

#include "api/observer.h"
#include "api/run_config.h"

namespace maw {

// Runs that train in lockstep, each on its own thread: the members take turns of one
// training step each (with its evaluation or checkpoint when due), in member order, so
// only one trains at a time and all advance together — the studio's live side-by-side
// comparison. Each member sees the process-wide random generators as if it ran alone
// (their state is swapped at every turn), so a member's numbers equal its run on its own.
class Lockstep {
 public:
  explicit Lockstep(int members);
  ~Lockstep();
  Lockstep(const Lockstep&) = delete;
  Lockstep& operator=(const Lockstep&) = delete;
  struct Impl;  // engine-internal (train/lockstep.h)
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class Session {
 public:
  // Validates the configuration (throws ConfigError) but loads no data yet.
  explicit Session(RunConfig config);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void add_observer(RunObserver* observer);  // not owned; must outlive run()
  // Trains as member `member` of `group` (before run(); every member of the group must run,
  // each on its own thread, or a member that does not must not have joined).
  void join(std::shared_ptr<Lockstep> group, int member);
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
