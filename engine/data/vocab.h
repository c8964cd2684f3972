// Word-level tokens and vocabularies for the text tasks. Torch-free. A vocabulary is built
// from the training split only (TASKS.md); words it lacks map to <unk>.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace maw::data {

// Lower-cased words (ASCII letters and digits, apostrophes inside words, and any UTF-8
// multi-byte characters) and single punctuation characters; whitespace separates.
std::vector<std::string> tokenize(const std::string& text);

class Vocab {
 public:
  static constexpr int64_t kPad = 0, kUnk = 1, kBos = 2, kEos = 3;

  Vocab();
  // The `max_size` (specials included; 0: no limit) most frequent tokens seen at least
  // `min_count` times; ties by token text, so that the result is deterministic.
  static Vocab build(const std::vector<std::vector<std::string>>& texts, int64_t max_size,
                     int64_t min_count = 1);

  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t id(const std::string& token) const;  // kUnk when absent
  const std::string& token(int64_t id) const;
  std::vector<int64_t> encode(const std::vector<std::string>& tokens) const;

 private:
  void add(const std::string& token);
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

}  // namespace maw::data
