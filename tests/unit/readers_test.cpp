// Dataset readers on small fixtures that the tests generate (well-formed and malformed),
// and the record counts of the real offline data when it is present.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>

#include "api/errors.h"
#include "data/datasets.h"
#include "data/image_readers.h"
#include "data/text_readers.h"

namespace maw::data {
namespace {

std::string tmp(const std::string& name) {
  return ::testing::TempDir() + std::to_string(::getpid()) + "_" + name;
}

std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_raw(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(IdxReader, ReadsGzippedImagesAndLabels) {
  std::vector<uint8_t> pixels(3 * 2 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  const auto images = tmp("images.idx3.gz"), labels = tmp("labels.idx1.gz");
  write_gz(images, idx_bytes({3, 2, 4}, pixels));
  write_gz(labels, idx_bytes({3}, {9, 0, 4}));
  const auto s = read_idx_split(images, labels);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.height, 2);
  EXPECT_EQ(s.width, 4);
  EXPECT_EQ(s.pixels, pixels);
  EXPECT_EQ(s.labels, (std::vector<uint8_t>{9, 0, 4}));
  // Plain (not gzipped) IDX reads the same.
  write_raw(images, idx_bytes({3, 2, 4}, pixels));
  EXPECT_EQ(read_idx(images).data, pixels);
  std::remove(images.c_str());
  std::remove(labels.c_str());
}

TEST(IdxReader, MalformedFilesNameFileAndPosition) {
  const auto p = tmp("bad.idx.gz");
  write_gz(p, {1, 2, 8, 1, 0, 0, 0, 1, 5});
  EXPECT_NE(error_of([&] { read_idx(p); }).find(p + ": byte 0: not an IDX file"),
            std::string::npos);
  write_gz(p, idx_bytes({2}, {1, 2}, 0x0D));
  EXPECT_NE(error_of([&] { read_idx(p); }).find("byte 2: IDX element type 13"), std::string::npos);
  write_gz(p, idx_bytes({10, 2}, std::vector<uint8_t>(7)));  // announces 20, holds 7
  const auto msg = error_of([&] { read_idx(p); });
  EXPECT_NE(msg.find("byte 19: IDX header announces 20 values, the file holds 7 (truncated)"),
            std::string::npos)
      << msg;
  write_gz(p, {0, 0});
  EXPECT_NE(error_of([&] { read_idx(p); }).find("too short"), std::string::npos);
  // A gzip stream cut in the middle.
  std::vector<uint8_t> big(5000, 3);
  write_gz(p, idx_bytes({5000}, big));
  std::ifstream in(p, std::ios::binary);
  std::vector<char> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  gz.resize(gz.size() / 2);
  std::ofstream(p, std::ios::binary).write(gz.data(), static_cast<std::streamsize>(gz.size()));
  EXPECT_FALSE(error_of([&] { read_idx(p); }).empty());
  EXPECT_NE(error_of([&] { read_idx(tmp("missing.gz")); }).find("cannot open"), std::string::npos);
  std::remove(p.c_str());
}

TEST(IdxReader, MismatchedCountsAndBadLabelsAreErrors) {
  const auto images = tmp("i.gz"), labels = tmp("l.gz");
  write_gz(images, idx_bytes({2, 1, 1}, {1, 2}));
  write_gz(labels, idx_bytes({3}, {0, 1, 2}));
  EXPECT_NE(error_of([&] { read_idx_split(images, labels); }).find("holds 2 images but"),
            std::string::npos);
  write_gz(labels, idx_bytes({2}, {0, 12}));
  EXPECT_NE(error_of([&] { read_idx_split(images, labels); }).find("byte 9: label 12"),
            std::string::npos);
  std::remove(images.c_str());
  std::remove(labels.c_str());
}

TEST(CifarReader, ReadsRecordsAndRejectsBrokenBatches) {
  std::vector<uint8_t> batch;
  for (uint8_t label : {3, 7}) {
    batch.push_back(label);
    for (int i = 0; i < 3072; ++i) batch.push_back(static_cast<uint8_t>(i % 251 + label));
  }
  const auto a = tmp("data_batch_1.bin"), b = tmp("test_batch.bin");
  write_raw(a, batch);
  write_raw(b, std::vector<uint8_t>(batch.begin(), batch.begin() + 3073));
  const auto s = read_cifar10({a, b});
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.labels, (std::vector<uint8_t>{3, 7, 3}));
  EXPECT_EQ(s.pixels.size(), 3u * 3072u);
  EXPECT_EQ(s.pixels[3072], static_cast<uint8_t>(7));
  write_raw(b, std::vector<uint8_t>(batch.begin(), batch.begin() + 4000));
  EXPECT_NE(error_of([&] { read_cifar10({b}); }).find("is not a whole number of 3073-byte"),
            std::string::npos);
  batch[3073] = 11;
  write_raw(b, batch);
  EXPECT_NE(error_of([&] { read_cifar10({b}); }).find("byte 3073: label 11 is not in 0..9"),
            std::string::npos);
  std::remove(a.c_str());
  std::remove(b.c_str());
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(SentimentReader, ReadsTextsAndLabelsAndSkipsTheTrailingPlaceholder) {
  const auto p = tmp("s.json");
  write_text(p,
             R"([{"text":"Good.","class":1},{"text":"Bad!","class":0},{"text":"","class":null}])");
  const auto xs = read_sentiment_json(p);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].text, "Good.");
  EXPECT_EQ(xs[0].label, 1);
  EXPECT_EQ(xs[1].label, 0);
  write_text(p, R"([{"text":"x","class":1},{"text":"y","class":2}])");
  EXPECT_NE(error_of([&] { read_sentiment_json(p); }).find("element 1: \"class\" is not 0 or 1"),
            std::string::npos);
  write_text(p, R"([{"text":"x","class":1}, {"txt":"y"}])");
  EXPECT_NE(error_of([&] { read_sentiment_json(p); }).find("element 1: expected an object"),
            std::string::npos);
  write_text(p, R"([{"text":"x","class":1)");
  EXPECT_NE(error_of([&] { read_sentiment_json(p); }).find(": not valid JSON"), std::string::npos);
  std::remove(p.c_str());
}

TEST(CsvReader, KeepsNumericColumnsAndNamesLineAndColumnOfBadValues) {
  const auto p = tmp("t.csv");
  write_text(p, "date,a,b,kind\r\n2020-01-01,1.5,2,x\r\n2020-01-02,-3,4e1,y\r\n");
  const auto t = read_numeric_csv(p);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[1], (std::vector<double>{-3, 40}));
  write_text(p, "date,a,b\n2020-01-01,1,2\n2020-01-02,oops,3\n");
  EXPECT_NE(
      error_of([&] { read_numeric_csv(p); }).find("line 3, column 'a': 'oops' is not a number"),
      std::string::npos);
  // A column of NaN was dropped silently (hardening review, finding 9); a NaN anywhere is
  // a missing value, refused with its place.
  write_text(p, "date,a,b\n2020-01-01,nan,2\n2020-01-02,nan,3\n");
  EXPECT_NE(error_of([&] { read_numeric_csv(p); }).find("line 2, column 'a': 'nan' is a missing"),
            std::string::npos)
      << error_of([&] { read_numeric_csv(p); });
  write_text(p, "date,a,b\n2020-01-01,1,2\n2020-01-02,4,-inf\n");
  EXPECT_NE(error_of([&] { read_numeric_csv(p); }).find("line 3, column 'b'"), std::string::npos);
  write_text(p, "date,a,b\n2020-01-01,1,2\n2020-01-02,3\n");
  EXPECT_NE(error_of([&] { read_numeric_csv(p); }).find("line 3: 2 fields, the header has 3"),
            std::string::npos);
  write_text(p, "");
  EXPECT_NE(error_of([&] { read_numeric_csv(p); }).find("empty file"), std::string::npos);
  std::remove(p.c_str());
}

TEST(RealData, SentimentHas3000SentencesAndSeattleWeather1461Days) {
  const auto s = find_dataset("sentiment", resolve_data_dir());
  const auto w = find_dataset("seattle-weather", resolve_data_dir());
  if (!s.present || !w.present)
    GTEST_SKIP() << "npm datasets not fetched: " << fetch_command("sentiment") << ", "
                 << fetch_command("seattle-weather");
  size_t n = 0, positive = 0;
  for (const char* f : {"imdb.json", "amazon.json", "yelp.json"}) {
    for (const auto& x : read_sentiment_json(s.path + "/" + f)) {
      ++n;
      positive += x.label == 1;
    }
  }
  EXPECT_EQ(n, 3000u);
  EXPECT_EQ(positive, 1500u);
  const auto t = read_numeric_csv(w.path + "/seattle-weather.csv");
  EXPECT_EQ(t.rows.size(), 1461u);
  EXPECT_EQ(t.columns, (std::vector<std::string>{"precipitation", "temp_max", "temp_min", "wind"}));
}

TEST(Datasets, MissingDataNamesTheFetchCommand) {
  const std::string dir = tmp("empty-data-dir");
  const auto msg = error_of([&] { require_dataset("sentiment", dir); });
  EXPECT_NE(msg.find("run `metaadamw data fetch sentiment`"), std::string::npos) << msg;
  EXPECT_THROW(find_dataset("mnist-of-galaxies", dir), ConfigError);
  EXPECT_EQ(resolve_data_dir("/x/y"), "/x/y");
  EXPECT_EQ(list_datasets(dir).size(), 5u);
}

TEST(RealData, FashionMnistHas60000TrainAnd10000TestImages) {
  const auto d = find_dataset("fashion-mnist", resolve_data_dir());
  if (!d.present)
    GTEST_SKIP() << "Fashion-MNIST not installed (" << fetch_command("fashion-mnist") << ")";
  const auto train = read_idx_split(d.path + "/train-images-idx3-ubyte.gz",
                                    d.path + "/train-labels-idx1-ubyte.gz");
  const auto test =
      read_idx_split(d.path + "/t10k-images-idx3-ubyte.gz", d.path + "/t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(train.count, 60000);
  EXPECT_EQ(test.count, 10000);
  EXPECT_EQ(train.height, 28);
  EXPECT_EQ(train.width, 28);
}

}  // namespace
}  // namespace maw::data
