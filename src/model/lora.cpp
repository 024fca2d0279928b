#include "model/lora.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "format/error.h"
#include "kernels/quantize.h"

namespace tandem {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The base matrix a tensor name refers to, as (layer, target); false if it is none we adapt.
bool parse_target(const std::string& name, int32_t n_layer, int32_t* layer, LoraTarget* target) {
  if (name == "output.weight") {
    *layer = -1;
    *target = LoraTarget::Output;
    return true;
  }
  if (name.rfind("blk.", 0) != 0) return false;
  const char* p = name.c_str() + 4;
  char* end = nullptr;
  const long l = std::strtol(p, &end, 10);
  if (end == p || *end != '.' || l < 0 || l >= n_layer) return false;
  if (std::to_string(l) != std::string(p, size_t(end - p))) return false;  // no "blk.01."
  static const std::pair<const char*, LoraTarget> kinds[] = {
      {"attn_q.weight", LoraTarget::Q},         {"attn_k.weight", LoraTarget::K},
      {"attn_v.weight", LoraTarget::V},         {"attn_output.weight", LoraTarget::O},
      {"ffn_gate.weight", LoraTarget::Gate},    {"ffn_up.weight", LoraTarget::Up},
      {"ffn_down.weight", LoraTarget::Down}};
  for (const auto& [suffix, t] : kinds)
    if (std::string(end + 1) == suffix) {
      *layer = int32_t(l);
      *target = t;
      return true;
    }
  return false;
}

const WeightMatrix& base_matrix(const LlamaModel& m, int32_t layer, LoraTarget t) {
  if (t == LoraTarget::Output) return m.output();
  const LlamaLayer& L = m.layers()[size_t(layer)];
  switch (t) {
    case LoraTarget::Q: return L.wq;
    case LoraTarget::K: return L.wk;
    case LoraTarget::V: return L.wv;
    case LoraTarget::O: return L.wo;
    case LoraTarget::Gate: return L.w_gate;
    case LoraTarget::Up: return L.w_up;
    default: return L.w_down;
  }
}

std::vector<float> to_f32(const GgufTensorInfo& t) {
  if (t.type != TensorType::F32 && t.type != TensorType::F16 && t.type != TensorType::BF16 &&
      t.type != TensorType::Q8_0)
    throw Error("LoRA tensor '" + t.name + "' has type " + std::string(type_name(t.type)) +
                " (supported: f32, f16, bf16, q8_0)");
  const size_t n = size_t(t.ne[0]), rows = size_t(t.ne[1]);
  std::vector<float> v(n * rows);
  const size_t rb = row_bytes(t.type, n);
  for (size_t r = 0; r < rows; ++r) dequantize_row(t.type, t.data + r * rb, v.data() + r * n, n);
  for (float x : v)
    if (!std::isfinite(x)) throw Error("LoRA tensor '" + t.name + "' holds a non-finite value");
  return v;
}

}  // namespace

std::shared_ptr<const LoraAdapter> LoraAdapter::load(const std::string& path, const LlamaModel& base) {
  GgufFile f = GgufFile::open(path);
  try {
    return from_gguf(f, base, path);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::shared_ptr<const LoraAdapter> LoraAdapter::from_gguf(const GgufFile& f, const LlamaModel& base,
                                                          std::string name) {
  const LlamaHparams& hp = base.hparams();
  auto ad = std::make_shared<LoraAdapter>();
  ad->name_ = std::move(name);
  const std::string type = std::string(f.opt_string("general.type").value_or(""));
  if (type != "adapter")
    throw Error("not a LoRA adapter: general.type is '" + type + "', expected 'adapter'" +
                (type == "model" || type.empty() ? " (is this a model file?)" : ""));
  const std::string adapter_type = std::string(f.opt_string("adapter.type").value_or(""));
  if (adapter_type != "lora")
    throw Error("adapter.type is '" + adapter_type + "', expected 'lora' (control vectors and other adapters are not supported)");
  ad->arch_ = std::string(f.opt_string("general.architecture").value_or(""));
  if (ad->arch_ != hp.arch)
    throw Error("adapter is for architecture '" + ad->arch_ + "' but the model is '" + hp.arch + "'");
  const double alpha = f.opt_float("adapter.lora.alpha").value_or(0.0);
  if (!std::isfinite(alpha)) throw Error("adapter.lora.alpha is not finite");
  ad->alpha_ = float(alpha);
  ad->n_layer_ = hp.n_layer;
  ad->slots_.assign(size_t(hp.n_layer) * kLoraLayerTargets + 1, -1);

  // Pair NAME.lora_a with NAME.lora_b.
  struct Pair { const GgufTensorInfo* a = nullptr; const GgufTensorInfo* b = nullptr; };
  std::map<std::string, Pair> pairs;
  for (const auto& t : f.tensors()) {
    if (ends_with(t.name, ".lora_a")) pairs[t.name.substr(0, t.name.size() - 7)].a = &t;
    else if (ends_with(t.name, ".lora_b")) pairs[t.name.substr(0, t.name.size() - 7)].b = &t;
    else if (ends_with(t.name, "_norm.weight")) continue;  // llama.cpp ignores norm adapters too
    else throw Error("LoRA tensor '" + t.name + "' is neither NAME.lora_a nor NAME.lora_b");
  }
  if (pairs.empty()) throw Error("adapter has no lora_a/lora_b tensors");

  for (const auto& [target_name, p] : pairs) {
    if (!p.a || !p.b)
      throw Error("LoRA tensor pair for '" + target_name + "' is missing its " + (p.a ? "lora_b" : "lora_a"));
    if (target_name == "token_embd.weight")
      throw Error("adapters of token_embd.weight are not supported");
    if (!base.gguf().find_tensor(target_name))
      throw Error("LoRA tensor '" + target_name + "' does not exist in the base model");
    int32_t layer = 0;
    LoraTarget target{};
    if (!parse_target(target_name, hp.n_layer, &layer, &target))
      throw Error("LoRA for '" + target_name + "' is not supported (adaptable: attn_q/k/v/output, ffn_gate/up/down, output)");
    const WeightMatrix& w = base_matrix(base, layer, target);
    const GgufTensorInfo& a = *p.a;
    const GgufTensorInfo& b = *p.b;
    if (a.n_dims != 2 || b.n_dims != 2)
      throw Error("LoRA tensors of '" + target_name + "' must be 2-D (lora_a " + a.shape_string() + ", lora_b " +
                  b.shape_string() + ")");
    if (a.ne[0] != w.cols || b.ne[1] != w.rows)
      throw Error("LoRA for '" + target_name + "' has lora_a " + a.shape_string() + " and lora_b " + b.shape_string() +
                  "; the base matrix is [" + std::to_string(w.cols) + ", " + std::to_string(w.rows) +
                  "], so expected lora_a [" + std::to_string(w.cols) + ", rank] and lora_b [rank, " +
                  std::to_string(w.rows) + "]");
    if (a.ne[1] != b.ne[0])
      throw Error("LoRA for '" + target_name + "' has rank " + std::to_string(a.ne[1]) + " in lora_a but " +
                  std::to_string(b.ne[0]) + " in lora_b (lora_a must be stored transposed, ne = [n_in, rank])");
    if (a.ne[1] < 1 || a.ne[1] > 4096)
      throw Error("LoRA for '" + target_name + "' has rank " + std::to_string(a.ne[1]) + ", outside [1, 4096]");
    LoraMatrix m;
    m.rank = int32_t(a.ne[1]);
    m.n_in = w.cols;
    m.n_out = w.rows;
    m.a = to_f32(a);
    const std::vector<float> bv = to_f32(b);  // [n_out][rank]
    m.bt.resize(bv.size());
    for (int64_t o = 0; o < m.n_out; ++o)
      for (int32_t r = 0; r < m.rank; ++r) m.bt[size_t(r) * size_t(m.n_out) + size_t(o)] = bv[size_t(o) * size_t(m.rank) + size_t(r)];
    ad->max_rank_ = std::max(ad->max_rank_, m.rank);
    const size_t slot = target == LoraTarget::Output ? ad->slots_.size() - 1
                                                     : size_t(layer) * kLoraLayerTargets + size_t(target);
    ad->slots_[slot] = int32_t(ad->mats_.size());
    ad->mats_.push_back(std::move(m));
  }
  return ad;
}

size_t LoraAdapter::bytes() const {
  size_t n = 0;
  for (const auto& m : mats_) n += (m.a.size() + m.bt.size()) * sizeof(float);
  return n;
}

bool LoraAdapter::fits(const LlamaModel& model) const {
  const LlamaHparams& hp = model.hparams();
  if (hp.arch != arch_ || hp.n_layer != n_layer_) return false;
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s] < 0) continue;
    const bool out = s + 1 == slots_.size();
    const WeightMatrix& w = base_matrix(model, out ? -1 : int32_t(s / kLoraLayerTargets),
                                        out ? LoraTarget::Output : LoraTarget(s % kLoraLayerTargets));
    const LoraMatrix& m = mats_[size_t(slots_[s])];
    if (m.n_in != w.cols || m.n_out != w.rows) return false;
  }
  return true;
}

LoraUse parse_lora_arg(const std::string& arg, const LlamaModel& base) {
  std::string path = arg;
  float scale = 1.0f;
  if (const size_t colon = arg.rfind(':'); colon != std::string::npos && colon + 1 < arg.size()) {
    const std::string tail = arg.substr(colon + 1);
    char* end = nullptr;
    const float v = std::strtof(tail.c_str(), &end);
    if (end && *end == '\0') {
      if (!std::isfinite(v)) throw Error("LoRA scale '" + tail + "' is not a finite number");
      path = arg.substr(0, colon);
      scale = v;
    }
  }
  return LoraUse{LoraAdapter::load(path, base), scale};
}

}  // namespace tandem
