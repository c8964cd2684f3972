#include "studio/ui_bridge.h"

namespace maw::ui {

void UiBridge::push(BridgeItem item, bool essential) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!essential && queue_.size() >= capacity_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(item));
}

std::deque<BridgeItem> UiBridge::drain() {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<BridgeItem> out;
  out.swap(queue_);
  return out;
}

int64_t UiBridge::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

}  // namespace maw::ui
