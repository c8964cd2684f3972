#include "data/corpus_readers.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "api/errors.h"

namespace maw::data {
namespace fs = std::filesystem;
namespace {

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

// One testament of a ztext module, appended to `out`.
void read_testament(const std::string& base, std::vector<std::string>& out) {
  const auto bzs = read_bytes(base + ".bzs"), bzv = read_bytes(base + ".bzv"),
             bzz = read_bytes(base + ".bzz");
  if (bzs.size() % 12)
    throw DataError(base + ".bzs: size " + std::to_string(bzs.size()) +
                    " is not a multiple of 12 (truncated block index)");
  if (bzv.size() % 10)
    throw DataError(base + ".bzv: size " + std::to_string(bzv.size()) +
                    " is not a multiple of 10 (truncated verse index)");
  const size_t blocks = bzs.size() / 12;
  std::map<uint32_t, std::string> cache;  // decompressed blocks
  auto block = [&](uint32_t b, size_t record) -> const std::string& {
    auto it = cache.find(b);
    if (it != cache.end()) return it->second;
    if (b >= blocks)
      throw DataError(base + ".bzv: record " + std::to_string(record) + ": block " +
                      std::to_string(b) + " out of range (" + std::to_string(blocks) + " blocks)");
    const uint8_t* r = bzs.data() + 12 * b;
    const uint32_t off = le32(r), csize = le32(r + 4), size = le32(r + 8);
    if (static_cast<uint64_t>(off) + csize > bzz.size())
      throw DataError(base + ".bzs: record " + std::to_string(b) + ": block at byte " +
                      std::to_string(off) + " + " + std::to_string(csize) +
                      " runs past the end of " + base + ".bzz (" + std::to_string(bzz.size()) +
                      " bytes)");
    std::string text(size, '\0');
    uLongf got = size;
    if (uncompress(reinterpret_cast<Bytef*>(text.data()), &got, bzz.data() + off, csize) != Z_OK ||
        got != size)
      throw DataError(base + ".bzz: byte " + std::to_string(off) + ": block " + std::to_string(b) +
                      " is not a valid zlib stream of " + std::to_string(size) + " bytes");
    return cache.emplace(b, std::move(text)).first->second;
  };
  for (size_t i = 0; i < bzv.size() / 10; ++i) {
    const uint8_t* r = bzv.data() + 10 * i;
    const uint32_t b = le32(r), off = le32(r + 4);
    const uint16_t len = static_cast<uint16_t>(r[8] | r[9] << 8);
    if (len == 0) {
      out.emplace_back();
      continue;
    }
    const std::string& text = block(b, i);
    if (static_cast<uint64_t>(off) + len > text.size())
      throw DataError(base + ".bzv: record " + std::to_string(i) + ": verse at " +
                      std::to_string(off) + "+" + std::to_string(len) + " runs past its block (" +
                      std::to_string(text.size()) + " bytes)");
    out.push_back(text.substr(off, len));
  }
}

// Removes <tag …>…</tag> elements named `tag` (not self-closing), with their content.
std::string drop_elements(const std::string& s, const std::string& tag) {
  std::string out;
  size_t pos = 0;
  const std::string open = "<" + tag, close = "</" + tag + ">";
  while (true) {
    size_t a = s.find(open, pos);
    while (a != std::string::npos) {
      const char next = a + open.size() < s.size() ? s[a + open.size()] : '\0';
      if (next == ' ' || next == '>') break;  // <note> or <note …>, not <notes…>
      a = s.find(open, a + 1);
    }
    if (a == std::string::npos) break;
    const size_t gt = s.find('>', a);
    if (gt == std::string::npos) break;
    out.append(s, pos, a - pos);
    if (s[gt - 1] == '/') {  // self-closing: nothing inside
      pos = gt + 1;
      continue;
    }
    const size_t c = s.find(close, gt);
    pos = c == std::string::npos ? s.size() : c + close.size();
  }
  out.append(s, pos, std::string::npos);
  return out;
}

bool regular_with_suffix(const fs::directory_entry& e, const std::string& suffix) {
  const std::string n = e.path().filename().string();
  return e.is_regular_file() && n.size() >= suffix.size() &&
         n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (text.empty()) throw DataError(path + ": empty file");
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    throw DataError(path + ": byte " + std::to_string(nul) + ": NUL byte (not a text file)");
  return text;
}

std::vector<Document> read_text_dir(const std::string& dir, const std::string& suffix) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw DataError(dir + ": not a folder");
  std::vector<std::string> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (regular_with_suffix(e, suffix)) paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) throw DataError(dir + ": no *" + suffix + " files");
  std::vector<Document> out;
  for (const auto& p : paths) out.push_back({fs::path(p).filename().string(), read_text_file(p)});
  return out;
}

std::vector<std::string> read_sword_ztext(const std::string& module_dir) {
  std::vector<std::string> out;
  bool any = false;
  for (const char* t : {"ot", "nt"}) {
    const std::string base = module_dir + "/" + t;
    if (!fs::exists(base + ".bzv")) continue;
    any = true;
    read_testament(base, out);
  }
  if (!any) throw DataError(module_dir + ": no SWORD ztext module (ot.bzv or nt.bzv) here");
  return out;
}

std::string strip_osis_markup(const std::string& text) {
  std::string s = drop_elements(drop_elements(text, "note"), "title");
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') {
      const size_t gt = s.find('>', i);
      if (gt == std::string::npos) break;
      i = gt;
      out += ' ';
    } else {
      out += s[i];
    }
  }
  static const std::pair<const char*, const char*> entities[] = {
      {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
  for (const auto& [from, to] : entities) {
    for (size_t p = out.find(from); p != std::string::npos; p = out.find(from, p + 1))
      out.replace(p, std::strlen(from), to);
  }
  std::string clean;  // whitespace collapsed, trimmed
  for (char ch : out) {
    const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
    if (space) {
      if (!clean.empty() && clean.back() != ' ') clean += ' ';
    } else {
      clean += ch;
    }
  }
  if (!clean.empty() && clean.back() == ' ') clean.pop_back();
  return clean;
}

std::vector<std::pair<std::string, std::string>> align_verses(const std::vector<std::string>& a,
                                                              const std::vector<std::string>& b) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    auto x = strip_osis_markup(a[i]), y = strip_osis_markup(b[i]);
    if (!x.empty() && !y.empty()) out.emplace_back(std::move(x), std::move(y));
  }
  return out;
}

std::vector<LabeledText> read_aclimdb(const std::string& root, const std::string& split) {
  std::vector<LabeledText> out;
  for (const auto& [sub, label] : {std::pair<const char*, int>{"neg", 0}, {"pos", 1}}) {
    const std::string dir = root + "/" + split + "/" + sub;
    for (auto& d : read_text_dir(dir, ".txt")) out.push_back({std::move(d.text), label});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> read_parallel_text(const std::string& source,
                                                                    const std::string& target) {
  auto lines = [](const std::string& path) {
    std::istringstream in(read_text_file(path));
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.push_back(line);
    }
    return out;
  };
  const auto s = lines(source), t = lines(target);
  if (s.size() != t.size())
    throw DataError(target + ": " + std::to_string(t.size()) + " lines, but " + source + " has " +
                    std::to_string(s.size()) + " (parallel files must align line by line)");
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i].empty() != t[i].empty())
      throw DataError(source + ": line " + std::to_string(i + 1) +
                      ": one side is empty and the other is not");
    if (!s[i].empty()) out.emplace_back(s[i], t[i]);
  }
  return out;
}

}  // namespace maw::data
