#include "data/vocab.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace maw::data {

std::vector<std::string> tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char ch = static_cast<unsigned char>(text[i]);
    if (ch >= 0x80 || std::isalnum(ch)) {
      word += static_cast<char>(ch >= 0x80 ? ch : std::tolower(ch));
    } else if (ch == '\'' && !word.empty() && i + 1 < text.size() &&
               std::isalpha(static_cast<unsigned char>(text[i + 1]))) {
      word += '\'';  // don't, it's
    } else if (std::isspace(ch) || ch < 0x20) {
      flush();
    } else {
      flush();
      out.emplace_back(1, static_cast<char>(ch));
    }
  }
  flush();
  return out;
}

Vocab::Vocab() {
  for (const char* s : {"<pad>", "<unk>", "<bos>", "<eos>"}) add(s);
}

void Vocab::add(const std::string& token) {
  ids_.emplace(token, static_cast<int64_t>(tokens_.size()));
  tokens_.push_back(token);
}

Vocab Vocab::build(const std::vector<std::vector<std::string>>& texts, int64_t max_size,
                   int64_t min_count) {
  std::unordered_map<std::string, int64_t> counts;
  for (const auto& t : texts)
    for (const auto& w : t) ++counts[w];
  std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocab v;
  for (const auto& [w, n] : sorted) {
    if (max_size > 0 && v.size() >= max_size) break;
    if (n < min_count) break;
    if (!v.ids_.count(w)) v.add(w);
  }
  return v;
}

int64_t Vocab::id(const std::string& token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& Vocab::token(int64_t id) const {
  if (id < 0 || id >= size()) throw std::out_of_range("token id out of range");
  return tokens_[static_cast<size_t>(id)];
}

std::vector<int64_t> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int64_t> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(id(t));
  return out;
}

}  // namespace maw::data
