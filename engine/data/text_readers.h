// Readers for labelled sentences (the UCI Sentiment Labelled Sentences JSON that npm's
// `sentiment` ships) and numeric CSV time series (seattle-weather, ETT). Torch-free;
// malformed input throws DataError naming the file and the position (element or line
// and column).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace maw::data {

struct LabeledText {
  std::string text;
  int label = 0;  // 0 negative, 1 positive
};

// A JSON array of {"text": string, "class": 0|1}; the trailing {"text": "", "class": null}
// of the npm fixtures is skipped.
std::vector<LabeledText> read_sentiment_json(const std::string& path);

// A CSV with a header row. Columns whose first value is not a number (dates, labels) are
// left out; every other value must be a number.
struct NumericTable {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // [T][columns]
};
NumericTable read_numeric_csv(const std::string& path);

}  // namespace maw::data
