#include "api/records.h"

namespace maw {

const char* to_string(RunEvent::Kind kind) {
  switch (kind) {
    case RunEvent::Kind::Started: return "started";
    case RunEvent::Kind::Paused: return "paused";
    case RunEvent::Kind::Resumed: return "resumed";
    case RunEvent::Kind::Stopped: return "stopped";
    case RunEvent::Kind::Diverged: return "diverged";
    case RunEvent::Kind::EarlyStopped: return "early_stopped";
    case RunEvent::Kind::Completed: return "completed";
    case RunEvent::Kind::Error: return "error";
  }
  return "unknown";
}

}  // namespace maw
