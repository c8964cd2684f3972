#include "train/run_control.h"

#include <chrono>

namespace maw::train {

void RunControl::stop() {
  stop_.store(true);
}  // the waiter polls: no notify from a handler

void RunControl::pause() {
  std::lock_guard<std::mutex> lk(mu_);
  paused_ = true;
  allowed_ = 0;
}

void RunControl::resume() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    paused_ = false;
    allowed_ = 0;
  }
  cv_.notify_all();
}

void RunControl::step_once() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (paused_) ++allowed_;
  }
  cv_.notify_all();
}

bool RunControl::wait_turn(const std::function<void(RunEvent::Kind)>& announce) {
  bool waited = false;
  for (;;) {
    if (stop_.load()) return false;
    bool announce_pause = false;
    {
      std::unique_lock<std::mutex> lk(mu_);
      if (!paused_) {
        lk.unlock();
        if (waited) announce(RunEvent::Kind::Resumed);
        return true;
      }
      if (allowed_ > 0) {
        --allowed_;
        return true;
      }
      if (waited) {
        cv_.wait_for(lk, std::chrono::milliseconds(50));  // polls stop_ as well
        continue;
      }
      announce_pause = true;
    }
    if (announce_pause) {
      announce(RunEvent::Kind::Paused);
      waited = true;
    }
  }
}

}  // namespace maw::train
