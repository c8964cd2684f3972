// Run control from other threads (the studio's buttons, a signal handler): stop, pause,
// resume, single step. The trainer calls wait_turn() before each step; every request is
// honoured before the next step starts.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "api/records.h"
#include "api/session.h"

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

  // Lockstep (api/session.h): the run is `member` of `group`. begin() waits for its first
  // turn (false when stopped first), each wait_turn() ends the turn and waits for the next
  // one before it looks at pause, end() leaves the group. Without a group all three are
  // no-ops (wait_turn only pauses).
  void join(std::shared_ptr<Lockstep> group, int member);
  bool begin();
  void end();

 private:
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool paused_ = false;
  int64_t allowed_ = 0;  // single steps granted while paused
  std::shared_ptr<Lockstep> group_;
  int member_ = 0;
  bool holds_turn_ = false;
};

}  // namespace maw::train
