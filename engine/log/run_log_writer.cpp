// HDF5 writer of docs/LOG_FORMAT.md. Engine thread: copy the record into a closure and
// queue it. Writer thread: run the closures against the open file, flush once a second.
//
// The file is written in SWMR mode (single writer, multiple readers): every object exists
// before the first record, data is only appended, and HDF5 orders its metadata writes so
// that a reader, or a crash at any moment, sees a consistent file holding every record
// flushed so far.
#include <H5Cpp.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "api/errors.h"
#include "api/log_schema.h"
#include "api/run_log.h"
#include "api/session.h"
#include "log/h5_tables.h"
#include "log/hdf5_lock.h"
#include "log/log_file_lock.h"

namespace maw {
namespace {

constexpr size_t kQueueCapacity = 4096;
constexpr size_t kStatusLen = 32;     // root attribute `status`, rewritten in place
constexpr size_t kSummaryLen = 1024;  // root attribute `message`

using runlog::attr;
using runlog::fixed_attr;
using runlog::kCompact;
using runlog::make_group;
using runlog::string_list;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Whether HDF5 has `path` open in this process (a reader, e.g. the studio's).
bool open_in_this_process(const std::string& path) {
  struct stat want;
  if (::stat(path.c_str(), &want) != 0) return false;
  const ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
  if (n <= 0) return false;
  std::vector<hid_t> ids(static_cast<size_t>(n));
  const ssize_t got = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, ids.size(), ids.data());
  for (ssize_t k = 0; k < got; ++k) {
    char name[4096] = {0};
    struct stat st;
    if (H5Fget_name(ids[static_cast<size_t>(k)], name, sizeof name - 1) > 0 &&
        ::stat(name, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
      return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& items, char sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : std::string(1, sep)) + s;
  return out;
}

class RunLogWriter : public RunObserver {
 public:
  RunLogWriter(const std::string& path, const RunConfig& config, bool overwrite)
      : path_(path), lock_(path, overwrite) {
    if (runlog::free_bytes(path) < runlog::min_free_bytes()) {
      char room[96];
      std::snprintf(room, sizeof room, "only %.1f MB free on its file system (a log keeps %.0f MB",
                    runlog::free_bytes(path) / 1e6, runlog::min_free_bytes() / 1e6);
      throw DataError("cannot create run log '" + path + "': " + room +
                      " free); free some space or log elsewhere");
    }
    std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
    try {
      H5::Exception::dontPrint();
      H5::FileAccPropList fapl;
      fapl.setLibverBounds(H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);  // SWMR needs the v3 format
      H5::FileCreatPropList fcpl;  // the root group's links and attributes: compact
      H5Pset_link_phase_change(fcpl.getId(), kCompact, kCompact - 16);
      H5Pset_attr_phase_change(fcpl.getId(), kCompact, kCompact - 16);
      file_ = H5::H5File(path, H5F_ACC_TRUNC, fcpl, fapl);
      H5::Group root = file_.openGroup("/");
      attr(root, "schema", logschema::kName);
      attr(root, "schema_version", logschema::kVersion, H5::PredType::NATIVE_INT32);
      attr(root, "tool_version", engine_version());
      attr(root, "libtorch_version", torch_version());
      attr(root, "cpu_kernels", cpu_kernels());
      attr(root, "config", config.to_json());
      attr(root, "start_time", utc_now());
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);
      attr(root, "host", host);
      attr(root, "writer_pid", static_cast<int64_t>(::getpid()), H5::PredType::NATIVE_INT64);
      fixed_attr(root, "status", "running", kStatusLen, true);
      fixed_attr(root, "message", "", kSummaryLen, true);
      attr(root, "steps_done", int64_t{0}, H5::PredType::NATIVE_INT64);
      // What logging cost: the writer thread's CPU time, the engine's time handing over.
      attr(root, "log_writer_cpu_s", 0.0, H5::PredType::NATIVE_DOUBLE);
      attr(root, "log_enqueue_s", 0.0, H5::PredType::NATIVE_DOUBLE);
      file_.flush(H5F_SCOPE_GLOBAL);
    } catch (const H5::Exception& e) {
      throw DataError("cannot create run log '" + path + "': " +
                      (open_in_this_process(path)
                           ? "this process has it open for reading (HDF5 cannot truncate "
                             "it); close it first"
                           : e.getDetailMsg()));
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~RunLogWriter() override { close(); }

  void on_start(const RunInfo& i) override {
    push([this, i] { create_all(i); });
  }

  void on_step(const StepRecord& r) override {
    EnqueueTimer timer(enqueue_ns_);
    push([this, r] {
      write_row(logschema::steps(), r);
      steps_ = r.step;
    });
  }

  void on_eval(const EvalRecord& r) override {
    EnqueueTimer timer(enqueue_ns_);
    push([this, r] {
      write_row(logschema::evals(), r);
      // Every declared extra gets a row (NaN when this evaluation lacks it), so that all
      // /evals series keep one length; undeclared extras have no dataset to go to.
      for (const auto& name : extras_) {
        double v = std::nan("");
        for (const auto& [n, x] : r.extras)
          if (n == name) v = x;
        tables_.at("evals/extra/" + name).append(&v);
      }
    });
  }

  void on_snapshot(const Snapshot& s) override {
    EnqueueTimer timer(enqueue_ns_);
    push([this, s] {
      if (!tables_.has("snapshots/step")) return;  // not announced in RunInfo
      write_row(logschema::snapshots(), s);
      if (!s.attention.empty() && tables_.has("attention/step"))
        write_row(logschema::attention(), s);
    });
  }

  void on_meta_update(const MetaUpdateRecord& r) override {
    append_if_announced(logschema::meta(), r);
  }
  void on_trajectory(const TrajectoryRecord& r) override {
    append_if_announced(logschema::trajectory(), r);
    if (!r.full.empty()) append_if_announced(logschema::trajectory_full(), r);
  }
  void on_landscape(const LandscapeRecord& r) override {
    append_if_announced(logschema::landscape(), r);
  }
  void on_final_parameters(const ParametersRecord& r) override {
    append_if_announced(logschema::final_parameters(), r);
  }

  // A record of an optional table, appended when the run announced it (RunInfo).
  template <class R>
  void append_if_announced(const logschema::Table<R>& t, const R& r) {
    EnqueueTimer timer(enqueue_ns_);
    push([this, &t, r] {
      if (tables_.has(std::string(t.folder) + "/step")) write_row(t, r);
    });
  }

  void on_event(const RunEvent& e) override {
    EnqueueTimer timer(enqueue_ns_);
    push([this, e] { event(e); });
  }

  void on_finish(const RunSummary& s) override {
    push([this, s] { write_status(name_of(s.status), with_stop_note(s.message), s.steps); }, true);
    finished_ = true;
    close();
  }

  void on_error(const std::string& message) override {
    push([this, message] { write_status("error", with_stop_note(message), steps_); }, true);
    finished_ = true;
    close();
  }

 private:
  // Every group and dataset of the schema, then SWMR: from here on only appends.
  void create_all(const RunInfo& i) {
    create_objects(i);  // every group handle closed on return
    tables_.close_all();
    file_.flush(H5F_SCOPE_GLOBAL);
    if (H5Fstart_swmr_write(file_.getId()) < 0)
      throw H5::FileIException("H5Fstart_swmr_write", "cannot start SWMR writing");
    tables_.reopen_all(file_);
  }

  void create_objects(const RunInfo& i) {
    H5::Group root = file_.openGroup("/");
    attr(root, "task", i.task);
    attr(root, "preset", i.preset);
    attr(root, "optimizer", i.optimizer);
    attr(root, "device", i.device);
    if (!i.cpu_convolution.empty()) attr(root, "cpu_convolution", i.cpu_convolution);
    attr(root, "seed", i.seed, H5::PredType::NATIVE_UINT64);
    attr(root, "metric_name", i.metric_name);
    attr(root, "metric_higher_is_better", static_cast<int8_t>(i.metric_higher_is_better),
         H5::PredType::NATIVE_INT8);
    attr(root, "total_steps", i.total_steps, H5::PredType::NATIVE_INT64);
    attr(root, "steps_per_epoch", i.steps_per_epoch, H5::PredType::NATIVE_INT64);
    attr(root, "num_parameters", i.num_parameters, H5::PredType::NATIVE_INT64);
    attr(root, "world_size", i.world_size, H5::PredType::NATIVE_INT64);
    if (!i.dist_backend.empty()) attr(root, "dist_backend", i.dist_backend);
    attr(root, "snapshot_every", i.snapshot_every, H5::PredType::NATIVE_INT64);
    attr(root, "attention_every", i.attention_every, H5::PredType::NATIVE_INT64);
    if (i.trajectory_directions > 0) {
      attr(root, "trajectory_directions", i.trajectory_directions, H5::PredType::NATIVE_INT64);
      attr(root, "trajectory_checksum", i.trajectory_checksum, H5::PredType::NATIVE_DOUBLE);
      attr(root, "trajectory_full_every", i.trajectory_full_every, H5::PredType::NATIVE_INT64);
      attr(root, "landscape_grid", i.landscape_grid, H5::PredType::NATIVE_INT64);
      attr(root, "trajectory_full_coordinates", i.trajectory_full_coordinates,
           H5::PredType::NATIVE_INT64);
    }
    if (!i.modulator_design.empty()) {
      attr(root, "modulator_design", i.modulator_design);
      attr(root, "alpha_range", i.alpha_range, H5::PredType::NATIVE_DOUBLE);
      attr(root, "beta_range", i.beta_range, H5::PredType::NATIVE_DOUBLE);
    }

    auto groups = make_group(file_, "groups");
    string_list(groups, "name", i.group_names);
    std::vector<std::string> members;
    for (const auto& m : i.group_members) members.push_back(joined(m, ';'));
    string_list(groups, "members", members);
    std::vector<std::string> shapes;
    for (const auto& m : i.group_shapes) shapes.push_back(joined(m, ';'));
    if (!shapes.empty()) string_list(groups, "shapes", shapes);
    hsize_t G = i.group_names.size();
    const auto i64 = H5::PredType::NATIVE_INT64;
    auto sizes = groups.createDataSet("size", i64, H5::DataSpace(1, &G));
    if (G > 0) sizes.write(i.group_sizes.data(), i64);

    const auto dims = logschema::dims_of(i);
    create_table(logschema::steps(), dims);
    auto evals = create_table(logschema::evals(), dims);
    auto extra = make_group(evals, "extra");
    extras_ = i.eval_extras;
    for (const auto& n : extras_)
      tables_.add("evals/extra/" + n, runlog::Series(extra, n, H5::PredType::NATIVE_DOUBLE, {},
                                                     logschema::evals().chunk_rows, "eval"));
    create_table(logschema::events(), dims);
    if (!i.feature_names.empty()) {  // MetaAdamW: snapshots, attention, meta-updates
      auto snaps = create_table(logschema::snapshots(), dims);
      string_list(snaps, "feature_names", i.feature_names);
      create_table(logschema::attention(), dims);
      create_table(logschema::meta(), dims);
    }
    if (i.trajectory_directions > 0) create_table(logschema::trajectory(), dims);
    if (i.trajectory_full_coordinates > 0) create_table(logschema::trajectory_full(), dims);
    if (i.landscape_grid > 0) create_table(logschema::landscape(), dims);
    if (i.final_parameters) create_table(logschema::final_parameters(), dims);
  }

  template <class R>
  H5::Group create_table(const logschema::Table<R>& t, const logschema::Dims& dims) {
    return tables_.create(file_, t, dims);
  }
  template <class R>
  void write_row(const logschema::Table<R>& t, const R& r) {
    tables_.write(t, r);
  }

  void write_status(const std::string& status, const std::string& message, int64_t steps) {
    H5::Group root = file_.openGroup("/");
    fixed_attr(root, "status", status, kStatusLen, false);
    fixed_attr(root, "message", message, kSummaryLen, false);
    attr(root, "steps_done", steps, H5::PredType::NATIVE_INT64, false);
    const int64_t cpu_ns =
        std::this_thread::get_id() == thread_.get_id() ? thread_cpu_ns() : writer_cpu_ns_;
    attr(root, "log_writer_cpu_s", 1e-9 * static_cast<double>(cpu_ns), H5::PredType::NATIVE_DOUBLE,
         false);
    attr(root, "log_enqueue_s", 1e-9 * static_cast<double>(enqueue_ns_.load()),
         H5::PredType::NATIVE_DOUBLE, false);
  }

  static int64_t thread_cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }

  // Engine-thread time of one observer call (copying the record, queueing it, waiting
  // under back-pressure), summed into log_enqueue_s.
  class EnqueueTimer {
   public:
    explicit EnqueueTimer(std::atomic<int64_t>& sum)
        : sum_(sum), t0_(std::chrono::steady_clock::now()) {}
    ~EnqueueTimer() {
      sum_ += std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - t0_)
                  .count();
    }

   private:
    std::atomic<int64_t>& sum_;
    std::chrono::steady_clock::time_point t0_;
  };

  void event(const RunEvent& e) {
    if (!tables_.has("events/step")) return;  // before on_start: nothing to record into
    write_row(logschema::events(), e);
  }

  // The summary's message, and why the log ends early when it does.
  std::string with_stop_note(const std::string& message) const {
    if (!disk_full_) return message;
    return (message.empty() ? "" : message + "; ") + "the log stopped at step " +
           std::to_string(steps_) + ": its file system is (nearly) full";
  }

  // `essential`: kept when the disk is full (the closing status), all others dropped then.
  void push(std::function<void()> job, bool essential = false) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= kQueueCapacity) {
      // Back-pressure: never drop a record; the engine waits, and the file says so.
      ++backpressure_;
      not_full_.wait(lock, [this] { return queue_.size() < kQueueCapacity || stop_; });
    }
    queue_.push_back({std::move(job), essential});
    not_empty_.notify_one();
  }

  void loop() {
    {
      std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
      H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are ours to say, once
    }
    auto last_flush = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point last_space_check{};
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      not_empty_.wait_for(lock, std::chrono::milliseconds(200),
                          [this] { return !queue_.empty() || stop_; });
      // Room on the disk, looked at once a second (first at once), before any write.
      const auto looked_at = std::chrono::steady_clock::now();
      if (!disk_full_ && looked_at - last_space_check >= std::chrono::seconds(1)) {
        last_space_check = looked_at;
        if (runlog::free_bytes(path_) < runlog::min_free_bytes()) {
          disk_full_ = true;  // from here on only the closing status is written
          if (error_.empty())
            error_ = "stopped at step " + std::to_string(steps_) +
                     ": under the free space a log keeps on its file system (the run went on "
                     "without it)";
        }
      }
      while (!queue_.empty()) {
        auto job = std::move(queue_.front());
        queue_.pop_front();
        not_full_.notify_one();
        const int64_t waits = backpressure_;
        backpressure_ = 0;
        lock.unlock();
        if (disk_full_ && !job.essential) {
          lock.lock();
          continue;
        }
        try {
          std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
          job.run();
          if (waits > 0)
            event({RunEvent::Kind::Backpressure, -1,
                   std::to_string(waits) + " records waited for a full log queue"});
        } catch (const H5::Exception& e) {
          if (error_.empty()) error_ = e.getFuncName() + ": " + e.getDetailMsg();
        }
        lock.lock();
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_flush >= std::chrono::seconds(1) || stop_) {
        lock.unlock();
        try {
          std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
          file_.flush(H5F_SCOPE_GLOBAL);
        } catch (const H5::Exception& e) {
          if (error_.empty()) error_ = "flush: " + e.getDetailMsg();
        }
        lock.lock();
        last_flush = now;
      }
      writer_cpu_ns_ = thread_cpu_ns();
      if (stop_ && queue_.empty()) break;
    }
  }

  void close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      stop_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> hdf5(runlog::hdf5_mutex());
    try {
      // Closed without on_finish: the run threw (bad data, an error mid-run).
      if (!finished_) write_status("aborted", "the run ended without a summary", steps_);
    } catch (const H5::Exception& e) {
      if (error_.empty()) error_ = e.getDetailMsg();
    }
    tables_.clear();
    try {
      file_.close();
    } catch (const H5::Exception& e) {
      if (error_.empty()) error_ = e.getDetailMsg();
    }
    // An observer cannot fail the run; a write error is said once, loudly.
    if (!error_.empty())
      std::fprintf(stderr, "metaadamw: run log '%s': write failed: %s\n", path_.c_str(),
                   error_.c_str());
  }

  std::string path_;
  runlog::LogFileLock lock_;  // released after file_ is closed (members die in reverse)
  H5::H5File file_;
  runlog::Tables tables_;
  std::vector<std::string> extras_;
  int64_t steps_ = 0;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  struct Job {
    std::function<void()> run;
    bool essential = false;
  };
  std::deque<Job> queue_;
  bool disk_full_ = false;  // writer thread only
  int64_t backpressure_ = 0;
  std::atomic<int64_t> enqueue_ns_{0};
  int64_t writer_cpu_ns_ = 0;
  bool stop_ = false, closed_ = false, finished_ = false;
  std::string error_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<RunObserver> make_run_log_writer(const std::string& path, const RunConfig& config,
                                                 bool overwrite) {
  return std::make_unique<RunLogWriter>(path, config, overwrite);
}

}  // namespace maw
