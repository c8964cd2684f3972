// Run control from other threads (the studio's buttons, a signal handler): stop, pause,
// resume, single step. The trainer calls wait_turn() before each step; every request is
// honoured before the next step starts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "api/records.h"

namespace maw::train {

class RunControl {
 public:
  void stop();  // one atomic store: safe from a signal handler
  void pause();
  void resume();
  void step_once();  // while paused: one step, then paused again
  bool stop_requested() const { return stop_.load(); }

  // Blocks while paused; false when the run must stop. `announce` is called (without any
  // lock held) with Paused when this call starts waiting and Resumed when it ends a wait.
  bool wait_turn(const std::function<void(RunEvent::Kind)>& announce);

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool paused_ = false;
  int64_t allowed_ = 0;  // single steps granted while paused
};

}  // namespace maw::train
