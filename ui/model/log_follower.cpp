#include "model/log_follower.h"

namespace maw::ui {

LogFollower::LogFollower(const std::string& path) : reader_(path) {}

bool LogFollower::live() const {
  return reader_.writer_alive();
}

bool LogFollower::poll(RunModel& model) {
  bool grew = cursor_.started && reader_.refresh();
  grew = replay(reader_, cursor_, model, {model.attention.budget()}) || grew;
  if (!cursor_.finished && reader_.status() == "running" && !reader_.writer_alive() &&
      model.status() != "interrupted") {
    model.set_status("interrupted");
    grew = true;
  }
  return grew;
}

}  // namespace maw::ui
