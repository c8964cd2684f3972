// Errors the outside world can act on. Plain C++ (no torch): app/ and ui/ catch these.
#pragma once

#include <stdexcept>
#include <string>

namespace maw {

// A configuration key or value that is not valid. The CLI maps it to exit code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Input data that is missing or malformed (the message names the file and the fix).
class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace maw
