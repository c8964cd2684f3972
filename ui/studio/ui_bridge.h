// UiBridge: the engine → GUI leg of the one data path. A RunObserver whose callbacks (on
// the engine thread) only copy the record into a bounded queue; the GUI thread drains it
// on a timer (≤ 30 times a second) into the RunModels. The engine never waits for the
// GUI: when the queue is full, display records are dropped and counted (the run log, if
// any, still has every record).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <type_traits>
#include <variant>

#include "api/observer.h"

namespace maw::ui {

struct BridgeItem {
  int run = 0;  // index of the run within the study (RunModel order)
  std::variant<RunInfo, StepRecord, EvalRecord, Snapshot, MetaUpdateRecord, TrajectoryRecord,
               LandscapeRecord, RunEvent, RunSummary>
      record;
};

// A queued record handed on to `o` as the observer call it came from.
template <class Record>
void forward(const Record& r, RunObserver& o) {
  if constexpr (std::is_same_v<Record, RunInfo>)
    o.on_start(r);
  else if constexpr (std::is_same_v<Record, StepRecord>)
    o.on_step(r);
  else if constexpr (std::is_same_v<Record, EvalRecord>)
    o.on_eval(r);
  else if constexpr (std::is_same_v<Record, Snapshot>)
    o.on_snapshot(r);
  else if constexpr (std::is_same_v<Record, MetaUpdateRecord>)
    o.on_meta_update(r);
  else if constexpr (std::is_same_v<Record, TrajectoryRecord>)
    o.on_trajectory(r);
  else if constexpr (std::is_same_v<Record, LandscapeRecord>)
    o.on_landscape(r);
  else if constexpr (std::is_same_v<Record, RunEvent>)
    o.on_event(r);
  else
    o.on_finish(r);
}

class UiBridge {
 public:
  explicit UiBridge(size_t capacity = 1 << 16) : capacity_(capacity) {}

  // The observer for run `run` (valid as long as the bridge).
  class Observer : public RunObserver {
   public:
    Observer(UiBridge& b, int run) : b_(b), run_(run) {}
    void on_start(const RunInfo& i) override { b_.push({run_, i}, true); }
    void on_step(const StepRecord& r) override { b_.push({run_, r}, false); }
    void on_eval(const EvalRecord& r) override { b_.push({run_, r}, true); }
    void on_snapshot(const Snapshot& s) override { b_.push({run_, s}, false); }
    void on_meta_update(const MetaUpdateRecord& r) override { b_.push({run_, r}, false); }
    void on_trajectory(const TrajectoryRecord& r) override { b_.push({run_, r}, false); }
    void on_landscape(const LandscapeRecord& r) override { b_.push({run_, r}, true); }
    void on_event(const RunEvent& e) override { b_.push({run_, e}, true); }
    void on_finish(const RunSummary& s) override { b_.push({run_, s}, true); }

   private:
    UiBridge& b_;
    int run_;
  };

  // Takes everything queued (GUI thread).
  std::deque<BridgeItem> drain();
  int64_t dropped() const;

 private:
  // `essential` records (start, evaluations, events, the summary) are never dropped.
  void push(BridgeItem item, bool essential);
  size_t capacity_;
  mutable std::mutex mu_;
  std::deque<BridgeItem> queue_;
  int64_t dropped_ = 0;
};

}  // namespace maw::ui
