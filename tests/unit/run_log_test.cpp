// The HDF5 run log: a MetaAdamW run logged to a file, read back with the HDF5 C++ API
// (independently of the writer) and compared with what the observers saw.
#include <H5Cpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api/errors.h"
#include "api/log_schema.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/session.h"
#include "log_fixtures.h"

namespace maw {
namespace {

class Recorder : public RunObserver {
 public:
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_eval(const EvalRecord& r) override { evals.push_back(r); }
  void on_snapshot(const Snapshot& s) override { snapshots.push_back(s); }
  void on_meta_update(const MetaUpdateRecord& r) override { metas.push_back(r); }
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;
  std::vector<Snapshot> snapshots;
  std::vector<MetaUpdateRecord> metas;
};

std::string read_string_attr(const H5::H5File& f, const std::string& name) {
  auto a = f.openGroup("/").openAttribute(name);
  std::string v;
  a.read(a.getStrType(), v);
  return v.substr(0, v.find('\0'));  // fixed-length attributes are NUL-padded
}

template <class T>
std::vector<T> read_all(const H5::H5File& f, const std::string& path, const H5::PredType& type,
                        std::vector<hsize_t>* dims_out = nullptr) {
  auto ds = f.openDataSet(path);
  auto space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(dims.data());
  size_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<T> out(n);
  if (n) ds.read(out.data(), type);
  if (dims_out) *dims_out = dims;
  return out;
}

TEST(RunLog, EveryRecordOfAMetaAdamWRunIsInTheFile) {
  const std::string path = ::testing::TempDir() + "runlog_" + std::to_string(::getpid()) + ".h5";
  Recorder rec;
  const auto summary = testing::run_logged(testing::logged_metaadamw_config(40, 10, 5), path, &rec);
  ASSERT_EQ(summary.status, RunStatus::completed);

  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(read_string_attr(f, "schema"), "metaadamw-runlog");
  EXPECT_EQ(read_string_attr(f, "task"), "synthetic");
  EXPECT_EQ(read_string_attr(f, "optimizer"), "metaadamw");
  EXPECT_EQ(read_string_attr(f, "status"), "completed");
  EXPECT_NE(read_string_attr(f, "config").find("\"meta_update_freq\": 10"), std::string::npos);
  int32_t version = 0;
  f.openGroup("/").openAttribute("schema_version").read(H5::PredType::NATIVE_INT32, &version);
  EXPECT_EQ(version, logschema::kVersion);

  const auto loss = read_all<double>(f, "steps/loss", H5::PredType::NATIVE_DOUBLE);
  const auto step = read_all<int64_t>(f, "steps/step", H5::PredType::NATIVE_INT64);
  ASSERT_EQ(loss.size(), rec.steps.size());
  const auto grad_norm = read_all<double>(f, "steps/grad_norm", H5::PredType::NATIVE_DOUBLE);
  ASSERT_EQ(grad_norm.size(), rec.steps.size());
  for (size_t i = 0; i < loss.size(); ++i) {
    EXPECT_EQ(loss[i], rec.steps[i].loss);  // bitwise
    EXPECT_EQ(step[i], rec.steps[i].step);
    EXPECT_EQ(grad_norm[i], rec.steps[i].grad_norm);
    EXPECT_GT(grad_norm[i], 0.0);
  }
  const auto metric = read_all<double>(f, "evals/metric", H5::PredType::NATIVE_DOUBLE);
  ASSERT_EQ(metric.size(), rec.evals.size());
  EXPECT_EQ(metric.back(), rec.evals.back().metric);

  std::vector<hsize_t> dims;
  const auto factors = read_all<float>(f, "snapshots/factors", H5::PredType::NATIVE_FLOAT, &dims);
  ASSERT_EQ(rec.snapshots.size(), 8u);  // every 5 of 40 steps
  const auto& last = rec.snapshots.back();
  EXPECT_EQ(dims, (std::vector<hsize_t>{8, static_cast<hsize_t>(last.groups), 4}));
  EXPECT_TRUE(std::equal(last.factors.begin(), last.factors.end(),
                         factors.end() - static_cast<long>(last.factors.size())));
  // attention_every=10 (default): on the snapshot steps 10, 20, 30, 40.
  const auto att_step = read_all<int64_t>(f, "attention/step", H5::PredType::NATIVE_INT64);
  EXPECT_EQ(att_step, (std::vector<int64_t>{10, 20, 30, 40}));
  read_all<float>(f, "attention/probs", H5::PredType::NATIVE_FLOAT, &dims);
  EXPECT_EQ(dims, (std::vector<hsize_t>{
                      4, static_cast<hsize_t>(last.layers), static_cast<hsize_t>(last.heads),
                      static_cast<hsize_t>(last.groups), static_cast<hsize_t>(last.groups)}));
  read_all<float>(f, "snapshots/features", H5::PredType::NATIVE_FLOAT, &dims);
  EXPECT_EQ(dims[2], static_cast<hsize_t>(last.features));
  const auto meta_step = read_all<int64_t>(f, "meta/step", H5::PredType::NATIVE_INT64);
  ASSERT_EQ(meta_step.size(), rec.metas.size());
  EXPECT_EQ(meta_step.size(), 4u);
  const auto kinds = f.openDataSet("events/kind");
  hsize_t nk = 0;
  kinds.getSpace().getSimpleExtentDims(&nk);
  EXPECT_GE(nk, 2u);  // started … completed
  std::remove(path.c_str());
}

// What the writer's constructor refuses, and how.
template <class E>
std::string refusal(const std::string& path, bool overwrite = false) {
  try {
    make_run_log_writer(path, RunConfig(), overwrite);
  } catch (const E& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(RunLog, AnUnusablePathFailsBeforeTraining) {
  const std::string dir = ::testing::TempDir() + "maw_log_paths_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  struct Case {
    std::string path, fragment;
  };
  const std::vector<Case> cases = {
      {"/nonexistent-dir/run.h5", "its folder '/nonexistent-dir' does not exist"},
      {dir, "is a directory"},
      {"/dev/null", "not a regular file"},
      {dir + "/" + std::string(300, 'x') + ".h5", "too long"},
      {"", "an empty file name"},
  };
  for (const auto& c : cases) {
    const auto e = refusal<ConfigError>(c.path);
    EXPECT_NE(e.find(c.fragment), std::string::npos) << c.path << ": " << e;
    EXPECT_NE(e.find("cannot create run log"), std::string::npos) << e;
  }
  std::filesystem::remove_all(dir);
}

// finding 4 of the hardening review: --log onto an existing log replaced it silently.
TEST(RunLog, AnExistingLogIsKeptUnlessOverwriteIsSaid) {
  const std::string path = testing::temp_path("kept.h5");
  std::remove(path.c_str());
  RunConfig c = testing::logged_metaadamw_config(6, 3, 2, 2);
  testing::run_logged(c, path, nullptr);
  const auto size = std::filesystem::file_size(path);
  const auto e = refusal<ConfigError>(path);
  EXPECT_NE(e.find("already exists"), std::string::npos) << e;
  EXPECT_NE(e.find("--overwrite"), std::string::npos) << e;
  EXPECT_EQ(std::filesystem::file_size(path), size);  // untouched
  EXPECT_EQ(RunLogReader(path).status(), "completed");
  // With overwrite the file is replaced; an empty file (e.g. from mktemp) holds nothing to
  // lose and is taken without it.
  { auto w = make_run_log_writer(path, RunConfig(), /*overwrite=*/true); }
  EXPECT_EQ(RunLogReader(path).status(), "aborted");
  std::ofstream(path, std::ios::trunc).close();
  { auto w = make_run_log_writer(path, RunConfig()); }
  EXPECT_EQ(RunLogReader(path).status(), "aborted");
  std::remove(path.c_str());
}

// finding 3: two writers on one path both "succeeded" and left a damaged file. The lock
// is per open file, so a second writer in this very process is refused too.
TEST(RunLog, ASecondWriterIsRefusedWithThePidThatHoldsTheLog) {
  const std::string path = testing::temp_path("locked.h5");
  std::remove(path.c_str());
  RunConfig c = testing::logged_metaadamw_config(8, 4, 2, 2);
  Session session(c);
  auto first = make_run_log_writer(path, session.config());
  for (const bool overwrite : {false, true}) {
    const auto e = refusal<DataError>(path, overwrite);
    EXPECT_NE(e.find("in use by pid " + std::to_string(getpid())), std::string::npos) << e;
  }
  session.add_observer(first.get());
  EXPECT_EQ(session.run().status, RunStatus::completed);
  first.reset();
  {
    RunLogReader r(path);  // the first writer's log, whole
    EXPECT_EQ(r.status(), "completed");
    EXPECT_EQ(r.rows("steps/loss"), 8u);
    // HDF5 cannot truncate a file this process reads: said so.
    EXPECT_NE(refusal<DataError>(path, true).find("open for reading"), std::string::npos)
        << refusal<DataError>(path, true);
  }
  // Released at close: the path can be written again (with overwrite).
  { auto again = make_run_log_writer(path, RunConfig(), /*overwrite=*/true); }
  std::remove(path.c_str());
}

// A file system that fills up during a run: the log stops taking records (a write that
// meets a full disk leaves HDF5 unable to close the file), the run goes on, and the file
// closes cleanly with the reason in its message. The disk is made to look full.
TEST(RunLog, AFullFileSystemStopsTheLogNotTheRun) {
  const std::string path = testing::temp_path("full.h5");
  std::remove(path.c_str());
  RunConfig c = testing::logged_metaadamw_config(300, 100, 1, 10);
  Session session(c);
  auto w = make_run_log_writer(path, session.config());
  ::setenv("METAADAMW_LOG_MIN_FREE_MB", "1e12", 1);  // more than any disk has
  session.add_observer(w.get());
  const auto summary = session.run();
  w.reset();
  ::unsetenv("METAADAMW_LOG_MIN_FREE_MB");
  EXPECT_EQ(summary.status, RunStatus::completed);
  EXPECT_EQ(summary.steps, 300);
  RunLogReader r(path);
  EXPECT_EQ(r.status(), "completed");
  EXPECT_NE(r.attribute("message").find("the log stopped at step"), std::string::npos)
      << r.attribute("message");
  EXPECT_LT(r.rows("steps/loss"), 300u);
  // And a log is not even started on a disk without the room.
  ::setenv("METAADAMW_LOG_MIN_FREE_MB", "1e12", 1);
  const auto e = refusal<DataError>(testing::temp_path("nospace.h5"));
  ::unsetenv("METAADAMW_LOG_MIN_FREE_MB");
  EXPECT_NE(e.find("MB free on its file system"), std::string::npos) << e;
  std::remove(path.c_str());
}

// A run that fails mid-way (here: a damaged checkpoint to resume from) leaves a log whose
// status says "error" with the one-line reason.
TEST(RunLog, ARunThatFailsLeavesItsReasonInTheLog) {
  const std::string path = testing::temp_path("failed.h5");
  const std::string ckpt = testing::temp_path("damaged.pt");
  std::ofstream(ckpt, std::ios::binary) << "PK\x03\x04 not really a checkpoint";
  RunConfig c = testing::logged_metaadamw_config(6, 3, 2, 2);
  c.set("resume", ckpt);
  EXPECT_THROW(testing::run_logged(c, path, nullptr), DataError);
  RunLogReader r(path);
  EXPECT_EQ(r.status(), "error");
  EXPECT_NE(r.attribute("message").find(ckpt), std::string::npos) << r.attribute("message");
  EXPECT_EQ(r.attribute("message").find("frame #"), std::string::npos);
  std::remove(path.c_str());
  std::remove(ckpt.c_str());
}

}  // namespace
}  // namespace maw
