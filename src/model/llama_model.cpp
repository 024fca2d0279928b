#include "model/llama_model.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "format/error.h"
#include "kernels/quantize.h"

namespace tandem {

namespace {

int32_t hparam(const GgufFile& f, const std::string& key, int64_t lo, int64_t hi) {
  int64_t v = f.get_int(key);
  if (v < lo || v > hi)
    throw Error("model hyperparameter " + key + " = " + std::to_string(v) + " is out of range [" +
                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return int32_t(v);
}

const GgufTensorInfo& tensor(const GgufFile& f, const std::string& name) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (!t) throw Error("model is missing tensor '" + name + "'");
  return *t;
}

void expect_shape(const GgufTensorInfo& t, int64_t ne0, int64_t ne1) {
  bool ok = ne1 == 0 ? (t.n_dims == 1 && t.ne[0] == ne0)
                     : (t.n_dims == 2 && t.ne[0] == ne0 && t.ne[1] == ne1);
  if (!ok)
    throw Error("tensor '" + t.name + "' has shape " + t.shape_string() + ", expected [" + std::to_string(ne0) +
                (ne1 ? ", " + std::to_string(ne1) : "") + "]");
}

WeightMatrix matrix(const GgufFile& f, const std::string& name, int64_t cols, int64_t rows) {
  const GgufTensorInfo& t = tensor(f, name);
  expect_shape(t, cols, rows);
  if (!is_supported_weight_type(t.type))
    throw Error("tensor '" + name + "' has type " + std::string(type_name(t.type)) +
                ", which this engine cannot compute with yet (supported: f32, f16, bf16, q8_0, q4_0, q4_1, "
                "q5_0, q5_1, q4_k, q5_k, q6_k)");
  WeightMatrix m;
  m.type = t.type;
  m.cols = cols;
  m.rows = rows;
  m.row_bytes = row_bytes(t.type, size_t(cols));
  m.data = t.data;
  return m;
}

std::vector<float> vector_f32(const GgufFile& f, const std::string& name, int64_t n) {
  const GgufTensorInfo& t = tensor(f, name);
  expect_shape(t, n, 0);
  if (t.type != TensorType::F32 && t.type != TensorType::F16 && t.type != TensorType::BF16)
    throw Error("vector tensor '" + name + "' has unsupported type " + std::string(type_name(t.type)));
  std::vector<float> v(static_cast<size_t>(n));
  dequantize_row(t.type, t.data, v.data(), size_t(n));
  for (float x : v)
    if (!std::isfinite(x)) throw Error("tensor '" + name + "' holds a non-finite value");
  return v;
}

// {arch}.rope.scaling.type / .factor as llama.cpp reads them: the type defaults to linear, the
// factor (or the older rope.scale_linear) to none; type "none" never scales. YaRN and LongRoPE
// change more than the angles' scale and are refused rather than run wrongly.
void read_rope_scaling(const GgufFile& f, const std::string& a, LlamaHparams& hp) {
  const std::string type = std::string(f.opt_string(a + "rope.scaling.type").value_or("linear"));
  if (type != "linear" && type != "none")
    throw Error(a + "rope.scaling.type '" + type + "' is not supported (supported: none, linear)");
  double factor = f.opt_float(a + "rope.scaling.factor").value_or(f.opt_float(a + "rope.scale_linear").value_or(0.0));
  if (!std::isfinite(factor) || factor < 0 || (factor > 0 && factor < 1e-3) || factor > 1e6)
    throw Error(a + "rope.scaling.factor " + std::to_string(factor) + " is out of range");
  hp.rope_freq_scale = (factor == 0 || type == "none") ? 1.0f : 1.0f / float(factor);
  if (auto af = f.opt_float(a + "rope.scaling.attn_factor"); af && *af != 1.0)
    throw Error(a + "rope.scaling.attn_factor != 1 is not supported");
}

// The hyperparameters (architecture-prefixed keys), each checked against the others.
LlamaHparams read_hparams(const GgufFile& f) {
  LlamaHparams hp;
  hp.arch = std::string(f.get_string("general.architecture"));
  const bool qwen2 = hp.arch == "qwen2";
  if (hp.arch != "llama" && !qwen2)
    throw Error("model architecture '" + hp.arch + "' is not supported (supported: llama, qwen2)");
  // llama.cpp's rope type per architecture: NORM for llama, NEOX for qwen2.
  hp.rope_style = qwen2 ? RopeStyle::Neox : RopeStyle::Adjacent;
  const std::string a = hp.arch + ".";  // hyperparameter keys are prefixed by the architecture
  hp.n_embd = hparam(f, a + "embedding_length", 1, 1 << 16);
  hp.n_layer = hparam(f, a + "block_count", 1, 1024);
  hp.n_head = hparam(f, a + "attention.head_count", 1, 1024);
  hp.n_head_kv = f.has(a + "attention.head_count_kv") ? hparam(f, a + "attention.head_count_kv", 1, 1024) : hp.n_head;
  hp.n_ff = hparam(f, a + "feed_forward_length", 1, 1 << 20);
  hp.n_ctx_train = hparam(f, a + "context_length", 1, 1 << 24);
  if (hp.n_embd % hp.n_head != 0)
    throw Error("embedding_length " + std::to_string(hp.n_embd) + " is not a multiple of head_count " +
                std::to_string(hp.n_head));
  if (hp.n_head % hp.n_head_kv != 0)
    throw Error("head_count " + std::to_string(hp.n_head) + " is not a multiple of head_count_kv " +
                std::to_string(hp.n_head_kv));
  hp.head_dim = hp.n_embd / hp.n_head;
  for (const char* k : {"attention.key_length", "attention.value_length"})
    if (auto v = f.opt_int(a + k); v && *v != hp.head_dim)
      throw Error(a + k + " = " + std::to_string(*v) + " differs from embedding_length / head_count = " +
                  std::to_string(hp.head_dim) + "; heads of another size are not supported");
  hp.n_rot = f.has(a + "rope.dimension_count") ? hparam(f, a + "rope.dimension_count", 2, hp.head_dim) : hp.head_dim;
  if (hp.n_rot % 2 != 0) throw Error("rope.dimension_count must be even");
  hp.rms_eps = float(f.opt_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
  hp.rope_base = float(f.opt_float(a + "rope.freq_base").value_or(10000.0));
  if (!(hp.rms_eps > 0 && hp.rms_eps < 1)) throw Error("layer_norm_rms_epsilon is out of range");
  if (!(hp.rope_base > 1 && std::isfinite(hp.rope_base))) throw Error("rope.freq_base is out of range");
  read_rope_scaling(f, a, hp);

  return hp;
}

// One block's weights; qwen2 always has Q/K/V biases, and llama.cpp's llama graph takes them (and
// an output bias) when present.
LlamaLayer read_layer(const GgufFile& f, const LlamaHparams& hp, int32_t i) {
  const int64_t e = hp.n_embd, kv = hp.kv_dim(), ff = hp.n_ff;
  const bool qwen2 = hp.arch == "qwen2";
  auto bias = [&](const std::string& name, int64_t n, bool required) {
    if (!required && !f.find_tensor(name)) return std::vector<float>();
    return vector_f32(f, name, n);
  };
  const std::string p = "blk." + std::to_string(i) + ".";
  LlamaLayer L;
  L.attn_norm = vector_f32(f, p + "attn_norm.weight", e);
  L.ffn_norm = vector_f32(f, p + "ffn_norm.weight", e);
  L.wq = matrix(f, p + "attn_q.weight", e, e);
  L.wk = matrix(f, p + "attn_k.weight", e, kv);
  L.wv = matrix(f, p + "attn_v.weight", e, kv);
  L.wo = matrix(f, p + "attn_output.weight", e, e);
  L.w_gate = matrix(f, p + "ffn_gate.weight", e, ff);
  L.w_up = matrix(f, p + "ffn_up.weight", e, ff);
  L.w_down = matrix(f, p + "ffn_down.weight", ff, e);
  L.bq = bias(p + "attn_q.bias", e, qwen2);
  L.bk = bias(p + "attn_k.bias", kv, qwen2);
  L.bv = bias(p + "attn_v.bias", kv, qwen2);
  L.bo = bias(p + "attn_output.bias", e, false);
  return L;
}

}  // namespace

std::unique_ptr<LlamaModel> LlamaModel::load(const std::string& path, const std::function<void(float)>& progress) {
  if (progress) progress(0.f);
  GgufFile f = GgufFile::open(path);
  try {
    return from_gguf(std::move(f), progress);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

std::unique_ptr<LlamaModel> LlamaModel::from_gguf(GgufFile file, const std::function<void(float)>& progress) {
  auto m = std::unique_ptr<LlamaModel>(new LlamaModel());
  m->file_ = std::move(file);
  const GgufFile& f = m->file_;
  m->hp_ = read_hparams(f);
  const LlamaHparams& hp = m->hp_;
  const std::string a = hp.arch + ".";
  const GgufTensorInfo& emb = tensor(f, "token_embd.weight");
  if (emb.n_dims != 2 || emb.ne[0] != hp.n_embd || emb.ne[1] < 1 || emb.ne[1] > (1 << 24))
    throw Error("tensor 'token_embd.weight' has shape " + emb.shape_string() + ", expected [" +
                std::to_string(hp.n_embd) + ", n_vocab]");
  m->hp_.n_vocab = int32_t(emb.ne[1]);
  if (auto nv = f.opt_int(a + "vocab_size"); nv && *nv != hp.n_vocab)
    throw Error("vocab_size " + std::to_string(*nv) + " disagrees with token_embd rows " + std::to_string(hp.n_vocab));
  if (auto toks = f.find("tokenizer.ggml.tokens"); toks && toks->count != uint64_t(hp.n_vocab))
    throw Error("tokenizer has " + std::to_string(toks->count) + " tokens but token_embd has " +
                std::to_string(hp.n_vocab) + " rows");
  const TensorType et = emb.type;
  if (!is_supported_weight_type(et))
    throw Error("token_embd.weight has unsupported type " + std::string(type_name(et)));
  m->tok_embd_ = WeightMatrix{et, hp.n_embd, hp.n_vocab, row_bytes(et, size_t(hp.n_embd)), emb.data};

  m->output_norm_ = vector_f32(f, "output_norm.weight", hp.n_embd);
  if (f.find_tensor("output.weight")) {
    m->output_ = matrix(f, "output.weight", hp.n_embd, hp.n_vocab);
  } else {
    if (!is_supported_weight_type(et)) throw Error("tied output needs a supported token_embd type");
    m->output_ = m->tok_embd_;
    m->output_tied_ = true;
  }

  // Llama 3's frequency factors (llama.cpp: LLM_TENSOR_ROPE_FREQS, one tensor for all layers).
  if (f.find_tensor("rope_freqs.weight")) {
    m->rope_freqs_ = vector_f32(f, "rope_freqs.weight", hp.n_rot / 2);
    for (float x : m->rope_freqs_)
      if (!(x > 0)) throw Error("rope_freqs.weight holds a factor that is not positive");
  }

  m->layers_.resize(size_t(hp.n_layer));
  for (int32_t i = 0; i < hp.n_layer; ++i) m->layers_[size_t(i)] = read_layer(f, hp, i);
  m->interleave_weights(progress);
  return m;
}

size_t LlamaModel::weight_bytes_per_token() const {
  size_t b = tok_embd_.row_bytes + output_.bytes();
  for (const auto& L : layers_)
    b += L.wq.bytes() + L.wk.bytes() + L.wv.bytes() + L.wo.bytes() + L.w_gate.bytes() + L.w_up.bytes() +
         L.w_down.bytes() +
         (2 * L.attn_norm.size() + L.bq.size() + L.bk.size() + L.bv.size() + L.bo.size()) * sizeof(float);
  return b;
}

size_t LlamaModel::total_weight_bytes() const {
  size_t b = 0;
  for (const auto& t : file_.tensors()) b += t.nbytes;
  return b;
}

int64_t LlamaModel::n_params() const {
  int64_t n = 0;
  for (const auto& t : file_.tensors()) n += t.n_elements();
  return n;
}

std::string LlamaModel::type_summary() const {
  std::map<std::string, size_t> bytes;
  for (const auto& t : file_.tensors())
    if (t.n_dims == 2) bytes[std::string(type_name(t.type))] += t.nbytes;
  std::string main, rest;
  size_t best = 0;
  for (auto& [k, v] : bytes)
    if (v > best) { best = v; main = k; }
  for (auto& [k, v] : bytes)
    if (k != main) rest += (rest.empty() ? "" : ", ") + k;
  return rest.empty() ? main : main + " (+" + rest + ")";
}

}  // namespace tandem
