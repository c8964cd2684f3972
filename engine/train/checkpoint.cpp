#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

#include "api/errors.h"

namespace maw::train {
namespace {

void write_checkpoint(const std::string& path, int64_t step, const nn::ParamStore& store,
                      const RunOptimizer& opt, const Streams& streams, const torch::Device& device,
                      const EarlyStopping& early) {
  torch::serialize::OutputArchive a;
  a.write("run.step", torch::tensor(step, torch::kInt64), true);
  for (size_t i = 0; i < store.parameters().size(); ++i)
    a.write("model.param." + store.info()[i].name, store.parameters()[i].detach(), true);
  for (size_t i = 0; i < store.buffers().size(); ++i)
    a.write("model.buffer." + store.buffer_names()[i], store.buffers()[i], true);
  torch::serialize::OutputArchive o;
  opt.save(o);
  a.write("optimizer", o);
  for (const auto& [name, s] : streams) {
    torch::serialize::OutputArchive sa;
    s->save(sa);
    a.write(std::string("stream.") + name, sa);
  }
  a.write("torch_generator", at::detail::getDefaultCPUGenerator().get_state(), true);
  if (!device.is_cpu()) {
    // The device's default generator draws the model's dropout masks there.
    at::Generator gen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(gen.mutex());
    a.write("device_generator", gen.get_state(), true);
  }
  torch::serialize::OutputArchive es;
  early.save(es);
  a.write("early_stopping", es);
  a.save_to(path);
}

int64_t read_checkpoint(const std::string& path, nn::ParamStore& store, RunOptimizer& opt,
                        const Streams& streams, const torch::Device& device, EarlyStopping& early,
                        const std::vector<std::string>& extra_names) {
  torch::serialize::InputArchive a;
  try {
    a.load_from(path);
  } catch (const c10::Error&) {
    throw DataError("cannot read checkpoint '" + path + "': missing or not a checkpoint");
  }
  // A fresh tensor per read: try_read into a defined tensor would set_() it in place.
  auto read = [&](const std::string& key, torch::Tensor* out) {
    torch::Tensor t;
    const bool ok = a.try_read(key, t, true);
    *out = t;
    return ok;
  };
  torch::Tensor t;
  if (!read("run.step", &t)) throw DataError("'" + path + "' is not a run checkpoint");
  const int64_t step = t.item<int64_t>();
  torch::NoGradGuard ng;
  for (size_t i = 0; i < store.parameters().size(); ++i) {
    if (!read("model.param." + store.info()[i].name, &t) ||
        !t.sizes().equals(store.parameters()[i].sizes()))
      throw DataError("checkpoint '" + path + "' does not fit this model (" + store.info()[i].name +
                      ")");
    store.parameters()[i].copy_(t);
  }
  for (size_t i = 0; i < store.buffers().size(); ++i) {
    if (!read("model.buffer." + store.buffer_names()[i], &t))
      throw DataError("checkpoint '" + path + "' does not fit this model (" +
                      store.buffer_names()[i] + ")");
    store.buffers()[i].copy_(t);
  }
  torch::serialize::InputArchive o;
  a.read("optimizer", o);
  try {
    opt.load(o);
  } catch (const c10::Error& e) {
    throw DataError("checkpoint '" + path + "' holds another optimizer's state");
  }
  for (const auto& [name, s] : streams) {
    torch::serialize::InputArchive sa;
    a.read(std::string("stream.") + name, sa);
    s->load(sa);
  }
  read("torch_generator", &t);
  at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the global one
  gen.set_state(t);
  if (!device.is_cpu()) {
    if (!read("device_generator", &t))
      throw DataError("checkpoint '" + path + "' was saved by a run on the CPU; this run is on " +
                      device.str() + " (its dropout masks cannot continue exactly)");
    at::Generator dgen = at::globalContext().defaultGenerator(device);
    std::lock_guard<std::mutex> lock(dgen.mutex());
    dgen.set_state(t);
  }
  torch::serialize::InputArchive es;
  if (a.try_read("early_stopping", es)) early.load(es, extra_names);  // older checkpoints: none
  return step;
}

}  // namespace

void save_checkpoint(const std::string& path, int64_t step, const nn::ParamStore& store,
                     const RunOptimizer& opt, const Streams& streams, const torch::Device& device,
                     const EarlyStopping& early) {
  try {
    write_checkpoint(path, step, store, opt, streams, device, early);
  } catch (const c10::Error& e) {
    throw DataError("cannot write checkpoint '" + path +
                    "': " + first_line(e.what_without_backtrace()));
  }
}

int64_t load_checkpoint(const std::string& path, nn::ParamStore& store, RunOptimizer& opt,
                        const Streams& streams, const torch::Device& device, EarlyStopping& early,
                        const std::vector<std::string>& extra_names) {
  try {
    return read_checkpoint(path, store, opt, streams, device, early, extra_names);
  } catch (const c10::Error& e) {
    throw DataError("checkpoint '" + path + "' is damaged or not a run checkpoint (" +
                    first_line(e.what_without_backtrace()) + ")");
  } catch (const DataError&) {
    throw;
  } catch (const std::exception& e) {
    // LibTorch 2.x's archive reader also throws torch::jit::ErrorReport and std:: errors
    // (a flipped byte in the pickled state: Debian 13's CI), some with an empty first line.
    throw DataError("checkpoint '" + path + "' is damaged or not a run checkpoint (" +
                    first_line(e.what()) + ")");
  }
}

}  // namespace maw::train
