// Text-corpus readers and the tokenizer on fixtures the tests write (well-formed and
// malformed), and the real offline corpora's counts when they are present.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api/errors.h"
#include "data/corpus_readers.h"
#include "data/datasets.h"
#include "data/text_readers.h"
#include "data/vocab.h"

namespace maw::data {
namespace {
namespace fs = std::filesystem;

std::string fresh_dir(const std::string& name) {
  const std::string d = ::testing::TempDir() + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_file(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}

void put32(std::string& s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}

// A ztext testament: verses in blocks of two, each block zlib-compressed.
void write_ztext(const std::string& base, const std::vector<std::string>& verses) {
  std::string bzs, bzv, bzz;
  for (size_t b = 0; b * 2 < verses.size(); ++b) {
    std::string block;
    for (size_t i = 2 * b; i < std::min(verses.size(), 2 * b + 2); ++i) {
      put32(bzv, static_cast<uint32_t>(b));
      put32(bzv, static_cast<uint32_t>(block.size()));
      bzv += static_cast<char>(verses[i].size() & 0xff);
      bzv += static_cast<char>(verses[i].size() >> 8);
      block += verses[i];
    }
    uLongf clen = compressBound(block.size());
    std::string comp(clen, '\0');
    compress(reinterpret_cast<Bytef*>(comp.data()), &clen,
             reinterpret_cast<const Bytef*>(block.data()), block.size());
    comp.resize(clen);
    put32(bzs, static_cast<uint32_t>(bzz.size()));
    put32(bzs, static_cast<uint32_t>(clen));
    put32(bzs, static_cast<uint32_t>(block.size()));
    bzz += comp;
  }
  write_file(base + ".bzs", bzs);
  write_file(base + ".bzv", bzv);
  write_file(base + ".bzz", bzz);
}

TEST(TextDir, ReadsSortedDocumentsAndRejectsBinaryOrEmptyFiles) {
  const auto d = fresh_dir("sotu");
  write_file(d + "/1791_b.txt", "second");
  write_file(d + "/1790_a.txt", "first speech");
  write_file(d + "/notes.md", "ignored");
  const auto docs = read_text_dir(d);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].name, "1790_a.txt");
  EXPECT_EQ(docs[1].text, "second");
  write_file(d + "/1792_c.txt", std::string("ab\0cd", 5));
  EXPECT_NE(error_of([&] { read_text_dir(d); }).find("1792_c.txt: byte 2: NUL byte"),
            std::string::npos);
  write_file(d + "/1792_c.txt", "");
  EXPECT_NE(error_of([&] { read_text_dir(d); }).find("1792_c.txt: empty file"), std::string::npos);
  EXPECT_NE(error_of([&] { read_text_dir(d + "/none"); }).find("not a folder"), std::string::npos);
  const auto e = fresh_dir("sotu_empty");
  EXPECT_NE(error_of([&] { read_text_dir(e); }).find("no *.txt files"), std::string::npos);
}

TEST(SwordZtext, ReadsVersesBySlotAndAlignsTwoModules) {
  const auto d = fresh_dir("sword");
  write_ztext(d + "/en/ot", {"", "<title>Genesis</title>",
                             "In the <w lemma=\"x\">beginning</w><note n=\"a\">a note</note>.",
                             "Tom &amp; Jerry", ""});
  write_ztext(d + "/en/nt", {"The book"});
  write_ztext(d + "/es/ot", {"", "<title>Génesis</title>", "En el principio.", "", "Extra"});
  write_ztext(d + "/es/nt", {"El libro"});
  const auto en = read_sword_ztext(d + "/en"), es = read_sword_ztext(d + "/es");
  ASSERT_EQ(en.size(), 6u);
  EXPECT_EQ(strip_osis_markup(en[2]), "In the beginning .");
  EXPECT_EQ(strip_osis_markup(en[3]), "Tom & Jerry");
  const auto pairs = align_verses(es, en);  // empty sides and headings dropped
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0],
            (std::pair<std::string, std::string>{"En el principio.", "In the beginning ."}));
  EXPECT_EQ(pairs[1].first, "El libro");
}

TEST(SwordZtext, MalformedModulesNameFileAndRecord) {
  const auto d = fresh_dir("sword_bad");
  write_ztext(d + "/m/ot", {"a", "b", "c"});
  const std::string base = d + "/m/ot";
  auto bytes = [](const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string bzv = bytes(base + ".bzv"), bzs = bytes(base + ".bzs"),
                    bzz = bytes(base + ".bzz");
  write_file(base + ".bzv", bzv.substr(0, 25));
  EXPECT_NE(
      error_of([&] { read_sword_ztext(d + "/m"); }).find("ot.bzv: size 25 is not a multiple of 10"),
      std::string::npos);
  std::string far = bzv;
  far[20] = 9;  // record 2 points at block 9
  write_file(base + ".bzv", far);
  EXPECT_NE(
      error_of([&] { read_sword_ztext(d + "/m"); }).find("ot.bzv: record 2: block 9 out of range"),
      std::string::npos);
  write_file(base + ".bzv", bzv);
  std::string junk = bzz;
  for (size_t i = 2; i < junk.size(); ++i) junk[i] = static_cast<char>(0x5a);
  write_file(base + ".bzz", junk);
  EXPECT_NE(error_of([&] {
              read_sword_ztext(d + "/m");
            }).find("ot.bzz: byte 0: block 0 is not a valid zlib"),
            std::string::npos);
  write_file(base + ".bzz", bzz.substr(0, 4));
  EXPECT_NE(error_of([&] { read_sword_ztext(d + "/m"); }).find("runs past the end"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_sword_ztext(d + "/nothing"); }).find("no SWORD ztext module"),
            std::string::npos);
}

TEST(AclImdb, ReadsPosAndNegFoldersAndNamesMissingOnes) {
  const auto d = fresh_dir("aclImdb");
  write_file(d + "/train/pos/0_9.txt", "Great film.");
  write_file(d + "/train/pos/1_8.txt", "Loved it.");
  write_file(d + "/train/neg/0_2.txt", "Dull.");
  const auto t = read_aclimdb(d, "train");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].label, 0);
  EXPECT_EQ(t[2].text, "Loved it.");
  EXPECT_NE(error_of([&] { read_aclimdb(d, "test"); }).find("test/neg: not a folder"),
            std::string::npos);
}

TEST(ParallelText, AlignsLinesAndRejectsMismatchedFiles) {
  const auto d = fresh_dir("multi30k");
  write_file(d + "/train.de", "Ein Hund.\r\nZwei Katzen.\n");
  write_file(d + "/train.en", "A dog.\nTwo cats.\n");
  const auto p = read_parallel_text(d + "/train.de", d + "/train.en");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], (std::pair<std::string, std::string>{"Ein Hund.", "A dog."}));
  write_file(d + "/val.de", "a\nb\nc\n");
  write_file(d + "/val.en", "a\nb\n");
  EXPECT_NE(
      error_of([&] { read_parallel_text(d + "/val.de", d + "/val.en"); }).find("2 lines, but"),
      std::string::npos);
  write_file(d + "/val.en", "a\n\nc\n");
  EXPECT_NE(error_of([&] { read_parallel_text(d + "/val.de", d + "/val.en"); }).find("line 2"),
            std::string::npos);
}

TEST(EttCsv, TheDateColumnIsSkippedAndOtIsKept) {
  const auto d = fresh_dir("ett");
  write_file(d + "/ETTh1.csv",
             "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n"
             "2016-07-01 00:00:00,5.827,2.009,1.599,0.462,4.203,1.340,30.531\n"
             "2016-07-01 01:00:00,5.693,2.076,1.492,0.426,4.142,1.371,27.787\n");
  const auto t = read_numeric_csv(d + "/ETTh1.csv");
  EXPECT_EQ(t.columns.back(), "OT");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_DOUBLE_EQ(t.rows[1][6], 27.787);
}

TEST(Vocab, TokenizesLowercaseWordsAndPunctuationAndCapsBySize) {
  EXPECT_EQ(tokenize("The dog's bone, ÁRBOL!"),
            (std::vector<std::string>{"the", "dog's", "bone", ",", "Árbol", "!"}));
  const auto v = Vocab::build({{"a", "b", "a"}, {"c", "a", "b"}}, 6);
  EXPECT_EQ(v.size(), 6);
  EXPECT_EQ(v.token(4), "a");  // most frequent first, after the four specials
  EXPECT_EQ(v.id("b"), 5);
  EXPECT_EQ(v.id("c"), Vocab::kUnk);  // over the cap
  EXPECT_EQ(v.encode({"a", "zzz"}), (std::vector<int64_t>{4, Vocab::kUnk}));
}

TEST(RealData, BibleAlignsAbout31kVersePairsAndSotuHas233Speeches) {
  const auto b = find_dataset("bible", resolve_data_dir());
  const auto s = find_dataset("sotu", resolve_data_dir());
  if (!b.present || !s.present)
    GTEST_SKIP() << "corpora not fetched: " << fetch_command("bible") << ", "
                 << fetch_command("sotu");
  const auto en = read_sword_ztext(b.path + "/engKJV2006eb");
  const auto es = read_sword_ztext(b.path + "/spaRV1909eb");
  EXPECT_EQ(en.size(), es.size());  // one versification
  const auto pairs = align_verses(es, en);
  EXPECT_EQ(pairs.size(), 31084u);  // verse slots with text on both sides
  const auto docs = read_text_dir(s.path);
  EXPECT_EQ(docs.size(), 233u);
  EXPECT_EQ(docs.front().name, "1790_george_washington_n.txt");
}

}  // namespace
}  // namespace maw::data
