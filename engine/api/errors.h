// Errors the outside world can act on. Plain C++ (no torch): app/ and ui/ catch these.
#pragma once

#include <algorithm>
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

// The first line of an error text: LibTorch's messages carry a C++ stack trace
// ("frame #0 …") after it, which no user-facing output shows.
inline std::string first_line(const std::string& text) {
  const size_t begin = std::min(text.find_first_not_of(" \r\n"), text.size());
  std::string line = text.substr(begin, text.find('\n', begin) - begin);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

// A run that failed while training (LibTorch's error, out of memory): a one-line message.
class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace maw
