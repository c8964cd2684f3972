#include "optim/metaadamw.h"

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

// Every device-to-host copy on the step path goes through here, so that it is counted.
torch::Tensor to_host(const torch::Tensor& t) {
  g_host_reads.fetch_add(1, std::memory_order_relaxed);
  return t.to(torch::kCPU);
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The generator the model's dropout draws from (nn::dropout without a generator: the
// device's default one), so that a second pass can repeat the first one's masks.
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

}  // namespace

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
  if (o_.features() == "enhanced" && o_.group_embed_dim() > 0)
    embedding_ = torch::randn({G, o_.group_embed_dim()}, gen, opts.device(torch::kCPU))
                     .to(device)
                     .set_requires_grad(true);
  if (!o_.paper_design())  // per-group offsets of (a, b): the identity start keeps them 0
    group_offsets_ = torch::zeros({G, 2}, opts).set_requires_grad(true);
  if (o_.use_feature_gating())
    gates_ = torch::ones({features_.dim()}, opts).set_requires_grad(true);  // §2: init 1
  if (o_.meta_objective() == "combined" && o_.use_huw())
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

bool MetaAdamW::uses(const char* term) const {
  const auto& obj = o_.meta_objective();
  if (obj == "combined") return true;
  return (obj == "gradient" && std::string(term) == "grad") ||
         (obj == "loss_decrease" && std::string(term) == "dec") ||
         (obj == "gen_gap" && std::string(term) == "gap");
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
    const double alpha = acc[g][0], beta = acc[g][1];
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
  const auto alpha = f.select(1, 0), beta = f.select(1, 1);
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

MetaTerms MetaAdamW::meta_objective(const MetaInputs& in) const {
  const double lr = base_.lr(), wd = base_.weight_decay();
  const double bc1 = 1.0 - std::pow(base_.beta1(), static_cast<double>(in.step));
  const double bc2 = 1.0 - std::pow(base_.beta2(), static_cast<double>(in.step));

  // 1. Factors with graph.
  const auto feats = features_.assemble(in.stats, embedding_, gates_, in.step);
  const auto out = modulator_.forward(feats, /*training=*/true, false,
                                      const_cast<at::Generator*>(&dropout_gen_), group_offsets_);
  const auto alpha = out.factors.select(1, 0).index_select(0, group_index_);  // [N]
  const auto beta = out.factors.select(1, 1).index_select(0, group_index_);
  const auto lam1 = out.factors.select(1, 2), lam2 = out.factors.select(1, 3);  // [G]

  // 2. θ′ = θ·(1 − η·α·λ·β) − (η·α/bc1)·m/(√v/√bc2 + ε): differentiable in α and β. A
  // tensor that takes no step (no gradient) stays θ.
  std::vector<torch::Tensor> theta_p;
  theta_p.reserve(in.theta.size());
  for (size_t i = 0; i < in.theta.size(); ++i) {
    if (!in.active.empty() && !in.active[i]) {
      theta_p.push_back(in.theta[i].detach());
      continue;
    }
    double c1 = bc1, c2 = bc2;
    if (!in.tensor_steps.empty() && in.tensor_steps[i] != in.step && in.tensor_steps[i] > 0) {
      c1 = 1.0 - std::pow(base_.beta1(), static_cast<double>(in.tensor_steps[i]));
      c2 = 1.0 - std::pow(base_.beta2(), static_cast<double>(in.tensor_steps[i]));
    }
    torch::Tensor u;
    {
      torch::NoGradGuard ng;
      u = in.m[i] / (in.denom.empty() ? in.v[i].sqrt() / std::sqrt(c2) + base_.eps() : in.denom[i]);
    }
    const auto a = alpha[static_cast<int64_t>(i)], b = beta[static_cast<int64_t>(i)];
    theta_p.push_back(in.theta[i].detach() * (1.0 - lr * wd * a * b) - (lr / c1) * a * u);
  }

  if (o_.meta_hessian() == "exact") {
    // 3. L2 = loss(θ′; b2), g′ = ∂L2/∂θ′ with create_graph: the backward below runs
    // through this backward (second order).
    const auto l2 = in.batches.train_loss(theta_p);
    std::vector<torch::Tensor> gp;
    if (uses("grad"))
      gp = torch::autograd::grad({l2}, theta_p, {}, /*retain_graph=*/true,
                                 /*create_graph=*/true, /*allow_unused=*/true);
    torch::Tensor lv_p, lv;
    auto gen = model_generator(theta_p.front().device());
    const auto masks_v = generator_state(gen);  // the dropout masks of the pass on bv
    if (uses("dec") || uses("gap")) lv_p = in.batches.val_loss(theta_p);  // shared by both
    if (uses("dec")) lv = val_loss_at_theta(in, gen, masks_v);
    auto terms = terms_from(l2, gp, lv_p, lv, in.g1, lam1, lam2);
    terms.factors = out.factors;
    return terms;
  }

  // finite_difference: every model pass is first order. The terms are formed on stand-ins
  // (leaves holding the values of L2, g′ and L(θ′; bv)); their adjoints c = ∂total/∂(L2,
  // L(θ′; bv)) and w = ∂total/∂g′ pull back to θ′ as
  //   a = c_L2·∇L(θ′; b2) + c_v·∇L(θ′; bv) + H(θ′; b2)·w,
  // H·w from a second gradient at θ′ + εw (same dropout masks), and a·∂θ′/∂(α, β) reaches
  // the modulator through the surrogate Σ a·θ′ (value 0 added to the total).
  std::vector<torch::Tensor> leaf;
  leaf.reserve(theta_p.size());
  for (const auto& t : theta_p) leaf.push_back(t.detach().requires_grad_(true));
  auto gen = model_generator(theta_p.front().device());
  const auto masks = generator_state(gen);  // the dropout masks of the pass on b2
  auto gradient = [&](const MetaBatches& b, bool train, const std::vector<torch::Tensor>& at,
                      torch::Tensor& loss) {
    loss = train ? b.train_loss(at) : b.val_loss(at);
    auto g = torch::autograd::grad({loss}, at, {}, false, false, /*allow_unused=*/true);
    for (size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined()) g[i] = torch::zeros_like(at[i]);
    loss = loss.detach();
    return g;
  };
  torch::Tensor l2, lv_p, lv;
  const auto g2 = gradient(in.batches, true, leaf, l2);
  const auto masks_v = generator_state(gen);  // the dropout masks of the pass on bv
  std::vector<torch::Tensor> gv;
  if (uses("dec") || uses("gap")) gv = gradient(in.batches, false, leaf, lv_p);
  if (uses("dec")) lv = val_loss_at_theta(in, gen, masks_v);
  const auto after = generator_state(gen);

  auto stand_in = [](const torch::Tensor& x) { return x.detach().requires_grad_(true); };
  const auto l2_s = stand_in(l2);
  const auto lv_p_s = lv_p.defined() ? stand_in(lv_p) : torch::Tensor();
  std::vector<torch::Tensor> gp_s;
  if (uses("grad"))
    for (const auto& g : g2) gp_s.push_back(stand_in(g));
  MetaTerms terms = terms_from(l2_s, gp_s, lv_p_s, lv, in.g1, lam1, lam2);
  terms.factors = out.factors;

  std::vector<torch::Tensor> wrt = {l2_s};
  if (lv_p_s.defined()) wrt.push_back(lv_p_s);
  wrt.insert(wrt.end(), gp_s.begin(), gp_s.end());
  const auto adj = torch::autograd::grad({terms.total}, wrt, {}, /*retain_graph=*/true, false,
                                         /*allow_unused=*/true);
  auto scalar = [](const torch::Tensor& x) { return x.defined() ? x.detach() : torch::Tensor(); };
  const auto c_l2 = scalar(adj[0]);
  const auto c_v = lv_p_s.defined() ? scalar(adj[1]) : torch::Tensor();
  const size_t w0 = lv_p_s.defined() ? 2 : 1;
  std::vector<torch::Tensor> a(leaf.size());
  for (size_t i = 0; i < leaf.size(); ++i) {
    a[i] = torch::zeros_like(leaf[i]).detach();
    if (c_l2.defined()) a[i].add_(c_l2 * g2[i]);
    if (c_v.defined()) a[i].add_(c_v * gv[i]);
  }
  if (!gp_s.empty()) {
    std::vector<torch::Tensor> w(gp_s.size());
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = adj[w0 + i].defined() ? adj[w0 + i].detach() : torch::zeros_like(leaf[i]);
    // ‖w‖ and ‖θ′‖ in one read (the meta-update's only extra host transfer).
    const auto norms = to_host(torch::stack({torch::stack(at::_foreach_norm(w)).norm(),
                                             torch::stack(at::_foreach_norm(leaf)).norm()})
                                   .to(torch::kDouble));
    const double w_norm = norms[0].item<double>(), theta_norm = norms[1].item<double>();
    if (w_norm > 0 && std::isfinite(w_norm)) {
      // forward: (∇L(θ′ + εw) − g′)/ε, ε = √(machine ε)·(1 + ‖θ′‖)/‖w‖, one more pass.
      // central: (∇L(θ′ + εw) − ∇L(θ′ − εw))/2ε, ε = ∛(machine ε)·(1 + ‖θ′‖)/‖w‖, two: error
      // O(ε²) — in float32 the forward difference was 26–290% off where H·w is the whole
      // meta-gradient (meta_objective=gradient with λ fixed), the central one 11–14%
      // (docs/MODULATOR.md); under the combined objective both agree to ≤ 2e-3.
      const bool central = o_.meta_hessian() == "central_difference";
      const double machine =
          theta_p.front().scalar_type() == torch::kDouble ? 2.220446e-16 : 1.192093e-7;
      const double step =
          (central ? std::cbrt(machine) : std::sqrt(machine)) * (1.0 + theta_norm) / w_norm;
      auto gradient_at = [&](double sign) {
        std::vector<torch::Tensor> shifted;
        {
          torch::NoGradGuard ng;
          for (size_t i = 0; i < leaf.size(); ++i)
            shifted.push_back(leaf[i].detach().add(w[i], sign * step).requires_grad_(true));
        }
        set_generator_state(gen, masks);
        torch::Tensor unused;
        return gradient(in.batches, true, shifted, unused);
      };
      const auto up = gradient_at(1.0);
      const auto down = central ? gradient_at(-1.0) : g2;
      set_generator_state(gen, after);
      const double span = central ? 2.0 * step : step;
      for (size_t i = 0; i < a.size(); ++i) a[i].add_((up[i] - down[i]) / span);
    }
  }
  auto surrogate = torch::zeros({}, terms.total.options());
  for (size_t i = 0; i < a.size(); ++i) surrogate = surrogate + (a[i] * theta_p[i]).sum();
  terms.total = terms.total + (surrogate - surrogate.detach());
  return terms;
}

torch::Tensor MetaAdamW::val_loss_at_theta(const MetaInputs& in, at::Generator& gen,
                                           const torch::Tensor& masks) const {
  // L_dec's reference L(θ; bv): its value only (it enters the HUW weight's gradient), under
  // the dropout masks of L(θ′; bv) — the generator rewound to before that pass — so that
  // L_dec compares θ′ with θ, not two draws of masks. Same shapes, same draws: the
  // generator ends where that pass left it.
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> theta;
  for (const auto& p : in.theta) theta.push_back(p.detach());
  const auto after = generator_state(gen);
  set_generator_state(gen, masks);
  auto loss = in.batches.val_loss(theta);
  set_generator_state(gen, after);
  return loss;
}

MetaTerms MetaAdamW::terms_from(const torch::Tensor& l2, const std::vector<torch::Tensor>& gp,
                                const torch::Tensor& lv_p, const torch::Tensor& lv,
                                const std::vector<torch::Tensor>& g1, const torch::Tensor& lam1,
                                const torch::Tensor& lam2) const {
  const auto G = static_cast<int64_t>(groups_.size());
  MetaTerms terms;
  // 4. Group-level ‖g′_g‖² and cos(g1_g, g′_g) over the group's concatenated tensors.
  if (uses("grad")) {
    std::vector<torch::Tensor> gsq, dot, n1sq;
    for (size_t i = 0; i < gp.size(); ++i) {
      const auto g = gp[i].defined() ? gp[i] : torch::zeros_like(g1[i]);
      gsq.push_back(g.pow(2).sum());
      dot.push_back((g1[i].detach() * g).sum());
      n1sq.push_back(g1[i].detach().pow(2).sum());
    }
    auto per_group = [&](const std::vector<torch::Tensor>& xs) {
      return torch::zeros({G}, l2.options()).index_add(0, group_index_, torch::stack(xs));
    };
    const auto gsq_g = per_group(gsq), dot_g = per_group(dot), n1sq_g = per_group(n1sq).detach();
    const auto ok = (gsq_g > 0) & (n1sq_g > 0);
    const auto safe_gsq = torch::where(ok, gsq_g, torch::ones_like(gsq_g));
    const auto safe_n1 = torch::where(ok, n1sq_g, torch::ones_like(n1sq_g));
    const auto cos =
        torch::where(ok, dot_g / (safe_n1.sqrt() * safe_gsq.sqrt()), torch::zeros_like(dot_g));
    terms.l_grad = (lam1 * gsq_g - lam2 * cos).mean();
  }
  if (uses("dec"))
    terms.l_dec =
        o_.meta_targets() == "fixed" ? (lv_p - (1.0 - o_.dec_target()) * lv).pow(2) : lv_p - lv;
  if (uses("gap")) {
    terms.l_gap = (l2 - lv_p).abs();
    if (o_.meta_targets() == "fixed") terms.l_gap = (terms.l_gap - o_.gap_target()).pow(2);
  }

  // 5. The objective.
  const auto& obj = o_.meta_objective();
  if (obj == "gradient")
    terms.objective = terms.l_grad;
  else if (obj == "loss_decrease")
    terms.objective = terms.l_dec;
  else if (obj == "gen_gap")
    terms.objective = terms.l_gap;
  else {
    const torch::Tensor ls[3] = {terms.l_grad, terms.l_dec, terms.l_gap};
    terms.objective = torch::zeros({}, l2.options());
    for (int i = 0; i < 3; ++i) {
      if (o_.use_huw()) {
        // Priority-injected HUW: ½e^(−s)L + ½πs (regression), e^(−s)L + πs (classification).
        const auto s = huw_s_[i];
        const double pi = o_.huw_priorities()[static_cast<size_t>(i)];
        const double half = o_.task_types()[static_cast<size_t>(i)] == "regression" ? 0.5 : 1.0;
        terms.objective = terms.objective + half * torch::exp(-s) * ls[i] + half * pi * s;
      } else {
        terms.objective =
            terms.objective + o_.aux_loss_fixed_weights()[static_cast<size_t>(i)] * ls[i];
      }
    }
  }
  // 6. Regularization: meta weight decay Σ‖W‖₂ (unsquared), gating L1.
  auto reg = torch::zeros({}, l2.options());
  if (o_.meta_weight_decay() > 0)
    for (const auto& w : modulator_.weight_matrices()) reg = reg + w.norm();
  terms.total = terms.objective + o_.meta_weight_decay() * reg;
  if (gates_.defined() && o_.feature_gating_sparsity() > 0)
    terms.total = terms.total + o_.feature_gating_sparsity() * gates_.abs().sum();
  return terms;
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
  const auto& obj = o_.meta_objective();
  for (size_t i = 0; i < 3; ++i) {
    if (huw_s_.defined()) {
      r.huw_s[i] = h[static_cast<int64_t>(4 + i)];
      const double half = o_.task_types()[i] == "regression" ? 0.5 : 1.0;
      r.huw_weights[i] = half * std::exp(-r.huw_s[i]);
    } else if (obj == "combined") {
      r.huw_weights[i] = o_.aux_loss_fixed_weights()[i];
    } else {
      const char* single[] = {"gradient", "loss_decrease", "gen_gap"};
      r.huw_weights[i] = obj == single[i] ? 1.0 : 0.0;
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
  for (int64_t r = 0; r < 4; ++r) {
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
  return torch::cat({ra > 0 ? near(f.select(1, 0), 1 - ra / 2, 1 + ra / 2) : nan,
                     rb > 0 ? near(f.select(1, 1), 1 - rb / 2, 1 + rb / 2) : nan,
                     near(f.select(1, 2), 0, 1), near(f.select(1, 3), 0, 1)});
}

torch::Tensor MetaAdamW::packed_snapshot() const {
  // One transfer: everything packed into one flat float tensor on the device.
  std::vector<torch::Tensor> parts = {kept_features_.reshape({-1}), kept_factors_.reshape({-1}),
                                      base_.lr() * kept_factors_.select(1, 0),
                                      base_.weight_decay() * kept_factors_.select(1, 1)};
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
  s.factors = take(G * 4);
  s.effective_lr = take(G);
  s.effective_wd = take(G);
  if (!kept_attention_.empty()) s.attention = take(L * H * G * G);
  return s;
}

void MetaAdamW::save(torch::serialize::OutputArchive& a) const {
  a.write("metaadamw.step", torch::tensor(step_, torch::kInt64));
  a.write("metaadamw.meta_updates", torch::tensor(meta_updates_, torch::kInt64));
  a.write("metaadamw.tensor_steps", torch::tensor(tensor_steps_, torch::kInt64));
  for (size_t i = 0; i < params_.size(); ++i) {
    a.write("metaadamw.m." + std::to_string(i), m_[i], true);
    a.write("metaadamw.v." + std::to_string(i), v_[i], true);
  }
  const auto& st = modulator_.store();
  for (size_t i = 0; i < st.parameters().size(); ++i)
    a.write("metaadamw.modulator." + st.info()[i].name, st.parameters()[i].detach(), true);
  if (embedding_.defined()) a.write("metaadamw.embedding", embedding_.detach(), true);
  if (group_offsets_.defined()) a.write("metaadamw.group_offsets", group_offsets_.detach(), true);
  if (gates_.defined()) a.write("metaadamw.gates", gates_.detach(), true);
  if (huw_s_.defined()) a.write("metaadamw.huw_s", huw_s_.detach(), true);
  torch::serialize::OutputArchive opt;
  meta_opt_->save(opt);
  a.write("metaadamw.meta_optimizer", opt);
  torch::serialize::OutputArchive gen;
  gen.write("state", dropout_gen_.get_state(), true);
  a.write("metaadamw.dropout_generator", gen);
}

void MetaAdamW::load(torch::serialize::InputArchive& a) {
  torch::NoGradGuard ng;
  p_sums_ = torch::Tensor();  // the next step reads p, m, v afresh
  auto read = [&](const std::string& key, const torch::Tensor& into) {
    torch::Tensor t;
    if (!a.try_read(key, t, true))
      throw std::runtime_error("MetaAdamW state: missing '" + key + "'");
    if (!t.sizes().equals(into.sizes()))
      throw std::runtime_error("MetaAdamW state: '" + key + "' has another shape");
    into.copy_(t);
  };
  torch::Tensor step, count;  // fresh tensors: try_read into a defined one set_()s it
  if (!a.try_read("metaadamw.step", step)) throw std::runtime_error("not a MetaAdamW state");
  step_ = step.item<int64_t>();
  a.read("metaadamw.meta_updates", count);
  meta_updates_ = count.item<int64_t>();
  torch::Tensor counts;  // per-tensor steps; states saved before them: every tensor at step_
  if (a.try_read("metaadamw.tensor_steps", counts) &&
      counts.numel() == static_cast<int64_t>(params_.size())) {
    const auto c = counts.to(torch::kInt64).contiguous();
    tensor_steps_.assign(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  } else {
    tensor_steps_.assign(params_.size(), step_);
  }
  for (size_t i = 0; i < params_.size(); ++i) {
    read("metaadamw.m." + std::to_string(i), m_[i]);
    read("metaadamw.v." + std::to_string(i), v_[i]);
  }
  auto& st = modulator_.store();
  for (size_t i = 0; i < st.parameters().size(); ++i)
    read("metaadamw.modulator." + st.info()[i].name, st.parameters()[i]);
  if (embedding_.defined()) read("metaadamw.embedding", embedding_);
  if (group_offsets_.defined()) read("metaadamw.group_offsets", group_offsets_);
  if (gates_.defined()) read("metaadamw.gates", gates_);
  if (huw_s_.defined()) read("metaadamw.huw_s", huw_s_);
  torch::serialize::InputArchive opt;
  a.read("metaadamw.meta_optimizer", opt);
  meta_opt_->load(opt);
  torch::serialize::InputArchive gen;
  a.read("metaadamw.dropout_generator", gen);
  torch::Tensor gs;
  gen.read("state", gs, true);
  dropout_gen_.set_state(gs);
}

void MetaAdamW::export_modulator(const std::string& path) const {
  torch::serialize::OutputArchive a;
  const auto& st = modulator_.store();
  // The architecture, so that a mismatch is a clear error on import.
  a.write("arch",
          torch::tensor({features_.dim(), o_.attn_layers(), o_.attn_heads(), o_.attn_hidden_dim()},
                        torch::kInt64));
  a.write("design", torch::tensor(o_.paper_design() ? int64_t{0} : int64_t{1}, torch::kInt64));
  for (size_t i = 0; i < st.parameters().size(); ++i)
    a.write("modulator." + st.info()[i].name, st.parameters()[i].detach().cpu(), true);
  if (gates_.defined()) a.write("gates", gates_.detach().cpu(), true);
  try {
    a.save_to(path);
  } catch (const c10::Error& e) {
    throw DataError("cannot write modulator file '" + path +
                    "': " + first_line(e.what_without_backtrace()));
  }
}

void MetaAdamW::import_modulator(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw DataError("cannot read modulator file '" + path + "': no such file");
  if (!std::filesystem::is_regular_file(path, ec))
    throw DataError("cannot read modulator file '" + path + "': not a regular file");
  // LibTorch's errors (not an archive, a damaged one) as one line that names the file.
  try {
    torch::serialize::InputArchive a;
    a.load_from(path);
    torch::Tensor arch;
    if (!a.try_read("arch", arch)) throw DataError("'" + path + "' is not an exported modulator");
    const auto want = torch::tensor(
        {features_.dim(), o_.attn_layers(), o_.attn_heads(), o_.attn_hidden_dim()}, torch::kInt64);
    if (!torch::equal(arch, want))
      throw ConfigError("modulator in '" + path +
                        "' has another architecture (feature_dim, attn_layers, attn_heads, "
                        "attn_hidden_dim) than this run's");
    torch::Tensor design;  // exports made before the learning design are the paper's
    const bool paper = !a.try_read("design", design) || design.item<int64_t>() == 0;
    if (paper != o_.paper_design())
      throw ConfigError("modulator in '" + path + "' has the " + (paper ? "paper" : "learning") +
                        " design; this run's modulator_design is " + o_.modulator_design());
    torch::NoGradGuard ng;
    auto& st = modulator_.store();
    for (size_t i = 0; i < st.parameters().size(); ++i) {
      torch::Tensor t;
      a.read("modulator." + st.info()[i].name, t, true);
      st.parameters()[i].copy_(t);
    }
    torch::Tensor g;
    if (gates_.defined() && a.try_read("gates", g, true)) gates_.copy_(g);
  } catch (const c10::Error& e) {
    throw DataError("modulator file '" + path + "' is damaged or not an exported modulator (" +
                    first_line(e.what_without_backtrace()) + ")");
  }
}

}  // namespace maw::optim
