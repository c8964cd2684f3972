#include "api/records.h"

namespace maw {

const char* to_string(RunEvent::Kind kind) {
  return name_of(kind);
}

}  // namespace maw
