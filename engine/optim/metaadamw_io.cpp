// MetaAdamW's state (METAADAMW.md §7): the checkpoint section, and the modulator alone as
// a file for another run or task.
#include "optim/metaadamw.h"
#include "optim/metaadamw_internal.h"

#include "optim/meta_optimizer.h"

#include <filesystem>

#include "api/errors.h"

namespace maw::optim {

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
                        " design; this run's modulator_design is " +
                        name_of(o_.modulator_design()));
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
