// Precompiled header for every engine translation unit (and the tests that reuse it):
// torch/torch.h alone costs ~30 s a file on this machine.
#pragma once

#include <torch/torch.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>
