#include "train/run_control.h"

#include <chrono>
#include <utility>

#include "train/lockstep.h"

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

void RunControl::join(std::shared_ptr<Lockstep> group, int member) {
  group_ = std::move(group);
  member_ = member;
}

bool RunControl::begin() {
  if (!group_) return true;
  holds_turn_ = group_->impl().acquire(member_, stop_);
  return holds_turn_;
}

void RunControl::end() {
  if (!group_) return;
  group_->impl().leave(member_);
  holds_turn_ = false;
}

bool RunControl::wait_turn(const std::function<void(RunEvent::Kind)>& announce) {
  if (group_) {  // the others' steps between this run's two
    if (holds_turn_) group_->impl().release(member_);
    holds_turn_ = group_->impl().acquire(member_, stop_);
    if (!holds_turn_) return false;
  }
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
