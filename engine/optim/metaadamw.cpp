#include "optim/metaadamw.h"
#include "optim/metaadamw_internal.h"

#include "api/factors.h"

#include "optim/adamw_kernel.h"
#include "optim/meta_optimizer.h"
#include "optim/stats_kernel.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <filesystem>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "api/errors.h"

namespace maw::optim {

namespace {

std::atomic<int64_t> g_host_reads{0};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

torch::Tensor to_host(const torch::Tensor& t) {
  g_host_reads.fetch_add(1, std::memory_order_relaxed);
  return t.to(torch::kCPU);
}

at::Generator model_generator(const torch::Device& device) {
  return at::globalContext().defaultGenerator(device);  // a handle: shares the generator
}

torch::Tensor generator_state(at::Generator& gen) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_generator_state(at::Generator& gen, const torch::Tensor& state) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

int64_t host_reads() {
  return g_host_reads.load();
}

MetaAdamW::MetaAdamW(std::vector<torch::Tensor> params, const std::vector<nn::ParamInfo>& infos,
                     std::vector<ParamGroup> groups, AdamWOptions base, MetaAdamWOptions meta,
                     uint64_t seed)
    : params_(std::move(params)),
      groups_(std::move(groups)),
      base_(base),
      o_((meta.validate(), meta)),
      features_(o_, groups_, infos, params_.at(0).device(), params_.at(0).scalar_type()),
      modulator_(o_, o_.resolved_feature_dim(), seed ^ 0x6d6f64756c61746fULL,
                 params_.at(0).scalar_type()),
      dropout_gen_(at::detail::createCPUGenerator(seed ^ 0x64726f70ULL)) {
  const auto device = params_[0].device();
  const auto opts = params_[0].options().requires_grad(false);
  group_of_.assign(params_.size(), -1);
  for (size_t g = 0; g < groups_.size(); ++g)
    for (int s : groups_[g].slots) group_of_[static_cast<size_t>(s)] = static_cast<int64_t>(g);
  for (size_t i = 0; i < group_of_.size(); ++i)
    if (group_of_[i] < 0) throw std::invalid_argument("tensor " + infos[i].name + " has no group");
  group_index_ = torch::tensor(group_of_, torch::kLong).to(device);
  modulator_.store().to(device);

  const auto G = static_cast<int64_t>(groups_.size());
  auto gen = at::detail::createCPUGenerator(seed ^ 0x656d626564ULL);
  if (o_.features() == FeatureSet::enhanced && o_.group_embed_dim() > 0)
    embedding_ = torch::randn({G, o_.group_embed_dim()}, gen, opts.device(torch::kCPU))
                     .to(device)
                     .set_requires_grad(true);
  if (!o_.paper_design())  // per-group offsets of (a, b): the identity start keeps them 0
    group_offsets_ = torch::zeros({G, 2}, opts).set_requires_grad(true);
  if (o_.use_feature_gating())
    gates_ = torch::ones({features_.dim()}, opts).set_requires_grad(true);  // §2: init 1
  if (o_.meta_objective() == MetaObjective::combined && o_.use_huw())
    huw_s_ = torch::zeros({3}, opts).set_requires_grad(true);  // s_i = log σ_i², init 0

  std::vector<torch::Tensor> mp;
  for (const auto& [kind, ts] : meta_parameters()) mp.insert(mp.end(), ts.begin(), ts.end());
  meta_opt_ = make_meta_optimizer(o_.meta_optimizer(), mp, o_.meta_lr());
  init_state();
}

void MetaAdamW::init_state() {
  m_.clear();
  v_.clear();
  denom_.clear();
  tensor_steps_.assign(params_.size(), 0);
  active_.assign(params_.size(), true);
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve).detach());
    v_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve).detach());
    denom_.emplace_back();  // made on the first composite step (the fused one needs none)
  }
  p_sums_ = torch::Tensor();
}

std::vector<std::pair<std::string, std::vector<torch::Tensor>>> MetaAdamW::meta_parameters() const {
  std::vector<torch::Tensor> encoder, head;
  const auto& store = modulator_.store();
  for (size_t i = 0; i < store.parameters().size(); ++i)
    (store.info()[i].name.rfind("head.", 0) == 0 ? head : encoder).push_back(store.parameters()[i]);
  std::vector<std::pair<std::string, std::vector<torch::Tensor>>> out = {{"encoder", encoder},
                                                                         {"head", head}};
  if (embedding_.defined()) out.push_back({"embedding", {embedding_}});
  if (group_offsets_.defined()) out.push_back({"group_offsets", {group_offsets_}});
  if (gates_.defined()) out.push_back({"gates", {gates_}});
  if (huw_s_.defined()) out.push_back({"huw_s", {huw_s_}});
  return out;
}

bool MetaAdamW::meta_update_due() const {
  const int64_t t = step_ + 1;
  return t > o_.meta_warmup_steps() && t % o_.meta_update_freq() == 0;
}

bool MetaAdamW::uses(Term term) const {
  // MetaObjective's single terms are in Term's order: gradient, loss_decrease, gen_gap.
  const auto obj = o_.meta_objective();
  return obj == MetaObjective::combined || static_cast<int>(obj) == static_cast<int>(term);
}

void MetaAdamW::step(const std::function<MetaBatches()>& meta, bool keep_snapshot,
                     bool keep_attention) {
  torch::NoGradGuard no_grad;
  const int64_t t = step_ + 1;
  const size_t n = params_.size();
  std::vector<torch::Tensor> grads(n);
  // A tensor without a gradient (unused by this step's loss) takes no step, as in torch's
  // AdamW: no decay, no move by old momentum, its moments and step count unchanged. The
  // features read its gradient as zeros.
  bool all_active = true;
  for (size_t i = 0; i < n; ++i) {
    const auto& g = params_[i].grad();
    active_[i] = g.defined();
    all_active = all_active && active_[i];
    grads[i] = g.defined() ? g : torch::zeros_like(params_[i]);
    if (active_[i]) ++tensor_steps_[i];
  }
  uniform_ = all_active;  // every tensor at step t: one pair of bias corrections
  for (size_t i = 0; i < n && uniform_; ++i) uniform_ = tensor_steps_[i] == t;
  const bool uniform = uniform_;

  const double b1 = base_.beta1(), b2 = base_.beta2();
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(t));
  const FusedAdamWScalars scalars{b1, b2, bc1, bc2, base_.eps()};
  last_meta_.reset();
  const bool meta_due = meta_update_due();
  const bool fused =
      fused_ && uniform && !force_device_path_ && fused_adamw_supported(params_, grads, m_, v_);

  // §2 features from g and the moments before this step's update; §3 factors (no graph).
  torch::Tensor stats;
  if (fused) {
    // Pass 1 (adamw_kernel.h): the moments update, summing g and the old m, v on the way;
    // Σp² from the previous step's pass 2 unless something changed p since.
    auto sums = fused_moments_cpu(grads, m_, v_, scalars, features_.counts_zeros());
    const bool cached = p_sums_.defined() && p_versions_ == param_versions();
    sums.select(1, kSumP2).copy_(cached ? p_sums_ : fused_square_sums_cpu(params_));
    stats = features_.statistics_from_sums(sums);  // [G, S]
  } else {
    stats = features_.statistics(grads, m_, v_, params_);  // [G, S]
  }
  p_sums_ = torch::Tensor();
  const auto feats = features_.assemble(stats, embedding_, gates_, t);  // [G, D]
  auto out = modulator_.forward(feats, /*training=*/false, keep_snapshot && keep_attention, nullptr,
                                group_offsets_);
  last_factors_ = out.factors;

  if (fused && !meta_due) {
    // Pass 2: the parameters, summing Σp² for the next step's features.
    std::vector<double> decay, step_size;
    host_factors(out.factors, decay, step_size);
    p_sums_ = fused_param_update_cpu(params_, m_, v_, decay, step_size, scalars);
    p_versions_ = param_versions();
    step_ = t;
    keep(keep_snapshot, t, feats, out);
    return;
  }

  // §4 moments, as torch's AdamW (the fused pass 1 did them already).
  if (!fused) {
    std::vector<torch::Tensor> m, v, g;  // the tensors that take this step
    for (size_t i = 0; i < n; ++i)
      if (active_[i]) {
        m.push_back(m_[i]);
        v.push_back(v_[i]);
        g.push_back(grads[i]);
      }
    if (!m.empty()) {
      at::_foreach_mul_(m, b1);
      at::_foreach_add_(m, g, 1.0 - b1);
      at::_foreach_mul_(v, b2);
      at::_foreach_addcmul_(v, g, g, 1.0 - b2);
    }
  }
  // The denominators, for the meta-update (§5 builds θ′ from them) and the update.
  for (size_t i = 0; i < n; ++i) {
    if (!denom_[i].defined()) denom_[i] = torch::empty_like(v_[i]);  // made once
    at::sqrt_out(denom_[i], v_[i]);
  }
  if (uniform) {
    at::_foreach_div_(denom_, std::sqrt(bc2));
  } else {
    std::vector<at::Scalar> root_bc2;
    for (size_t i = 0; i < n; ++i) root_bc2.emplace_back(std::sqrt(bias_correction(i, true)));
    at::_foreach_div_(denom_, root_bc2);
  }
  at::_foreach_add_(denom_, base_.eps());

  // §5: the meta-update changes the modulator only; this step uses the factors above.
  if (meta_due) {
    if (!meta) throw std::logic_error("MetaAdamW: a meta-update is due but no batches were given");
    meta_update(stats, t, grads, meta());
  }

  apply_update(out.factors, denom_);
  step_ = t;
  keep(keep_snapshot, t, feats, out);
}

void MetaAdamW::keep(bool keep_snapshot, int64_t t, const torch::Tensor& feats,
                     const Modulator::Output& out) {
  if (!keep_snapshot) return;
  kept_step_ = t;
  kept_features_ = feats;
  kept_factors_ = out.factors;
  kept_attention_ = out.attention;
  kept_copy_.reset();
  if (feats.device().is_cpu()) return;
  // Device: start the one transfer now, behind this step's work on the current stream.
  const auto flat = packed_snapshot();
  try {
    if (!kept_host_.defined() || kept_host_.numel() != flat.numel())
      kept_host_ = torch::empty({flat.numel()},
                                torch::TensorOptions().dtype(torch::kFloat).pinned_memory(true));
    kept_host_.copy_(flat, /*non_blocking=*/true);
    const c10::impl::VirtualGuardImpl impl(flat.device().type());
    auto done = std::make_unique<c10::Event>(flat.device().type());
    done->record(impl.getStream(flat.device()));
    kept_copy_ = std::move(done);
    ++async_copies_;
  } catch (const c10::Error&) {
    kept_copy_.reset();  // no pinned memory or events here: snapshot() copies in one read
    kept_host_ = torch::Tensor();
  }
}

std::vector<int64_t> MetaAdamW::param_versions() const {
  std::vector<int64_t> v;
  v.reserve(params_.size());
  for (const auto& p : params_) v.push_back(p._version());
  return v;
}

double MetaAdamW::bias_correction(size_t i, bool second) const {
  if (tensor_steps_[i] == 0) return 1.0;  // never stepped: m = v = 0, no division by zero
  const double b = second ? base_.beta2() : base_.beta1();
  return 1.0 - std::pow(b, static_cast<double>(tensor_steps_[i]));
}

void MetaAdamW::host_factors(const torch::Tensor& factors, std::vector<double>& decay,
                             std::vector<double>& step_size) const {
  // The factors already live in host memory on CPU: one read, scalars per tensor.
  const double lr = base_.lr(), wd = base_.weight_decay();
  const auto f = to_host(factors).to(torch::kDouble).contiguous();
  const auto acc = f.accessor<double, 2>();
  decay.clear();
  step_size.clear();
  for (size_t i = 0; i < params_.size(); ++i) {
    const auto g = group_of_[i];
    const double alpha = acc[g][factor::alpha], beta = acc[g][factor::beta];
    decay.push_back(active_[i] ? 1.0 - lr * alpha * wd * beta : 1.0);
    step_size.push_back(active_[i] ? -(lr * alpha) / bias_correction(i, false) : 0.0);
  }
}

void MetaAdamW::apply_update(const torch::Tensor& factors,
                             const std::vector<torch::Tensor>& denom) {
  const double lr = base_.lr(), wd = base_.weight_decay();
  if (factors.device().is_cpu() && !force_device_path_) {
    // CPU: scalars per tensor, so that the arithmetic is torch's AdamW (decay multiply,
    // addcdiv) to the bit when α = β = 1.
    std::vector<double> d, s;
    host_factors(factors, d, s);
    const std::vector<at::Scalar> decay(d.begin(), d.end()), step_size(s.begin(), s.end());
    at::_foreach_mul_(params_, decay);
    at::_foreach_addcdiv_(params_, m_, denom, step_size);
    return;
  }
  // Device path: factors never leave the device. Per-tensor 0-dim factors, computed in
  // double and rounded once to the parameter dtype, as a host scalar would be.
  const auto dt = params_[0].scalar_type();
  const auto f = factors.to(torch::kDouble).index_select(0, group_index_);  // [N, 4]
  const auto alpha = f.select(1, factor::alpha), beta = f.select(1, factor::beta);
  torch::Tensor decay_d, step_d;  // [N] double
  if (uniform_) {                 // every tensor steps, at the same count: no host-to-device copy
    const double bc1 = bias_correction(0, false);
    decay_d = 1.0 - lr * wd * alpha * beta;
    step_d = -(lr * alpha) / bc1;
  } else {  // per tensor: whether it steps and its own bc1 (two small host-to-device copies)
    std::vector<double> on(params_.size()), bc1(params_.size());
    for (size_t i = 0; i < params_.size(); ++i) {
      on[i] = active_[i] ? 1.0 : 0.0;
      bc1[i] = bias_correction(i, false);
    }
    const auto on_d = torch::tensor(on, torch::kDouble).to(f.device());
    const auto bc1_d = torch::tensor(bc1, torch::kDouble).to(f.device());
    decay_d = 1.0 - lr * wd * alpha * beta * on_d;
    step_d = -(lr * alpha) / bc1_d * on_d;
  }
  const auto decay = decay_d.to(dt).unbind(0);
  const auto step_size = step_d.to(dt).unbind(0);
  at::_foreach_mul_(params_, decay);
  auto upd = at::_foreach_mul(m_, step_size);  // (s·m) / denom, addcdiv's order
  at::_foreach_div_(upd, denom);
  at::_foreach_add_(params_, upd);
}

void MetaAdamW::meta_update(const torch::Tensor& stats, int64_t t,
                            const std::vector<torch::Tensor>& g1, const MetaBatches& batches) {
  const auto start = std::chrono::steady_clock::now();
  torch::AutoGradMode enable(true);
  MetaInputs in;
  in.stats = stats;
  in.step = t;
  in.theta = params_;
  in.m = m_;
  in.v = v_;
  in.denom = denom_;  // this step's denominators: no second pass over v
  in.g1 = g1;
  in.tensor_steps = tensor_steps_;
  in.active = active_;
  in.batches = batches;
  const auto terms = meta_objective(in);
  meta_opt_->zero_grad();
  terms.total.backward();
  if (batches.reduce) {  // data-parallel: the meta-gradient of the whole batches, every rank
    std::vector<torch::Tensor> grads;
    for (const auto& [kind, ts] : meta_parameters())
      for (const auto& mt : ts)
        if (mt.grad().defined()) grads.push_back(mt.grad());
    batches.reduce(grads);
  }
  // Diagnostics, on the device (read with the record): the meta-gradient per block, the
  // modulator before the step, the factors' saturation.
  // The modulator's encoder and head, flattened (copies: the step changes them in place).
  auto flat_parts = [&] {
    torch::NoGradGuard ng;
    std::vector<torch::Tensor> enc, head;
    const auto& st = modulator_.store();
    for (size_t i = 0; i < st.parameters().size(); ++i)
      (st.info()[i].name.rfind("head.", 0) == 0 ? head : enc)
          .push_back(st.parameters()[i].detach().reshape({-1}));
    return std::make_pair(torch::cat(enc), torch::cat(head));
  };
  const auto [before_enc, before_head] = flat_parts();
  const auto gnorms = grad_norms();
  meta_opt_->step();
  ++meta_updates_;
  torch::NoGradGuard ng;
  if (huw_s_.defined()) huw_s_.clamp_(-o_.huw_s_max(), o_.huw_s_max());  // bounded, finite
  torch::Tensor change;
  {
    const auto [enc, head] = flat_parts();
    const auto d_enc = (enc - before_enc).norm(), n_enc = before_enc.norm();
    const auto d_head = (head - before_head).norm(), n_head = before_head.norm();
    const auto d_all = (d_enc * d_enc + d_head * d_head).sqrt();
    const auto n_all = (n_enc * n_enc + n_head * n_head).sqrt();
    auto rel = [](const torch::Tensor& d, const torch::Tensor& n) {
      return torch::where(n > 0, d / n, torch::full_like(d, kNaN)).reshape({1});
    };
    change = torch::cat({rel(d_all, n_all), rel(d_enc, n_enc), rel(d_head, n_head)});
  }
  const auto bound = at_bound(terms.factors.detach());

  // The record: one host transfer.
  const auto nan = torch::full({1}, kNaN, stats.options());
  auto val = [&](const torch::Tensor& x) { return x.defined() ? x.detach().reshape({1}) : nan; };
  std::vector<torch::Tensor> parts = {val(terms.l_grad), val(terms.l_dec), val(terms.l_gap),
                                      val(terms.total)};
  if (huw_s_.defined()) parts.push_back(huw_s_.detach());
  const int64_t d0 = 4 + (huw_s_.defined() ? 3 : 0);  // where the diagnostics start
  for (const auto& x : {gnorms, change, bound}) parts.push_back(x.to(stats.dtype()));
  const auto host = to_host(torch::cat(parts)).to(torch::kDouble);
  const auto h = host.accessor<double, 1>();
  MetaUpdateRecord r;
  r.step = t;
  r.index = meta_updates_;
  r.l_grad = h[0];
  r.l_dec = h[1];
  r.l_gap = h[2];
  r.total = h[3];
  const auto obj = o_.meta_objective();
  for (size_t i = 0; i < 3; ++i) {
    if (huw_s_.defined()) {
      r.huw_s[i] = h[static_cast<int64_t>(4 + i)];
      const double half = o_.task_types()[i] == TermType::regression ? 0.5 : 1.0;
      r.huw_weights[i] = half * std::exp(-r.huw_s[i]);
    } else if (obj == MetaObjective::combined) {
      r.huw_weights[i] = o_.aux_loss_fixed_weights()[i];
    } else {
      r.huw_weights[i] = uses(static_cast<Term>(i)) ? 1.0 : 0.0;
    }
  }
  int64_t k = d0;
  for (auto& x : r.grad_norm) x = h[k++];
  for (auto& x : r.rel_change) x = h[k++];
  for (auto& x : r.at_bound) x = h[k++];
  r.meta_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  last_meta_ = r;
}

torch::Tensor MetaAdamW::grad_norms() const {
  // records.h kMetaGradBlocks: encoder, head rows α β λ1 λ2, gates, group, huw_s.
  torch::NoGradGuard ng;
  const auto& st = modulator_.store();
  const auto opts = st.parameters().front().options().dtype(torch::kDouble);
  auto sq = [&](const torch::Tensor& g) {
    return g.defined() ? g.detach().to(torch::kDouble).pow(2).sum() : torch::zeros({}, opts);
  };
  auto block = [&](const torch::Tensor& p) {  // NaN when the block does not exist
    return p.defined() ? sq(p.grad()).sqrt().reshape({1}) : torch::full({1}, kNaN, opts);
  };
  torch::Tensor enc = torch::zeros({}, opts), head_w, head_b;
  for (size_t i = 0; i < st.parameters().size(); ++i) {
    const auto& name = st.info()[i].name;
    if (name == "head.weight")
      head_w = st.parameters()[i].grad();
    else if (name == "head.bias")
      head_b = st.parameters()[i].grad();
    else
      enc = enc + sq(st.parameters()[i].grad());
  }
  std::vector<torch::Tensor> parts = {enc.sqrt().reshape({1})};
  for (int64_t r = 0; r < factor::count; ++r) {  // head rows: α, β, λ1, λ2
    auto x = torch::zeros({}, opts);
    if (head_w.defined()) x = x + sq(head_w[r]);
    if (head_b.defined()) x = x + sq(head_b[r]);
    parts.push_back(x.sqrt().reshape({1}));
  }
  parts.push_back(block(gates_));
  // Per-group parameters: the enhanced features' embeddings and the per-group offsets.
  if (embedding_.defined() && group_offsets_.defined())
    parts.push_back((sq(embedding_.grad()) + sq(group_offsets_.grad())).sqrt().reshape({1}));
  else
    parts.push_back(block(embedding_.defined() ? embedding_ : group_offsets_));
  parts.push_back(block(huw_s_));
  return torch::cat(parts);
}

torch::Tensor MetaAdamW::at_bound(const torch::Tensor& factors) const {
  // Fraction of the G values of α, β, λ1, λ2 within 1e-3 of a bound; NaN for a factor
  // whose range is 0 (α ≡ 1 is not saturation).
  torch::NoGradGuard ng;
  const auto f = factors.to(torch::kDouble);
  constexpr double tol = 1e-3;
  auto near = [&](const torch::Tensor& x, double lo, double hi) {
    return (((x - lo).abs() < tol) | ((x - hi).abs() < tol)).to(torch::kDouble).mean().reshape({1});
  };
  const double ra = o_.alpha_range(), rb = o_.beta_range();
  const auto nan = torch::full({1}, kNaN, f.options());
  return torch::cat({ra > 0 ? near(f.select(1, factor::alpha), 1 - ra / 2, 1 + ra / 2) : nan,
                     rb > 0 ? near(f.select(1, factor::beta), 1 - rb / 2, 1 + rb / 2) : nan,
                     near(f.select(1, factor::lambda1), 0, 1),
                     near(f.select(1, factor::lambda2), 0, 1)});
}

torch::Tensor MetaAdamW::packed_snapshot() const {
  // One transfer: everything packed into one flat float tensor on the device.
  std::vector<torch::Tensor> parts = {kept_features_.reshape({-1}), kept_factors_.reshape({-1}),
                                      base_.lr() * kept_factors_.select(1, factor::alpha),
                                      base_.weight_decay() * kept_factors_.select(1, factor::beta)};
  for (const auto& a : kept_attention_) parts.push_back(a.reshape({-1}));
  return torch::cat(parts).to(torch::kFloat);
}

Snapshot MetaAdamW::snapshot() const {
  Snapshot s;
  if (!kept_features_.defined()) return s;
  const auto G = static_cast<int64_t>(groups_.size());
  const auto D = features_.dim();
  const int64_t L = modulator_.layers();
  const int64_t H = modulator_.heads();
  torch::Tensor flat;
  if (kept_copy_) {
    while (!kept_copy_->query()) std::this_thread::yield();  // the copy started at keep()
    flat = kept_host_;
  } else {
    flat = to_host(packed_snapshot()).contiguous();
  }
  const float* p = flat.data_ptr<float>();
  auto take = [&](int64_t k) {
    std::vector<float> v(p, p + k);
    p += k;
    return v;
  };
  s.step = kept_step_;
  s.groups = G;
  s.features = D;
  s.layers = L;
  s.heads = H;
  for (const auto& g : groups_) s.group_names.push_back(g.name);
  s.feature_names = features_.names();
  s.feature_values = take(G * D);
  s.factors = take(G * factor::count);
  s.effective_lr = take(G);
  s.effective_wd = take(G);
  if (!kept_attention_.empty()) s.attention = take(L * H * G * G);
  return s;
}

}  // namespace maw::optim
