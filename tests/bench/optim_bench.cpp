// Optimizer step cost on realistic shapes (issues: step 2 microbenchmark, step 6 targets):
//   torch::optim::AdamW, our AdamW (fused kernel and composite path), the copy bandwidth,
//   MetaAdamW's step without meta-update (fused and composite), and the MetaAdamW step
//   with a meta-update (K = 1), on
//   (i) ResNet-18 (CIFAR) shapes: 62 tensors, 11.17 M parameters;
//   (ii) small-Transformer shapes: 134 tensors, ~1.0 M parameters.
// The meta-update's loss is a fixed quadratic in the parameters, so that the number
// isolates the optimizer's own meta machinery (θ′, second order through the update,
// the modulator's backward); a model's forward/backward is measured end to end later.
#include <benchmark/benchmark.h>
#include <torch/torch.h>
#include <map>
#include <memory>
#include <string>

#include <ATen/CPUGeneratorImpl.h>

#include "api/session.h"
#include "optim/adamw.h"
#include "optim/adamw_kernel.h"
#include "optim/cpu_isa.h"
#include "optim/metaadamw.h"
#include "optim/param_groups.h"
#include "tasks/task.h"
#include "train/trajectory.h"

namespace {

using maw::nn::ParamInfo;

struct Shapes {
  std::vector<ParamInfo> infos;
  void add(const std::string& name, std::vector<int64_t> shape, std::vector<std::string> types) {
    ParamInfo i;
    i.name = name;
    i.shape = shape;
    i.numel = 1;
    for (auto s : shape) i.numel *= s;
    i.module_types = std::move(types);
    i.module_path = name.substr(0, name.rfind('.'));
    infos.push_back(i);
  }
};

Shapes resnet18() {
  Shapes s;
  auto conv = [&](const std::string& n, int64_t o, int64_t i, int64_t k) {
    s.add(n + ".weight", {o, i, k, k}, {"ResNet", "Conv2d"});
  };
  auto bn = [&](const std::string& n, int64_t c) {
    s.add(n + ".weight", {c}, {"ResNet", "BatchNorm2d"});
    s.add(n + ".bias", {c}, {"ResNet", "BatchNorm2d"});
  };
  conv("conv1", 64, 3, 3);
  bn("bn1", 64);
  int64_t in = 64;
  const int64_t widths[] = {64, 128, 256, 512};
  for (int l = 0; l < 4; ++l) {
    for (int b = 0; b < 2; ++b) {
      const std::string p = "layer" + std::to_string(l + 1) + "." + std::to_string(b);
      const int64_t w = widths[l];
      conv(p + ".conv1", w, in, 3);
      bn(p + ".bn1", w);
      conv(p + ".conv2", w, w, 3);
      bn(p + ".bn2", w);
      if (b == 0 && in != w) {
        conv(p + ".shortcut.0", w, in, 1);
        bn(p + ".shortcut.1", w);
      }
      in = w;
    }
  }
  s.add("fc.weight", {10, 512}, {"ResNet", "Linear"});
  s.add("fc.bias", {10}, {"ResNet", "Linear"});
  return s;
}

Shapes transformer() {
  Shapes s;
  const int64_t d = 96, f = 384, vocab = 1000, layers = 8;
  s.add("tok_emb.weight", {vocab, d}, {"T", "Embedding"});
  s.add("pos_emb.weight", {128, d}, {"T", "Embedding"});
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "encoder.layers." + std::to_string(l);
    const std::vector<std::string> blk = {"T", "TransformerBlock"};
    auto with = [&](std::vector<std::string> v, std::initializer_list<const char*> more) {
      for (auto* m : more) v.push_back(m);
      return v;
    };
    s.add(p + ".ln1.weight", {d}, with(blk, {"LayerNorm"}));
    s.add(p + ".ln1.bias", {d}, with(blk, {"LayerNorm"}));
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      s.add(p + ".attn." + proj + ".weight", {d, d}, with(blk, {"MultiHeadAttention", "Linear"}));
      s.add(p + ".attn." + proj + ".bias", {d}, with(blk, {"MultiHeadAttention", "Linear"}));
    }
    s.add(p + ".ln2.weight", {d}, with(blk, {"LayerNorm"}));
    s.add(p + ".ln2.bias", {d}, with(blk, {"LayerNorm"}));
    s.add(p + ".ffn.linear1.weight", {f, d}, with(blk, {"FeedForward", "Linear"}));
    s.add(p + ".ffn.linear1.bias", {f}, with(blk, {"FeedForward", "Linear"}));
    s.add(p + ".ffn.linear2.weight", {d, f}, with(blk, {"FeedForward", "Linear"}));
    s.add(p + ".ffn.linear2.bias", {d}, with(blk, {"FeedForward", "Linear"}));
  }
  s.add("norm.weight", {d}, {"T", "LayerNorm"});
  s.add("norm.bias", {d}, {"T", "LayerNorm"});
  s.add("head.weight", {vocab, d}, {"T", "Linear"});
  s.add("head.bias", {vocab}, {"T", "Linear"});
  return s;
}

const Shapes& shapes(int64_t which) {
  static const Shapes r = resnet18(), t = transformer();
  return which == 0 ? r : t;
}

std::vector<torch::Tensor> make_params(const Shapes& s) {
  auto gen = at::detail::createCPUGenerator(1);
  std::vector<torch::Tensor> ps;
  for (const auto& i : s.infos) {
    auto p = (torch::randn(i.shape, gen) * 0.05).set_requires_grad(true);
    p.mutable_grad() = torch::randn(i.shape, gen) * 1e-3;
    ps.push_back(p);
  }
  return ps;
}

void label(benchmark::State& state, const Shapes& s) {
  int64_t n = 0;
  for (const auto& i : s.infos) n += i.numel;
  state.counters["tensors"] = static_cast<double>(s.infos.size());
  state.counters["params"] = static_cast<double>(n);
  // 28 bytes per fp32 parameter: read p, g, m, v; write p, m, v (the AdamW minimum).
  state.SetBytesProcessed(state.iterations() * n * 28);
  state.SetLabel(state.range(0) == 0 ? "resnet18" : "transformer");
}

void set_threads() {
  static const bool once = [] {
    at::set_num_threads(maw::default_threads());
    return true;
  }();
  (void)once;
}

void BM_TorchAdamW(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  torch::optim::AdamW opt(ps, torch::optim::AdamWOptions(5e-4).weight_decay(1e-2));
  for (auto _ : state) opt.step();
  label(state, s);
}

void our_adamw(benchmark::State& state, maw::optim::AdamWKernel kernel) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  maw::optim::AdamW opt({{"all", ps, maw::optim::AdamWOptions(5e-4).weight_decay(1e-2)}});
  opt.set_kernel(kernel);
  for (auto _ : state) opt.step();
  label(state, s);
}

// Our fused CPU kernel (the default on CPU) and the composite foreach path (the
// reference); with LibTorch >= 2.4 also ATen's own fused kernel, at::_fused_adamw_.
void BM_OurAdamW(benchmark::State& state) {
  our_adamw(state, maw::optim::AdamWKernel::kOurs);
}
void BM_OurAdamWComposite(benchmark::State& state) {
  our_adamw(state, maw::optim::AdamWKernel::kComposite);
}
void BM_AtenFusedAdamW(benchmark::State& state) {
  our_adamw(state, maw::optim::AdamWKernel::kAten);
}

// MetaAdamW's two fused passes alone (adamw_kernel.h): the moments with the features'
// statistics (reads g, m, v; writes m, v), then the parameters with Σp² (reads p, m, v;
// writes p).
struct PassState {
  std::vector<torch::Tensor> ps, g, m, v;
  explicit PassState(const Shapes& s) : ps(make_params(s)) {
    for (const auto& p : ps) {
      g.push_back(p.grad());
      m.push_back(torch::zeros_like(p));
      v.push_back(torch::zeros_like(p));
    }
  }
};

void BM_MetaMomentsPass(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  PassState x(s);
  torch::NoGradGuard ng;
  for (auto _ : state)
    benchmark::DoNotOptimize(
        maw::optim::fused_moments_cpu(x.g, x.m, x.v, {0.9, 0.999, 0.5, 0.5, 1e-8}, false));
  label(state, s);
}

void BM_MetaParamPass(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  PassState x(s);
  const std::vector<double> decay(x.ps.size(), 1.0 - 5e-4 * 1e-2), step(x.ps.size(), -5e-4);
  torch::NoGradGuard ng;
  for (auto _ : state)
    benchmark::DoNotOptimize(maw::optim::fused_param_update_cpu(x.ps, x.m, x.v, decay, step,
                                                                {0.9, 0.999, 0.5, 0.5, 1e-8}));
  label(state, s);
}

// The machine's copy bandwidth on a buffer of the model's size (read + write, 8 bytes
// per fp32 element, the same threads): the ceiling the optimizer's traffic is set against.
void BM_Copy(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  int64_t n = 0;
  for (const auto& i : s.infos) n += i.numel;
  // Four buffers of the model's size, as an optimizer step streams p, g, m, v: the working
  // set exceeds the caches the same way.
  auto src = torch::randn({4, n}), dst = torch::empty({4, n});
  for (auto _ : state) dst.copy_(src);
  state.SetBytesProcessed(state.iterations() * 4 * n * 8);
  state.counters["params"] = static_cast<double>(n);
  state.SetLabel(state.range(0) == 0 ? "resnet18" : "transformer");
}

std::unique_ptr<maw::optim::MetaAdamW> make_meta(const Shapes& s,
                                                 const std::vector<torch::Tensor>& ps, int64_t k) {
  const auto groups = maw::optim::make_groups(s.infos, maw::optim::GroupingSpec{});
  return std::make_unique<maw::optim::MetaAdamW>(ps, s.infos, groups, maw::optim::AdamWOptions(),
                                                 maw::optim::MetaAdamWOptions().meta_update_freq(k),
                                                 3);
}

void meta_step(benchmark::State& state, bool fused) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  auto opt = make_meta(s, ps, 1 << 30);
  opt->set_fused(fused);
  for (auto _ : state) opt->step();
  label(state, s);
  state.counters["groups"] = static_cast<double>(opt->groups().size());
}

void BM_MetaAdamWStep(benchmark::State& state) {
  meta_step(state, true);
}
void BM_MetaAdamWStepComposite(benchmark::State& state) {
  meta_step(state, false);
}

void BM_MetaAdamWStepWithMetaUpdate(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  auto opt = make_meta(s, ps, 1);
  std::vector<torch::Tensor> targets;
  for (const auto& p : ps) targets.push_back(torch::zeros_like(p).detach());
  maw::optim::LossAt quad = [&](const std::vector<torch::Tensor>& th) {
    auto l = torch::zeros({});
    for (size_t i = 0; i < th.size(); ++i) l = l + (th[i] - targets[i]).pow(2).mean();
    return l;
  };
  auto batches = [&] { return maw::optim::MetaBatches{quad, quad}; };
  for (auto _ : state) opt->step(batches);
  label(state, s);
}

// The modulator's per-step forward alone (no graph), on the groups of these shapes.
void BM_ModulatorForward(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  auto opt = make_meta(s, ps, 1 << 30);
  const auto G = static_cast<int64_t>(opt->groups().size());
  const auto x = torch::randn({G, opt->features().dim()});
  torch::NoGradGuard ng;
  for (auto _ : state) benchmark::DoNotOptimize(opt->modulator().forward(x, false, false));
  label(state, s);
}

// The modulator's per-step forward at the paper's sizes (METAADAMW.md §8: up to 128
// encoder layers, ffn hidden 64, feature_dim = heads = 6): args {layers, groups}.
void BM_ModulatorForwardPaper(benchmark::State& state) {
  set_threads();
  const auto layers = state.range(0), G = state.range(1);
  auto o = maw::optim::MetaAdamWOptions()
               .attn_layers(layers)
               .attn_heads(6)
               .attn_hidden_dim(64)
               .feature_dim(6);
  maw::optim::Modulator mod(o, /*feature_dim=*/6, /*seed=*/3, torch::kFloat);
  const auto x = torch::randn({G, 6});
  // Arg 2: 1 = the host loop (what a step runs), 0 = the LibTorch layers (grad mode on,
  // nothing requires grad: the same ops the meta-objective runs, without the graph).
  const bool host = state.range(2) != 0;
  torch::AutoGradMode mode(!host);
  for (auto _ : state) benchmark::DoNotOptimize(mod.forward(x, false, false));
  state.SetLabel(std::to_string(layers) + " layers, G = " + std::to_string(G) +
                 (host ? ", host loop" : ", LibTorch layers"));
}

// The feature statistics alone (fused CPU pass + group aggregation).
void BM_FeatureStatistics(benchmark::State& state) {
  set_threads();
  const auto& s = shapes(state.range(0));
  auto ps = make_params(s);
  auto opt = make_meta(s, ps, 1 << 30);
  std::vector<torch::Tensor> g, m, v;
  for (const auto& p : ps) {
    g.push_back(p.grad());
    m.push_back(p.grad() * 0.1);
    v.push_back(p.grad() * p.grad());
  }
  for (auto _ : state) benchmark::DoNotOptimize(opt->features().statistics(g, m, v, ps));
  label(state, s);
}

void shapes_args(benchmark::internal::Benchmark* b) {
  b->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->MinTime(2.0);
}

BENCHMARK(BM_TorchAdamW)->Apply(shapes_args);
BENCHMARK(BM_OurAdamW)->Apply(shapes_args);
BENCHMARK(BM_OurAdamWComposite)->Apply(shapes_args);
BENCHMARK(BM_MetaMomentsPass)->Apply(shapes_args);
BENCHMARK(BM_MetaParamPass)->Apply(shapes_args);
BENCHMARK(BM_Copy)->Apply(shapes_args);
BENCHMARK(BM_MetaAdamWStep)->Apply(shapes_args);
BENCHMARK(BM_MetaAdamWStepComposite)->Apply(shapes_args);
BENCHMARK(BM_MetaAdamWStepWithMetaUpdate)->Apply(shapes_args);
BENCHMARK(BM_ModulatorForward)->Apply(shapes_args);
BENCHMARK(BM_FeatureStatistics)->Apply(shapes_args);
BENCHMARK(BM_ModulatorForwardPaper)
    ->ArgsProduct({{8, 64, 128}, {8, 64}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// The trajectory's cost (issue step 14) beside a training step of the same model: a task's
// small preset, one training batch forward and backward plus LibTorch's AdamW step; and the
// projection on K = 2 directions with the per-group distances (train/trajectory.h). Their
// ratio ÷ snapshot_every is the trajectory's share of a step.
struct TaskModel {
  std::unique_ptr<maw::tasks::Task> task;
  std::vector<maw::optim::ParamGroup> groups;
  maw::data::Batch batch;
};

TaskModel& task_model(const std::string& name) {
  static std::map<std::string, TaskModel> models;
  auto it = models.find(name);
  if (it != models.end()) return it->second;
  maw::RunConfig c;
  c.set("task", name);
  c.set("preset", "small");
  c.resolve_preset();
  torch::manual_seed(0);
  TaskModel m;
  m.task = maw::tasks::make_task(c, torch::kFloat);
  m.groups = maw::optim::make_groups(m.task->model().store().info(), maw::optim::GroupingSpec{});
  m.batch = m.task->train().get(torch::arange(0, c.batch_size, torch::kLong));
  return models.emplace(name, std::move(m)).first->second;
}

void BM_TrainingStep(benchmark::State& state, const std::string& name) {
  auto& m = task_model(name);
  auto& store = m.task->model().store();
  torch::optim::AdamW opt(store.parameters(), torch::optim::AdamWOptions(1e-4));
  auto ctx = m.task->model().ctx(/*training=*/true, /*update_buffers=*/true);
  for (auto _ : state) {
    store.zero_grad();
    auto loss = m.task->loss(m.task->model().forward(ctx, m.batch), m.batch);
    loss.backward();
    opt.step();
    benchmark::DoNotOptimize(loss.item<double>());
  }
}

void BM_TrajectoryPoint(benchmark::State& state, const std::string& name) {
  auto& m = task_model(name);
  const auto& params = m.task->model().store().parameters();
  const maw::train::Trajectory t(params, m.groups, 2, 1);
  state.counters["parameters"] = static_cast<double>(m.task->model().store().numel());
  int64_t step = 0;
  for (auto _ : state) benchmark::DoNotOptimize(t.measure(++step, params).distance);
}

// One grid point of the end-of-run landscape (landscape_grid): θ_T + a·d₁ + b·d₂ written
// into the parameters, then the loss on the fixed evaluation batch (256 examples, as the
// trainer's: max(batch size, 256)).
void BM_LandscapePoint(benchmark::State& state, const std::string& name) {
  auto& m = task_model(name);
  const auto& params = m.task->model().store().parameters();
  const maw::train::Trajectory t(params, m.groups, 2, 1);
  const auto& d = t.direction_tensors();
  std::vector<torch::Tensor> saved;
  for (const auto& p : params) saved.push_back(p.detach().clone());
  const int64_t n = std::min<int64_t>(m.task->eval().size(), 256);
  const auto batch = m.task->eval().get(torch::arange(0, n, torch::kLong));
  auto ctx = m.task->model().ctx(/*training=*/false, /*update_buffers=*/false);
  torch::NoGradGuard no_grad;
  double a = 0.0;
  for (auto _ : state) {
    a += 1e-3;
    for (size_t k = 0; k < params.size(); ++k) {
      auto p = params[k].detach();
      p.copy_(saved[k]);
      if (d[0][k].defined()) p.add_(d[0][k], a);
      if (d[1][k].defined()) p.add_(d[1][k], -a);
    }
    benchmark::DoNotOptimize(
        m.task->loss(m.task->model().forward(ctx, batch), batch).item<double>());
  }
  for (size_t k = 0; k < params.size(); ++k) params[k].detach().copy_(saved[k]);
}

BENCHMARK_CAPTURE(BM_TrainingStep, image, std::string("image"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LandscapePoint, image, std::string("image"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_LandscapePoint, lm, std::string("lm"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrajectoryPoint, image, std::string("image"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrainingStep, lm, std::string("lm"))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_TrajectoryPoint, lm, std::string("lm"))->Unit(benchmark::kMillisecond);

}  // namespace

// Google Benchmark's main, with what the report names in every table: the kernels' ISA
// (METAADAMW_CPU_ISA may force one), the CPU's model and SIMD flags, LibTorch's version.
int main(int argc, char** argv) {
  namespace k = maw::optim::kernel;
  benchmark::AddCustomContext("cpu_isa", k::isa_name(k::active_isa()));
  benchmark::AddCustomContext("cpu_isa_best", k::isa_name(k::best_isa()));
  benchmark::AddCustomContext("cpu_model", k::cpu_model_name());
  benchmark::AddCustomContext("cpu_flags", k::cpu_simd_flags());
  benchmark::AddCustomContext("libtorch", maw::torch_version());
  benchmark::AddCustomContext("threads", std::to_string(maw::default_threads()));
  if (maw::optim::aten_fused_adamw_available())  // (registered here: only where built in)
    benchmark::RegisterBenchmark("BM_AtenFusedAdamW", BM_AtenFusedAdamW)->Apply(shapes_args);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
