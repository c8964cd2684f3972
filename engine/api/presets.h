// A task's presets (tiny, small — medium's models too —, paper): the values of the keys a
// user did not set. Declared here for RunConfig; each table is defined beside its task
// (engine/tasks/TASK.cpp), so a task's model and its sizes are read in one place.
#pragma once

#include <string_view>
#include <vector>

namespace maw {

// One key's value per preset; "" leaves the key as it is.
struct PresetRow {
  const char* key;
  const char* tiny;
  const char* small;
  const char* paper;
};

// The task's rows (synthetic's for a name that is no task: RunConfig refuses it elsewhere).
const std::vector<PresetRow>& task_presets(std::string_view task);

}  // namespace maw
