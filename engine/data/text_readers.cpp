#include "data/text_readers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/errors.h"

namespace maw::data {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  // Plain CSV (no quoted commas in these files); a trailing '\r' is dropped.
  std::vector<std::string> out;
  std::string cur;
  for (char ch : line) {
    if (ch == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (ch != '\r') {
      cur += ch;
    }
  }
  out.push_back(cur);
  return out;
}

bool parse_number(const std::string& s, double* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

// "nan", "inf", "-Infinity": a number, but not one a model can train on. Such a column
// was dropped (first row) or refused with "not a number" (later rows); it is a missing value.
bool non_finite_number(const std::string& s) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isfinite(v);
}

}  // namespace

std::vector<LabeledText> read_sentiment_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(path + ": byte " + std::to_string(e.byte) + ": not valid JSON");
  }
  if (!j.is_array()) throw DataError(path + ": expected a JSON array of {text, class}");
  std::vector<LabeledText> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    const std::string where = path + ": element " + std::to_string(i) + ": ";
    if (!e.is_object() || !e.contains("text") || !e.contains("class"))
      throw DataError(where + "expected an object with \"text\" and \"class\"");
    if (e["class"].is_null() && e["text"].is_string() && e["text"].get<std::string>().empty())
      continue;  // the fixtures' trailing placeholder
    if (!e["text"].is_string()) throw DataError(where + "\"text\" is not a string");
    if (!e["class"].is_number_integer() || (e["class"] != 0 && e["class"] != 1))
      throw DataError(where + "\"class\" is not 0 or 1");
    out.push_back({e["text"].get<std::string>(), e["class"].get<int>()});
  }
  return out;
}

NumericTable read_numeric_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path + ": cannot open");
  std::string line;
  if (!std::getline(in, line)) throw DataError(path + ": empty file (expected a header row)");
  const auto header = split_csv_line(line);
  std::vector<size_t> keep;
  NumericTable t;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_line(line);
    if (cells.size() != header.size())
      throw DataError(path + ": line " + std::to_string(line_no) + ": " +
                      std::to_string(cells.size()) + " fields, the header has " +
                      std::to_string(header.size()));
    for (size_t c = 0; c < cells.size(); ++c)
      if (non_finite_number(cells[c]))
        throw DataError(path + ": line " + std::to_string(line_no) + ", column '" + header[c] +
                        "': '" + cells[c] +
                        "' is a missing value; fill or remove it (a model cannot train on it)");
    if (t.rows.empty()) {  // the first data row decides which columns are numeric
      double v;
      for (size_t c = 0; c < cells.size(); ++c)
        if (parse_number(cells[c], &v)) {
          keep.push_back(c);
          t.columns.push_back(header[c]);
        }
      if (keep.empty())
        throw DataError(path + ": line " + std::to_string(line_no) + ": no numeric column");
    }
    std::vector<double> row;
    for (size_t c : keep) {
      double v;
      if (!parse_number(cells[c], &v))
        throw DataError(path + ": line " + std::to_string(line_no) + ", column '" + header[c] +
                        "': '" + cells[c] + "' is not a number");
      row.push_back(v);
    }
    t.rows.push_back(std::move(row));
  }
  if (t.rows.empty()) throw DataError(path + ": no data rows");
  return t;
}

}  // namespace maw::data
