// MetaAdamW's meta-objective (METAADAMW.md §5 steps 1–6): the look-ahead θ′ as a function
// of the modulator's factors, then the terms by one of two algorithms for the meta-Hessian
// — exact (a double backward) or differenced (first-order passes only).
#include "optim/metaadamw.h"
#include "optim/metaadamw_internal.h"

#include "api/factors.h"

#include <cmath>

namespace maw::optim {

MetaTerms MetaAdamW::meta_objective(const MetaInputs& in) const {
  // 1. Factors with graph.
  const auto feats = features_.assemble(in.stats, embedding_, gates_, in.step);
  const auto out = modulator_.forward(feats, /*training=*/true, false,
                                      const_cast<at::Generator*>(&dropout_gen_), group_offsets_);
  const auto theta_p = lookahead(in, out.factors);
  const auto lam1 = out.factors.select(1, factor::lambda1);  // [G]
  const auto lam2 = out.factors.select(1, factor::lambda2);
  // 3.–6. by the meta-Hessian's algorithm (options.h, meta_hessian).
  MetaTerms terms = o_.meta_hessian() == MetaHessian::exact
                        ? exact_terms(in, theta_p, lam1, lam2)
                        : differenced_terms(in, theta_p, lam1, lam2);
  terms.factors = out.factors;
  return terms;
}

std::vector<torch::Tensor> MetaAdamW::lookahead(const MetaInputs& in,
                                                const torch::Tensor& factors) const {
  const double lr = base_.lr(), wd = base_.weight_decay();
  const double bc1 = 1.0 - std::pow(base_.beta1(), static_cast<double>(in.step));
  const double bc2 = 1.0 - std::pow(base_.beta2(), static_cast<double>(in.step));
  const auto alpha = factors.select(1, factor::alpha).index_select(0, group_index_);  // [N]
  const auto beta = factors.select(1, factor::beta).index_select(0, group_index_);
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
  return theta_p;
}

MetaTerms MetaAdamW::exact_terms(const MetaInputs& in, const std::vector<torch::Tensor>& theta_p,
                                 const torch::Tensor& lam1, const torch::Tensor& lam2) const {
  // 3. L2 = loss(θ′; b2), g′ = ∂L2/∂θ′ with create_graph: the backward below runs
  // through this backward (second order).
  const auto l2 = in.batches.train_loss(theta_p);
  std::vector<torch::Tensor> gp;
  if (uses(Term::grad)) {
    gp = torch::autograd::grad({l2}, theta_p, {}, /*retain_graph=*/true,
                               /*create_graph=*/true, /*allow_unused=*/true);
    if (in.batches.combine) {  // data-parallel: this rank's part → the global batch's g′
      for (size_t i = 0; i < gp.size(); ++i)
        if (!gp[i].defined()) gp[i] = torch::zeros_like(theta_p[i]);
      gp = in.batches.combine(gp);
    }
  }
  torch::Tensor lv_p, lv;
  auto gen = model_generator(theta_p.front().device());
  const auto masks_v = generator_state(gen);  // the dropout masks of the pass on bv
  if (uses(Term::dec) || uses(Term::gap)) lv_p = in.batches.val_loss(theta_p);  // shared by both
  if (uses(Term::dec)) lv = val_loss_at_theta(in, gen, masks_v);
  return terms_from(l2, gp, lv_p, lv, in.g1, lam1, lam2);
}

MetaTerms MetaAdamW::differenced_terms(const MetaInputs& in,
                                       const std::vector<torch::Tensor>& theta_p,
                                       const torch::Tensor& lam1, const torch::Tensor& lam2) const {
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
    return b.combine ? b.combine(g) : g;
  };
  torch::Tensor l2, lv_p, lv;
  const auto g2 = gradient(in.batches, true, leaf, l2);
  const auto masks_v = generator_state(gen);  // the dropout masks of the pass on bv
  std::vector<torch::Tensor> gv;
  if (uses(Term::dec) || uses(Term::gap)) gv = gradient(in.batches, false, leaf, lv_p);
  if (uses(Term::dec)) lv = val_loss_at_theta(in, gen, masks_v);
  const auto after = generator_state(gen);

  auto stand_in = [](const torch::Tensor& x) { return x.detach().requires_grad_(true); };
  const auto l2_s = stand_in(l2);
  const auto lv_p_s = lv_p.defined() ? stand_in(lv_p) : torch::Tensor();
  std::vector<torch::Tensor> gp_s;
  if (uses(Term::grad))
    for (const auto& g : g2) gp_s.push_back(stand_in(g));
  MetaTerms terms = terms_from(l2_s, gp_s, lv_p_s, lv, in.g1, lam1, lam2);

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
      const bool central = o_.meta_hessian() == MetaHessian::central_difference;
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
  if (uses(Term::grad)) {
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
  if (uses(Term::dec))
    terms.l_dec = o_.meta_targets() == MetaTargets::fixed
                      ? (lv_p - (1.0 - o_.dec_target()) * lv).pow(2)
                      : lv_p - lv;
  if (uses(Term::gap)) {
    terms.l_gap = (l2 - lv_p).abs();
    if (o_.meta_targets() == MetaTargets::fixed)
      terms.l_gap = (terms.l_gap - o_.gap_target()).pow(2);
  }

  // 5. The objective.
  const auto obj = o_.meta_objective();
  if (obj == MetaObjective::gradient)
    terms.objective = terms.l_grad;
  else if (obj == MetaObjective::loss_decrease)
    terms.objective = terms.l_dec;
  else if (obj == MetaObjective::gen_gap)
    terms.objective = terms.l_gap;
  else {
    const torch::Tensor ls[3] = {terms.l_grad, terms.l_dec, terms.l_gap};
    terms.objective = torch::zeros({}, l2.options());
    for (int i = 0; i < 3; ++i) {
      if (o_.use_huw()) {
        // Priority-injected HUW: ½e^(−s)L + ½πs (regression), e^(−s)L + πs (classification).
        const auto s = huw_s_[i];
        const double pi = o_.huw_priorities()[static_cast<size_t>(i)];
        const double half =
            o_.task_types()[static_cast<size_t>(i)] == TermType::regression ? 0.5 : 1.0;
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

}  // namespace maw::optim
