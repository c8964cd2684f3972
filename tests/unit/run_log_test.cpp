// The HDF5 run log: a MetaAdamW run logged to a file, read back with the HDF5 C++ API
// (independently of the writer) and compared with what the observers saw.
#include <H5Cpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "api/errors.h"
#include "api/run_log.h"
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
  ASSERT_EQ(summary.status, "completed");

  H5::H5File f(path, H5F_ACC_RDONLY);
  EXPECT_EQ(read_string_attr(f, "schema"), "metaadamw-runlog");
  EXPECT_EQ(read_string_attr(f, "task"), "synthetic");
  EXPECT_EQ(read_string_attr(f, "optimizer"), "metaadamw");
  EXPECT_EQ(read_string_attr(f, "status"), "completed");
  EXPECT_NE(read_string_attr(f, "config").find("\"meta_update_freq\": 10"), std::string::npos);
  int32_t version = 0;
  f.openGroup("/").openAttribute("schema_version").read(H5::PredType::NATIVE_INT32, &version);
  EXPECT_EQ(version, 2);

  const auto loss = read_all<double>(f, "steps/loss", H5::PredType::NATIVE_DOUBLE);
  const auto step = read_all<int64_t>(f, "steps/step", H5::PredType::NATIVE_INT64);
  ASSERT_EQ(loss.size(), rec.steps.size());
  for (size_t i = 0; i < loss.size(); ++i) {
    EXPECT_EQ(loss[i], rec.steps[i].loss);  // bitwise
    EXPECT_EQ(step[i], rec.steps[i].step);
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

TEST(RunLog, AnUnwritablePathFailsBeforeTraining) {
  RunConfig c;
  try {
    make_run_log_writer("/nonexistent-dir/run.h5", c);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create run log '/nonexistent-dir/run.h5'"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace maw
