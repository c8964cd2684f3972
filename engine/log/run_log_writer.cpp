// HDF5 writer of docs/LOG_FORMAT.md. Engine thread: copy the record into a closure and
// queue it. Writer thread: run the closures against the open file, flush once a second.
#include <H5Cpp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "api/errors.h"
#include "api/run_log.h"
#include "api/session.h"

namespace maw {
namespace {

constexpr int kSchemaVersion = 1;
constexpr size_t kQueueCapacity = 4096;

// An extendible dataset [n, inner...] of one type, appended along the first axis.
class Series {
 public:
  Series() = default;
  Series(H5::Group& g, const std::string& name, const H5::DataType& type,
         std::vector<hsize_t> inner, hsize_t chunk_rows)
      : type_(type), inner_(std::move(inner)) {
    std::vector<hsize_t> dims = {0}, maxdims = {H5S_UNLIMITED}, chunk = {chunk_rows};
    for (hsize_t d : inner_) {
      dims.push_back(d);
      maxdims.push_back(d);
      chunk.push_back(d);
    }
    H5::DataSpace space(static_cast<int>(dims.size()), dims.data(), maxdims.data());
    H5::DSetCreatPropList p;
    p.setChunk(static_cast<int>(chunk.size()), chunk.data());
    p.setShuffle();
    p.setDeflate(4);
    ds_ = g.createDataSet(name, type, space, p);
  }
  void append(const void* data, hsize_t rows = 1) {
    std::vector<hsize_t> size = {n_ + rows}, off = {n_}, count = {rows};
    for (hsize_t d : inner_) {
      size.push_back(d);
      off.push_back(0);
      count.push_back(d);
    }
    ds_.extend(size.data());
    H5::DataSpace fs = ds_.getSpace();
    fs.selectHyperslab(H5S_SELECT_SET, count.data(), off.data());
    H5::DataSpace ms(static_cast<int>(count.size()), count.data());
    ds_.write(data, type_, ms, fs);
    n_ += rows;
  }
  H5::DataSet& dataset() { return ds_; }

 private:
  H5::DataSet ds_;
  H5::DataType type_;
  std::vector<hsize_t> inner_;
  hsize_t n_ = 0;
};

const H5::StrType& vlen_string() {
  static const H5::StrType t(H5::PredType::C_S1, H5T_VARIABLE);
  return t;
}

void attr(H5::H5Object& o, const std::string& name, const std::string& value) {
  if (o.attrExists(name)) o.removeAttr(name);
  o.createAttribute(name, vlen_string(), H5::DataSpace(H5S_SCALAR))
      .write(vlen_string(), H5std_string(value));
}
template <class T>
void attr(H5::H5Object& o, const std::string& name, T value, const H5::PredType& type) {
  if (o.attrExists(name)) o.removeAttr(name);
  o.createAttribute(name, type, H5::DataSpace(H5S_SCALAR)).write(type, &value);
}

void string_list(H5::Group& g, const std::string& name, const std::vector<std::string>& items) {
  hsize_t n = items.size();
  H5::DataSpace space(1, &n);
  std::vector<const char*> ptrs;
  for (const auto& s : items) ptrs.push_back(s.c_str());
  g.createDataSet(name, vlen_string(), space).write(ptrs.data(), vlen_string());
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

class RunLogWriter : public RunObserver {
 public:
  RunLogWriter(const std::string& path, const RunConfig& config) : path_(path) {
    try {
      H5::Exception::dontPrint();
      file_ = H5::H5File(path, H5F_ACC_TRUNC);
      H5::Group root = file_.openGroup("/");
      attr(root, "schema", "metaadamw-runlog");
      attr(root, "schema_version", kSchemaVersion, H5::PredType::NATIVE_INT32);
      attr(root, "tool_version", engine_version());
      attr(root, "libtorch_version", torch_version());
      attr(root, "config", config.to_json());
      attr(root, "start_time", utc_now());
      char host[256] = {0};
      ::gethostname(host, sizeof host - 1);
      attr(root, "host", host);
      attr(root, "status", "running");
    } catch (const H5::Exception& e) {
      throw DataError("cannot create run log '" + path + "': " + e.getDetailMsg());
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~RunLogWriter() override { close(); }

  void on_start(const RunInfo& i) override {
    push([this, i] {
      H5::Group root = file_.openGroup("/");
      attr(root, "task", i.task);
      attr(root, "preset", i.preset);
      attr(root, "optimizer", i.optimizer);
      attr(root, "device", i.device);
      attr(root, "seed", i.seed, H5::PredType::NATIVE_UINT64);
      attr(root, "metric_name", i.metric_name);
      attr(root, "metric_higher_is_better", static_cast<int8_t>(i.metric_higher_is_better),
           H5::PredType::NATIVE_INT8);
      attr(root, "total_steps", i.total_steps, H5::PredType::NATIVE_INT64);
      auto steps = file_.createGroup("steps");
      for (const char* n : {"step", "epoch"})
        series_[std::string("steps/") + n] = Series(steps, n, H5::PredType::NATIVE_INT64, {}, 1024);
      for (const char* n :
           {"wall_time_s", "loss", "lr", "forward_backward_ms", "optimizer_ms", "meta_ms"})
        series_[std::string("steps/") + n] =
            Series(steps, n, H5::PredType::NATIVE_DOUBLE, {}, 1024);
      auto evals = file_.createGroup("evals");
      for (const char* n : {"step", "epoch"})
        series_[std::string("evals/") + n] = Series(evals, n, H5::PredType::NATIVE_INT64, {}, 64);
      for (const char* n : {"loss", "metric", "eval_ms", "wall_time_s"})
        series_[std::string("evals/") + n] = Series(evals, n, H5::PredType::NATIVE_DOUBLE, {}, 64);
      auto events = file_.createGroup("events");
      series_["events/step"] = Series(events, "step", H5::PredType::NATIVE_INT64, {}, 64);
      series_["events/kind"] = Series(events, "kind", vlen_string(), {}, 64);
      series_["events/message"] = Series(events, "message", vlen_string(), {}, 64);
    });
  }

  void on_step(const StepRecord& r) override {
    push([this, r] {
      append("steps/step", r.step);
      append("steps/epoch", r.epoch);
      append("steps/wall_time_s", r.wall_time_s);
      append("steps/loss", r.loss);
      append("steps/lr", r.lr);
      append("steps/forward_backward_ms", r.forward_backward_ms);
      append("steps/optimizer_ms", r.optimizer_ms);
      append("steps/meta_ms", r.meta_ms);
    });
  }

  void on_eval(const EvalRecord& r) override {
    push([this, r] {
      append("evals/step", r.step);
      append("evals/epoch", r.epoch);
      append("evals/loss", r.loss);
      append("evals/metric", r.metric);
      append("evals/eval_ms", r.eval_ms);
      append("evals/wall_time_s", r.wall_time_s);
      for (const auto& [name, v] : r.extras) {
        const std::string key = "evals/extra/" + name;
        if (!series_.count(key)) {
          if (!file_.nameExists("evals/extra")) file_.createGroup("evals/extra");
          auto g = file_.openGroup("evals/extra");
          series_[key] = Series(g, name, H5::PredType::NATIVE_DOUBLE, {}, 64);
        }
        append(key, v);
      }
    });
  }

  void on_snapshot(const Snapshot& s) override {
    push([this, s] {
      const hsize_t G = static_cast<hsize_t>(s.groups), F = static_cast<hsize_t>(s.features);
      if (!series_.count("snapshots/step")) {
        auto groups = file_.createGroup("groups");
        string_list(groups, "name", s.group_names);
        auto g = file_.createGroup("snapshots");
        series_["snapshots/step"] = Series(g, "step", H5::PredType::NATIVE_INT64, {}, 64);
        series_["snapshots/features"] =
            Series(g, "features", H5::PredType::NATIVE_FLOAT, {G, F}, 64);
        string_list(g, "feature_names", s.feature_names);
        series_["snapshots/factors"] = Series(g, "factors", H5::PredType::NATIVE_FLOAT, {G, 4}, 64);
        series_["snapshots/effective_lr"] =
            Series(g, "effective_lr", H5::PredType::NATIVE_FLOAT, {G}, 64);
        series_["snapshots/effective_wd"] =
            Series(g, "effective_wd", H5::PredType::NATIVE_FLOAT, {G}, 64);
        series_["snapshots/attention"] =
            Series(g, "attention", H5::PredType::NATIVE_FLOAT,
                   {static_cast<hsize_t>(s.layers), static_cast<hsize_t>(s.heads), G, G}, 16);
      }
      append("snapshots/step", s.step);
      series_["snapshots/features"].append(s.feature_values.data());
      series_["snapshots/factors"].append(s.factors.data());
      series_["snapshots/effective_lr"].append(s.effective_lr.data());
      series_["snapshots/effective_wd"].append(s.effective_wd.data());
      series_["snapshots/attention"].append(s.attention.data());
    });
  }

  void on_meta_update(const MetaUpdateRecord& r) override {
    push([this, r] {
      if (!series_.count("meta/step")) {
        auto g = file_.createGroup("meta");
        for (const char* n : {"step", "index"})
          series_[std::string("meta/") + n] = Series(g, n, H5::PredType::NATIVE_INT64, {}, 64);
        for (const char* n : {"l_grad", "l_dec", "l_gap", "total", "meta_ms"})
          series_[std::string("meta/") + n] = Series(g, n, H5::PredType::NATIVE_DOUBLE, {}, 64);
        series_["meta/huw_s"] = Series(g, "huw_s", H5::PredType::NATIVE_DOUBLE, {3}, 64);
        series_["meta/huw_weights"] =
            Series(g, "huw_weights", H5::PredType::NATIVE_DOUBLE, {3}, 64);
      }
      append("meta/step", r.step);
      append("meta/index", r.index);
      append("meta/l_grad", r.l_grad);
      append("meta/l_dec", r.l_dec);
      append("meta/l_gap", r.l_gap);
      append("meta/total", r.total);
      append("meta/meta_ms", r.meta_ms);
      series_["meta/huw_s"].append(r.huw_s.data());
      series_["meta/huw_weights"].append(r.huw_weights.data());
    });
  }

  void on_event(const RunEvent& e) override {
    push([this, e] { event(e.step, to_string(e.kind), e.message); });
  }

  void on_finish(const RunSummary& s) override {
    push([this, s] {
      H5::Group root = file_.openGroup("/");
      attr(root, "status", s.status);
      attr(root, "message", s.message);
      attr(root, "steps_done", s.steps, H5::PredType::NATIVE_INT64);
    });
    close();
  }

 private:
  template <class T>
  void append(const std::string& key, T value) {
    series_.at(key).append(&value);
  }
  void event(int64_t step, const std::string& kind, const std::string& message) {
    if (!series_.count("events/step")) return;  // before on_start: nothing to record into
    append("events/step", step);
    const char* k = kind.c_str();
    const char* m = message.c_str();
    series_["events/kind"].append(&k);
    series_["events/message"].append(&m);
  }

  void push(std::function<void()> job) {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= kQueueCapacity) {
      // Back-pressure: never drop a record; the engine waits, and the file says so.
      ++backpressure_;
      not_full_.wait(lock, [this] { return queue_.size() < kQueueCapacity || stop_; });
    }
    queue_.push_back(std::move(job));
    not_empty_.notify_one();
  }

  void loop() {
    auto last_flush = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      not_empty_.wait_for(lock, std::chrono::milliseconds(200),
                          [this] { return !queue_.empty() || stop_; });
      while (!queue_.empty()) {
        auto job = std::move(queue_.front());
        queue_.pop_front();
        not_full_.notify_one();
        const int64_t waits = backpressure_;
        backpressure_ = 0;
        lock.unlock();
        try {
          job();
          if (waits > 0)
            event(-1, "backpressure",
                  std::to_string(waits) + " records waited for a full log queue");
        } catch (const H5::Exception& e) {
          if (error_.empty()) error_ = e.getDetailMsg();
        }
        lock.lock();
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_flush >= std::chrono::seconds(1) || stop_) {
        lock.unlock();
        try {
          file_.flush(H5F_SCOPE_GLOBAL);
        } catch (const H5::Exception&) {
        }
        lock.lock();
        last_flush = now;
      }
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
    series_.clear();
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
  H5::H5File file_;
  std::map<std::string, Series> series_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::function<void()>> queue_;
  int64_t backpressure_ = 0;
  bool stop_ = false, closed_ = false;
  std::string error_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<RunObserver> make_run_log_writer(const std::string& path, const RunConfig& config) {
  return std::make_unique<RunLogWriter>(path, config);
}

}  // namespace maw
