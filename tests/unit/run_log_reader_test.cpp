// RunLogReader: finished logs against what the observers saw, a growing file followed
// while it is written, and a corpus of bad files that must give a clear DataError (or,
// for damage the file format cannot detect, values) — never a crash.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "api/errors.h"
#include "api/log_schema.h"
#include "api/run_log.h"
#include "api/run_log_reader.h"
#include "api/session.h"
#include "log_fixtures.h"

namespace maw {
namespace {

std::string temp(const std::string& name) {
  return ::testing::TempDir() + "rlr_" + std::to_string(::getpid()) + "_" + name;
}

class Recorder : public RunObserver {
 public:
  void on_start(const RunInfo& i) override { info = i; }
  void on_step(const StepRecord& r) override { steps.push_back(r); }
  void on_eval(const EvalRecord& r) override { evals.push_back(r); }
  void on_snapshot(const Snapshot& s) override { snapshots.push_back(s); }
  void on_meta_update(const MetaUpdateRecord& r) override { metas.push_back(r); }
  RunInfo info;
  std::vector<StepRecord> steps;
  std::vector<EvalRecord> evals;
  std::vector<Snapshot> snapshots;
  std::vector<MetaUpdateRecord> metas;
};

// A logged MetaAdamW run on the synthetic task (shared by several tests).
const std::string& logged_run(Recorder* out = nullptr) {
  static const std::string path = temp("run.h5");
  static Recorder rec;
  static bool done = false;
  if (!done) {
    const auto c = testing::logged_metaadamw_config(60, 20, 1, 15);
    EXPECT_EQ(testing::run_logged(c, path, &rec).status, RunStatus::completed);
    done = true;
  }
  if (out) *out = rec;
  return path;
}

TEST(RunLogReader, ReadsEverySeriesOfAFinishedRunAsTheObserversSawIt) {
  Recorder rec;
  RunLogReader r(logged_run(&rec));
  EXPECT_EQ(r.schema_version(), logschema::kVersion);
  EXPECT_EQ(r.status(), "completed");
  EXPECT_FALSE(r.writer_alive());
  EXPECT_EQ(r.attribute("task"), "synthetic");
  EXPECT_EQ(r.attribute("optimizer"), "metaadamw");
  EXPECT_EQ(r.attribute("steps_done"), "60");
  EXPECT_EQ(r.attribute("attention_every"), "15");

  const auto loss = r.read("steps/loss");
  ASSERT_EQ(loss.size(), rec.steps.size());
  for (size_t i = 0; i < loss.size(); ++i) EXPECT_EQ(loss[i], rec.steps[i].loss);  // bitwise
  const auto part = r.read("steps/loss", 10, 5);
  ASSERT_EQ(part.size(), 5u);
  EXPECT_EQ(part[0], rec.steps[10].loss);
  EXPECT_EQ(r.read("steps/loss", 58, 100).size(), 2u);  // cut at the end
  EXPECT_EQ(r.read("steps/loss", 70).size(), 0u);       // past the end: nothing

  // Groups as RunInfo announced them.
  EXPECT_EQ(r.read_strings("groups/name"), rec.info.group_names);
  const auto sizes = r.read("groups/size");
  const auto members = r.read_strings("groups/members");
  ASSERT_EQ(sizes.size(), rec.info.group_sizes.size());
  for (size_t g = 0; g < sizes.size(); ++g) {
    EXPECT_EQ(sizes[g], static_cast<double>(rec.info.group_sizes[g]));
    EXPECT_EQ(members[g].substr(0, rec.info.group_members[g][0].size()),
              rec.info.group_members[g][0]);
  }
  // Shapes: one per member tensor, and their element counts add up to the group's size.
  const auto shapes = r.read_strings("groups/shapes");
  ASSERT_EQ(shapes.size(), sizes.size());
  for (size_t g = 0; g < shapes.size(); ++g) {
    const auto each = split_list(shapes[g], ';');
    ASSERT_EQ(each.size(), rec.info.group_members[g].size());
    double total = 0;
    for (const auto& shape : each) {
      double n = 1;
      if (shape != "()")
        for (const auto& d : split_list(shape, 'x')) n *= std::stod(d);
      total += n;
    }
    EXPECT_EQ(total, sizes[g]) << rec.info.group_names[g] << ": " << shapes[g];
  }

  // Snapshots every step; attention on steps 15, 30, 45, 60.
  const auto G = static_cast<uint64_t>(rec.info.group_names.size());
  const auto F = static_cast<uint64_t>(rec.info.feature_names.size());
  EXPECT_EQ(r.info("snapshots/features").shape, (std::vector<uint64_t>{60, G, F}));
  EXPECT_EQ(r.info("snapshots/features").axes, "snapshot,group,feature");
  EXPECT_EQ(r.read_strings("snapshots/feature_names"), rec.info.feature_names);
  const auto f37 = r.read("snapshots/features", 37, 1);
  ASSERT_EQ(f37.size(), G * F);
  for (size_t k = 0; k < f37.size(); ++k)
    EXPECT_EQ(f37[k], static_cast<double>(rec.snapshots[37].feature_values[k]));
  EXPECT_EQ(r.read("attention/step"), (std::vector<double>{15, 30, 45, 60}));
  const auto L = static_cast<uint64_t>(rec.info.modulator_layers);
  const auto H = static_cast<uint64_t>(rec.info.modulator_heads);
  EXPECT_EQ(r.info("attention/probs").shape, (std::vector<uint64_t>{4, L, H, G, G}));
  const auto att = r.read("attention/probs", 3, 1);  // step 60 = snapshot 59
  ASSERT_EQ(att.size(), rec.snapshots[59].attention.size());
  for (size_t k = 0; k < att.size(); ++k)
    EXPECT_EQ(att[k], static_cast<double>(rec.snapshots[59].attention[k]));

  // Meta-updates and events.
  ASSERT_EQ(r.rows("meta/step"), rec.metas.size());
  EXPECT_EQ(r.read("meta/total").back(), rec.metas.back().total);
  EXPECT_EQ(r.info("meta/huw_weights").shape, (std::vector<uint64_t>{rec.metas.size(), 3}));
  // The diagnostics (schema v2), NaN where the record holds NaN (a block the run lacks).
  const auto M = static_cast<uint64_t>(rec.metas.size());
  EXPECT_EQ(r.info("meta/grad_norm").shape, (std::vector<uint64_t>{M, 8}));
  EXPECT_EQ(r.info("meta/grad_norm").axes, "meta,block");
  EXPECT_EQ(r.info("meta/rel_change").shape, (std::vector<uint64_t>{M, 3}));
  EXPECT_EQ(r.info("meta/rel_change").axes, "meta,part");
  EXPECT_EQ(r.info("meta/at_bound").shape, (std::vector<uint64_t>{M, 4}));
  EXPECT_EQ(r.info("meta/at_bound").axes, "meta,factor");
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  const auto grad = r.read("meta/grad_norm"), change = r.read("meta/rel_change"),
             bound = r.read("meta/at_bound");
  for (size_t m = 0; m < rec.metas.size(); ++m) {
    for (size_t k = 0; k < 8; ++k)
      EXPECT_PRED2(same, grad[m * 8 + k], rec.metas[m].grad_norm[k]) << m << " " << k;
    for (size_t k = 0; k < 3; ++k)
      EXPECT_PRED2(same, change[m * 3 + k], rec.metas[m].rel_change[k]) << m << " " << k;
    for (size_t k = 0; k < 4; ++k)
      EXPECT_PRED2(same, bound[m * 4 + k], rec.metas[m].at_bound[k]) << m << " " << k;
  }
  EXPECT_EQ(r.attribute("modulator_design"), rec.info.modulator_design);
  const auto kinds = r.read_strings("events/kind");
  ASSERT_GE(kinds.size(), 2u);
  EXPECT_EQ(kinds.front(), "started");
  EXPECT_EQ(kinds.back(), "completed");
  EXPECT_EQ(r.rows("evals/metric"), rec.evals.size());

  // Clear errors for misuse.
  EXPECT_THROW(r.read("no/such"), DataError);
  EXPECT_THROW(r.read("events/kind"), DataError);
  EXPECT_THROW(r.read_strings("steps/loss"), DataError);
}

// A reader follows a file while the writer appends to it, and sees the final status.
// The writer creates from the codec table (api/log_schema.h) the same layout as the
// previous version wrote by hand: a fresh log of the golden log's run has its datasets,
// element types, inner shapes and axes (tests/corpus/log/v2-metaadamw-tiny.h5), and
// beyond them only the series the codec added since (a column's `since` > 2).
TEST(RunLogReader, TheCodecWritesThePreviousVersionsLayout) {
  const std::string golden =
      std::string(METAADAMW_SOURCE_DIR) + "/tests/corpus/log/v2-metaadamw-tiny.h5";
  const std::string path = testing::temp_path("codec_layout.h5");
  ASSERT_EQ(
      testing::run_logged(testing::logged_metaadamw_config(40, 20, 5, 10), path, nullptr).status,
      RunStatus::completed);
  auto layout = [](const std::string& file) {
    std::map<std::string, std::string> out;
    for (const auto& s : RunLogReader(file).series()) {
      std::string inner;
      for (size_t d = 1; d < s.shape.size(); ++d) inner += std::to_string(s.shape[d]) + " ";
      out[s.path] = s.type + " [" + inner + "] " + s.axes;
    }
    return out;
  };
  const auto want = layout(golden), got = layout(path);
  std::set<std::string> added;  // by schema versions after the golden log's
  for (const auto& c : logschema::steps().columns)
    if (c.since > 2) added.insert(std::string("steps/") + c.name);
  for (const auto& c : logschema::trajectory().columns)  // version 4, every optimizer
    added.insert(std::string("trajectory/") + c.name);
  for (const auto& c : logschema::final_parameters().columns)  // version 5, every optimizer
    added.insert(std::string("final/") + c.name);
  EXPECT_TRUE(added.count("steps/grad_norm"));
  EXPECT_TRUE(added.count("final/parameters"));
  EXPECT_TRUE(added.count("trajectory/coords"));
  EXPECT_EQ(got.size(), want.size() + added.size());
  for (const auto& [p, desc] : want) {
    const auto it = got.find(p);
    if (it == got.end())
      ADD_FAILURE() << p << " is missing";
    else
      EXPECT_EQ(it->second, desc) << p;
  }
  for (const auto& [p, desc] : got)
    EXPECT_TRUE(want.count(p) || added.count(p)) << p << " is new: " << desc;
  std::remove(path.c_str());
}

// docs/LOG_FORMAT.md's table of datasets is the codec table's (api/log_schema.h): a
// change to one without the other fails here, with the table to paste.
TEST(RunLogReader, TheLogFormatDocumentListsTheCodecTable) {
  std::ifstream in(std::string(METAADAMW_SOURCE_DIR) + "/docs/LOG_FORMAT.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string begin = "<!-- codec:datasets -->\n", end = "<!-- /codec -->";
  const size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos) << "LOG_FORMAT.md lacks " << begin;
  ASSERT_NE(b, std::string::npos) << "LOG_FORMAT.md lacks " << end;
  const std::string table = doc.substr(a + begin.size(), b - a - begin.size());
  const std::string want = logschema::datasets_markdown();
  if (table != want) {
    const std::string out = ::testing::TempDir() + "LOG_FORMAT.datasets.md";
    std::ofstream(out) << want;
    ADD_FAILURE() << "docs/LOG_FORMAT.md's dataset table differs from the codec's: the codec's "
                     "is in "
                  << out;
  }
}

TEST(RunLogReader, FollowsAGrowingFile) {
  const std::string path = temp("growing.h5");
  RunConfig c;
  auto w = make_run_log_writer(path, c, /*overwrite=*/true);
  RunInfo info;
  info.task = "synthetic";
  info.total_steps = 100;
  info.group_names = {"a", "b"};
  info.group_members = {{"a.weight"}, {"b.weight", "b.bias"}};
  info.group_sizes = {6, 4};
  w->on_start(info);
  w->on_event({RunEvent::Kind::Started, 0, ""});
  for (int64_t s = 1; s <= 10; ++s) w->on_step({s, 0, 1.0 / static_cast<double>(s)});
  // The writer flushes at least once a second: wait for the records to reach the file.
  auto wait_rows = [&](RunLogReader& r, uint64_t n) {
    for (int k = 0; k < 50 && r.rows("steps/loss") < n; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      r.refresh();
    }
    return r.rows("steps/loss");
  };
  std::unique_ptr<RunLogReader> r;
  for (int k = 0; k < 50 && !r; ++k) {  // the file becomes readable once SWMR starts
    try {
      r = std::make_unique<RunLogReader>(path);
    } catch (const DataError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), "running");
  EXPECT_TRUE(r->writer_alive());  // this process
  EXPECT_EQ(wait_rows(*r, 10), 10u);
  for (int64_t s = 11; s <= 25; ++s) w->on_step({s, 0, 1.0 / static_cast<double>(s)});
  EXPECT_EQ(wait_rows(*r, 25), 25u);
  const auto loss = r->read("steps/loss");
  EXPECT_EQ(loss[24], 1.0 / 25.0);
  RunSummary s;
  s.status = RunStatus::completed;
  s.steps = 25;
  w->on_finish(s);
  r->refresh();
  EXPECT_EQ(r->status(), "completed");
  EXPECT_EQ(r->attribute("steps_done"), "25");
  EXPECT_EQ(r->read_strings("groups/members")[1], "b.weight;b.bias");
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// An HDF5 file made with the C API: foreign (no schema) or ours with another version.
void write_hdf5(const std::string& path, const char* schema, int version, bool latest = true) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (latest) H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  hid_t scalar = H5Screate(H5S_SCALAR);
  if (schema) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, std::strlen(schema));
    hid_t a = H5Acreate2(f, "schema", t, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, schema);
    H5Aclose(a);
    H5Tclose(t);
    hid_t v = H5Acreate2(f, "schema_version", H5T_NATIVE_INT, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(v, H5T_NATIVE_INT, &version);
    H5Aclose(v);
  }
  hsize_t n = 4;
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t d = H5Dcreate2(f, "data", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const double v[4] = {1, 2, 3, 4};
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Dclose(d);
  H5Sclose(space);
  H5Sclose(scalar);
  H5Fclose(f);
}

std::string open_error(const std::string& path) {
  try {
    RunLogReader r(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(RunLogReader, BadFilesGiveAClearMessage) {
  EXPECT_NE(open_error(temp("missing.h5")).find("no such file"), std::string::npos);
  EXPECT_NE(open_error(::testing::TempDir()).find("is a directory"), std::string::npos);
  write_bytes(temp("empty.h5"), "");
  EXPECT_NE(open_error(temp("empty.h5")).find("not an HDF5 file"), std::string::npos);
  write_bytes(temp("text.h5"), "step,loss\n1,0.5\n");
  EXPECT_NE(open_error(temp("text.h5")).find("not an HDF5 file"), std::string::npos);
  write_hdf5(temp("foreign.h5"), nullptr, 0);
  EXPECT_NE(open_error(temp("foreign.h5")).find("not a MetaAdamW run log"), std::string::npos);
  write_hdf5(temp("old.h5"), "metaadamw-runlog", 1, /*latest=*/false);  // superblock v0
  EXPECT_NE(open_error(temp("old.h5")).find("superblock version 0"), std::string::npos)
      << open_error(temp("old.h5"));
  write_hdf5(temp("other.h5"), "someone-else", 1);
  EXPECT_NE(open_error(temp("other.h5")).find("not a MetaAdamW run log"), std::string::npos);
  write_hdf5(temp("newer.h5"), "metaadamw-runlog", RunLogReader::kSchemaVersion + 1);
  const auto newer = open_error(temp("newer.h5"));
  EXPECT_NE(newer.find("schema version " + std::to_string(RunLogReader::kSchemaVersion + 1)),
            std::string::npos)
      << newer;
  EXPECT_NE(newer.find("newer metaadamw"), std::string::npos) << newer;
  write_hdf5(temp("zero.h5"), "metaadamw-runlog", 0);
  EXPECT_NE(open_error(temp("zero.h5")).find("schema_version"), std::string::npos);

  // A finished log cut short: HDF5 knows the file's end address and says "truncated".
  const std::string good = read_bytes(logged_run());
  ASSERT_GT(good.size(), 12u);
  EXPECT_EQ(good[11], 0) << "the writer left the file open";  // superblock consistency flags
  for (const double keep : {0.9, 0.5, 0.1}) {
    const std::string cut = temp("cut.h5");
    write_bytes(cut, good.substr(0, static_cast<size_t>(keep * static_cast<double>(good.size()))));
    const auto e = open_error(cut);
    EXPECT_NE(e.find("damaged or truncated"), std::string::npos) << keep << ": " << e;
    EXPECT_NE(e.find(cut), std::string::npos) << e;  // names the file
  }
}

// Finding 6 of the hardening review: a log whose datasets declare shapes far beyond the
// file (10^9 group names, an attention series of ~10^14 elements) kept inspect and export
// busy for minutes while HDF5 filled in the missing rows. Now a read is refused at once.
TEST(RunLogReader, ShapesLargerThanTheFileAreRefused) {
  const std::string path = temp("huge.h5");
  write_bytes(path, read_bytes(logged_run()));
  {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    // groups/name: replaced by a dataset of 10^9 names that were never written.
    hid_t names = H5Dopen2(f, "groups/name", H5P_DEFAULT);
    ASSERT_GE(names, 0);
    hid_t type = H5Dget_type(names);
    H5Dclose(names);
    ASSERT_GE(H5Ldelete(f, "groups/name", H5P_DEFAULT), 0);
    const hsize_t billion = 1000000000;
    hid_t space = H5Screate_simple(1, &billion, nullptr);
    names = H5Dcreate2(f, "groups/name", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(names, 0);
    H5Dclose(names);
    H5Sclose(space);
    H5Tclose(type);
    // snapshots/attention: extended to 2·10^9 snapshots.
    hid_t d = H5Dopen2(f, "attention/probs", H5P_DEFAULT);
    ASSERT_GE(d, 0);
    space = H5Dget_space(d);
    std::vector<hsize_t> dims(static_cast<size_t>(H5Sget_simple_extent_ndims(space)));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    H5Sclose(space);
    dims[0] = 2000000000;
    ASSERT_GE(H5Dset_extent(d, dims.data()), 0);
    H5Dclose(d);
    H5Fclose(f);
  }
  RunLogReader r(path);
  EXPECT_EQ(r.rows("groups/name"), 1000000000u);  // the declared shape is shown as it is
  for (const char* name : {"groups/name", "attention/probs"}) {
    try {
      if (std::string(name) == "groups/name")
        r.read_strings(name);
      else
        r.read(name, 0, 1);
      ADD_FAILURE() << name << ": read";
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find("more than this"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(r.read("steps/loss").size(), 60u);  // the rest of the log still reads
}

// A log as schema v1 wrote it (no meta diagnostics, no modulator_design) still opens, and
// holds everything else.
TEST(RunLogReader, OpensASchemaV1Log) {
  const std::string v1 = temp("v1.h5");
  write_bytes(v1, read_bytes(logged_run()));
  ASSERT_TRUE(testing::downgrade_to_schema_v1(v1));
  RunLogReader r(v1);
  EXPECT_EQ(r.schema_version(), 1);
  EXPECT_EQ(r.status(), "completed");
  for (const char* p : {"meta/grad_norm", "meta/rel_change", "meta/at_bound"}) {
    EXPECT_FALSE(r.has(p)) << p;
    EXPECT_EQ(r.rows(p), 0u) << p;
  }
  EXPECT_EQ(r.attribute("modulator_design", "absent"), "absent");
  EXPECT_EQ(r.attribute("alpha_range"), "");
  RunLogReader v2(logged_run());
  EXPECT_EQ(r.read("meta/total"), v2.read("meta/total"));
  EXPECT_EQ(r.read("steps/loss"), v2.read("steps/loss"));
  EXPECT_EQ(r.read("snapshots/factors", 7, 1), v2.read("snapshots/factors", 7, 1));
}

// Flipped bytes all over a real log: every outcome is a value or a DataError. (The
// metadata of the v3 format is checksummed, so most damage is caught at open.)
TEST(RunLogReader, CorruptedBytesNeverCrashTheReader) {
  const std::string good = read_bytes(logged_run());
  std::mt19937_64 rng(7);
  int opened = 0, refused = 0;
  for (int trial = 0; trial < 150; ++trial) {
    std::string bad = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    const std::string path = temp("flip.h5");
    write_bytes(path, bad);
    try {
      RunLogReader r(path);
      ++opened;
      for (const auto& s : r.series()) {
        try {
          if (s.type == "string")
            r.read_strings(s.path, 0, 64);
          else
            r.read(s.path, 0, 64);
        } catch (const DataError&) {
        }
      }
      r.refresh();
    } catch (const DataError& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(opened + refused, 150);
  std::printf("corrupted logs: %d opened, %d refused with a message\n", opened, refused);
}

}  // namespace
}  // namespace maw
