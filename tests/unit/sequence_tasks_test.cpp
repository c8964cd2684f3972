// The sequence tasks: their models' masks and shapes on synthetic inputs, BLEU by hand,
// and — when the offline data is present — a tiny end-to-end run per task that learns,
// is deterministic, and gives AdamW and MetaAdamW the same start.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api/errors.h"
#include "api/session.h"
#include "data/datasets.h"
#include "data/vocab.h"
#include "nn/seq_models.h"
#include "tasks/sequence_tasks.h"

namespace maw {
namespace {

using data::Batch;

nn::TransformerSize small_size() {
  nn::TransformerSize z;
  z.dim = 16;
  z.heads = 2;
  z.ffn_hidden = 32;
  z.layers = 2;
  return z;
}

TEST(MiniGPT, IsCausal) {
  nn::MiniGPT m(50, 8, small_size(), 1);
  Batch a, b;
  a.x = torch::randint(4, 50, {2, 8}, torch::kLong);
  b.x = a.x.clone();
  b.x.index_put_({torch::indexing::Slice(), 5}, 7);  // change token 5
  auto ya = m.forward(m.ctx(false, false), a), yb = m.forward(m.ctx(false, false), b);
  EXPECT_EQ(ya.sizes(), (std::vector<int64_t>{2, 8, 50}));
  EXPECT_TRUE(torch::equal(ya.slice(1, 0, 5), yb.slice(1, 0, 5)));  // the past is unaffected
  EXPECT_FALSE(torch::allclose(ya.slice(1, 5), yb.slice(1, 5)));
}

TEST(Seq2Seq, SourcePaddingAndTargetPaddingDoNotLeak) {
  nn::Seq2SeqTransformer m(30, 40, 12, small_size(), 2, torch::kDouble);
  auto ctx = m.ctx(false, false);
  Batch a;
  a.x = torch::tensor({{5, 6, 7}}, torch::kLong);
  a.x_mask = torch::zeros({1, 3}, torch::kBool);
  const int64_t bos = data::Vocab::kBos, eos = data::Vocab::kEos;
  auto row = [](std::vector<int64_t> v) { return torch::tensor(v, torch::kLong).unsqueeze(0); };
  a.y = row({bos, 9, 10, eos});
  Batch b = a;  // the same pair with extra padding on both sides
  b.x = torch::tensor({{5, 6, 7, 0, 0}}, torch::kLong);
  b.x_mask = torch::tensor({{false, false, false, true, true}});
  b.y = row({bos, 9, 10, eos, 0, 0});
  auto ya = m.forward(ctx, a), yb = m.forward(ctx, b);
  EXPECT_EQ(ya.sizes(), (std::vector<int64_t>{1, 3, 40}));
  EXPECT_TRUE(torch::allclose(ya, yb.slice(1, 0, 3), 1e-12, 1e-12));
  // Greedy decoding stops within max_steps and returns ids without <bos>.
  auto out = m.greedy_decode(ctx, a.x, a.x_mask, 5);
  EXPECT_LE(out.size(1), 5);
  EXPECT_FALSE(out.eq(data::Vocab::kBos).any().item<bool>());
}

TEST(BiLSTMClassifier, PaddingDoesNotReachTheFinalStates) {
  nn::BiLSTMClassifier m(20, 6, 5, 2, 2, 0.0, 3, torch::kDouble);
  auto ctx = m.ctx(false, false);
  Batch a, b;
  a.x = torch::tensor({{4, 5, 6}}, torch::kLong);
  a.lengths = torch::tensor({3}, torch::kLong);
  b.x = torch::tensor({{4, 5, 6, 0, 0, 0}}, torch::kLong);
  b.lengths = a.lengths;
  EXPECT_TRUE(torch::allclose(m.forward(ctx, a), m.forward(ctx, b), 1e-12, 1e-12));
}

TEST(Forecaster, MapsAWindowToOneValue) {
  nn::TransformerForecaster m(4, 12, small_size(), 4);
  Batch b;
  b.x = torch::randn({3, 12, 4});
  EXPECT_EQ(m.forward(m.ctx(false, false), b).sizes(), (std::vector<int64_t>{3, 1}));
}

TEST(Bleu, CorpusBleuByHand) {
  // Identical corpora: 100. One sentence of 4 tokens with a 3-gram match out of two
  // 3-grams etc.: precisions 4/5, 3/4, 2/3, 1/2 with hypothesis 5 ≥ reference 4 tokens.
  EXPECT_NEAR(tasks::corpus_bleu({{1, 2, 3, 4, 5}}, {{1, 2, 3, 4, 5}}), 100.0, 1e-9);
  const double want = 100.0 * std::pow(4.0 / 5 * 3.0 / 4 * 2.0 / 3 * 1.0 / 2, 0.25);
  EXPECT_NEAR(tasks::corpus_bleu({{1, 2, 3, 4, 9}}, {{1, 2, 3, 4}}), want, 1e-9);
  EXPECT_EQ(tasks::corpus_bleu({{7, 8}}, {{1, 2, 3, 4}}), 0.0);  // no 4-gram: 0 (unsmoothed)
  // Brevity penalty: a 4-token hypothesis of an 8-token reference.
  const double bp = std::exp(1.0 - 8.0 / 4.0);
  EXPECT_NEAR(tasks::corpus_bleu({{1, 2, 3, 4}}, {{1, 2, 3, 4, 5, 6, 7, 8}}), 100.0 * bp, 1e-9);
}

// A tiny run of every sequence task on its offline data.
struct TaskCase {
  const char* task;
  const char* dataset;
};

void PrintTo(const TaskCase& c, std::ostream* os) {
  *os << c.task << " on " << c.dataset;
}

class SequenceTask : public ::testing::TestWithParam<TaskCase> {
 protected:
  RunConfig tiny(const char* optimizer) const {
    RunConfig c;
    c.set("task", GetParam().task);
    c.set("preset", "tiny");
    c.set("optimizer", optimizer);
    c.set("device", "cpu");
    c.set("threads", "1");
    c.set("meta_update_freq", "10");  // tiny runs still see meta-updates
    return c;
  }
  void SetUp() override {
    if (!find_dataset(GetParam().dataset, resolve_data_dir()).present)
      GTEST_SKIP() << GetParam().dataset << " not fetched: " << fetch_command(GetParam().dataset);
  }
};

class FirstLoss : public RunObserver {
 public:
  void on_step(const StepRecord& r) override {
    if (r.step == 1) first = r.loss;
  }
  double first = NAN;
};

TEST_P(SequenceTask, TinyRunLearnsIsDeterministicAndSharesItsStart) {
  std::map<std::string, double> first_loss;
  for (const char* opt : {"adamw", "metaadamw"}) {
    RunSummary s[2];
    for (int rep = 0; rep < 2; ++rep) {
      Session session(tiny(opt));
      FirstLoss fl;
      session.add_observer(&fl);
      s[rep] = session.run();
      first_loss[opt] = fl.first;
      ASSERT_EQ(s[rep].status, RunStatus::completed) << s[rep].message;
      EXPECT_LT(s[rep].final_train_loss, fl.first) << opt << ": the loss did not go down";
      EXPECT_TRUE(std::isfinite(s[rep].eval_metric));
      EXPECT_TRUE(std::isfinite(s[rep].naive_metric));
      EXPECT_FALSE(s[rep].naive_name.empty());
    }
    EXPECT_EQ(s[0].final_train_loss, s[1].final_train_loss) << opt << ": not deterministic";
    EXPECT_EQ(s[0].eval_metric, s[1].eval_metric);
    if (std::string(opt) == "metaadamw") {
      EXPECT_GE(s[0].meta_updates, 2);
    }
  }
  // The first step's loss is computed before any optimizer step: same init, same batch.
  EXPECT_EQ(first_loss["adamw"], first_loss["metaadamw"]);
}

INSTANTIATE_TEST_SUITE_P(AllTasks, SequenceTask,
                         ::testing::Values(TaskCase{"lm", "sotu"}, TaskCase{"translation", "bible"},
                                           TaskCase{"sentiment", "sentiment"},
                                           TaskCase{"forecasting", "seattle-weather"}),
                         [](const auto& p) { return std::string(p.param.task); });

TEST(SequenceTasks, TranslationReportsBleuAndPerplexityTasksTheirNaiveBaseline) {
  if (!find_dataset("bible", resolve_data_dir()).present)
    GTEST_SKIP() << "bible not installed: " << fetch_command("bible");
  RunConfig c;
  c.set("task", "translation");
  c.set("preset", "tiny");
  c.set("threads", "1");
  Session s(c);
  const auto r = s.run();
  ASSERT_EQ(r.eval_extras.size(), 1u);
  EXPECT_EQ(r.eval_extras[0].first, "bleu");
  EXPECT_GE(r.eval_extras[0].second, 0.0);
  EXPECT_LE(r.eval_extras[0].second, 100.0);
  EXPECT_NEAR(r.eval_metric, std::exp(r.eval_loss), 1e-9 * r.eval_metric);
  EXPECT_EQ(r.naive_name, "target unigram perplexity");
  EXPECT_GT(r.naive_metric, 1.0);
}

TEST(SequenceTasks, ModulatorTrainedOnOneTaskStartsARunOnAnother) {
  if (!find_dataset("seattle-weather", resolve_data_dir()).present ||
      !find_dataset("sotu", resolve_data_dir()).present)
    GTEST_SKIP() << "needs seattle-weather and sotu: " << fetch_command("seattle-weather") << ", "
                 << fetch_command("sotu");
  const std::string file = ::testing::TempDir() + "modulator_" + std::to_string(::getpid()) + ".pt";
  RunConfig a;
  a.set("task", "forecasting");
  a.set("preset", "tiny");
  a.set("optimizer", "metaadamw");
  a.set("meta_preset", "lm");  // the same modulator shape as the lm run below
  a.set("meta_update_freq", "5");
  a.set("threads", "1");
  a.set("export_modulator", file);
  ASSERT_EQ(Session(a).run().status, RunStatus::completed);
  RunConfig b;
  b.set("task", "lm");
  b.set("preset", "tiny");
  b.set("optimizer", "metaadamw");
  b.set("threads", "1");
  b.set("modulator", file);
  const auto with = Session(b).run();
  b.set("modulator", "");
  const auto without = Session(b).run();
  ASSERT_EQ(with.status, RunStatus::completed);
  // The transferred modulator changes the run (the encoder is shared; embeddings are not).
  EXPECT_NE(with.final_train_loss, without.final_train_loss);
  std::remove(file.c_str());
}

// The paper's data formats, on fixtures written here: WikiText-2 raw, Multi30k, aclImdb and
// an ETT CSV each train a tiny run.
class PaperFormats : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "paper_formats_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) {
    const auto p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  // Deterministic pseudo-text over a small vocabulary.
  static std::string words(int n, int seed) {
    static const char* vocab[] = {"the", "a", "cat", "dog", "sat", "on", "mat", "ran", ".", ","};
    std::string out;
    uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
    for (int i = 0; i < n; ++i) {
      x = x * 1664525u + 1013904223u;
      out += std::string(vocab[(x >> 16) % 10]) + (i % 12 == 11 ? "\n" : " ");
    }
    return out;
  }
  RunSummary run(const std::vector<std::pair<std::string, std::string>>& keys) {
    RunConfig c;
    c.set("preset", "tiny");
    c.set("threads", "1");
    c.set("steps", "8");
    for (const auto& [k, v] : keys) c.set(k, v);
    return Session(c).run();
  }
  std::string dir_;
};

TEST_F(PaperFormats, WikiTextMulti30kAclImdbAndEttEachTrain) {
  write("wikitext/wiki.train.raw", " = Title = \n" + words(3000, 1) + " <unk> ");
  write("wikitext/wiki.test.raw", words(800, 2));
  auto r =
      run({{"task", "lm"}, {"lm.dataset", "wikitext2"}, {"lm.wikitext_dir", dir_ + "/wikitext"}});
  EXPECT_EQ(r.status, RunStatus::completed) << r.message;
  EXPECT_TRUE(std::isfinite(r.eval_metric));

  std::string de, en;
  for (int i = 0; i < 60; ++i) {
    de += words(6, 100 + i) + "\n";
    en += words(7, 200 + i) + "\n";
  }
  write("multi30k/train.de", de);
  write("multi30k/train.en", en);
  write("multi30k/val.de", words(6, 7) + "\n" + words(5, 8) + "\n");
  write("multi30k/val.en", words(6, 9) + "\n" + words(5, 10) + "\n");
  r = run({{"task", "translation"},
           {"translation.dataset", "multi30k"},
           {"translation.multi30k_dir", dir_ + "/multi30k"}});
  EXPECT_EQ(r.status, RunStatus::completed) << r.message;
  ASSERT_EQ(r.eval_extras.size(), 1u);

  for (const char* split : {"train", "test"})
    for (int i = 0; i < 20; ++i) {
      write(std::string("aclImdb/") + split + "/pos/" + std::to_string(i) + "_9.txt",
            "great fun " + words(10, i));
      write(std::string("aclImdb/") + split + "/neg/" + std::to_string(i) + "_1.txt",
            "awful bore " + words(10, 50 + i));
    }
  r = run({{"task", "sentiment"},
           {"sentiment.dataset", "imdb"},
           {"sentiment.imdb_dir", dir_ + "/aclImdb"}});
  EXPECT_EQ(r.status, RunStatus::completed) << r.message;
  EXPECT_NEAR(r.naive_metric, 0.5, 1e-12);  // balanced classes

  std::string csv = "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n";
  for (int t = 0; t < 200; ++t) {
    const double s = std::sin(t * 0.3);
    csv += "2016-07-01 " + std::to_string(t) + ":00";
    for (int k = 0; k < 6; ++k) csv += "," + std::to_string(s * (k + 1) + 0.01 * t);
    csv += "," + std::to_string(20 + 5 * s) + "\n";
  }
  write("ETTh1.csv", csv);
  r = run({{"task", "forecasting"},
           {"forecasting.dataset", "ett"},
           {"forecasting.csv", dir_ + "/ETTh1.csv"}});
  EXPECT_EQ(r.status, RunStatus::completed) << r.message;
  EXPECT_EQ(r.metric_name, "mae");
  r.status = RunStatus::error;
  try {
    run({{"task", "forecasting"},
         {"forecasting.dataset", "ett"},
         {"forecasting.csv", dir_ + "/ETTh1.csv"},
         {"forecasting.target", "XX"}});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("columns: HUFL, HULL"), std::string::npos) << e.what();
  }
}

TEST(SequenceTasks, PaperFormatsNeedTheirFolderAndSayWhich) {
  RunConfig c;
  c.set("task", "lm");
  c.set("lm.dataset", "wikitext2");
  c.set("preset", "tiny");
  try {
    Session(c).run();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("lm.wikitext_dir"), std::string::npos);
  }
  c.set("lm.wikitext_dir", "/nonexistent");
  try {
    Session(c).run();
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("wiki.train.raw"), std::string::npos);
  }
}

}  // namespace
}  // namespace maw
