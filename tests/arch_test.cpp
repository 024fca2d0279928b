// Architectures beyond plain llama, checked against a slow scalar reference written here straight
// from the formulas (no llama.cpp outputs exist for qwen2 or rope scaling in ../shared):
//   x = embd[tok]; per layer: h = rmsnorm(x)·w_attn; q,k,v = W·h + b; rotate q,k;
//   attention with GQA and softmax; x += Wo·att (+bo); h = rmsnorm(x)·w_ffn;
//   x += Wdown·(silu(Wgate·h) * Wup·h); logits = Wout·(rmsnorm(x)·w_out)
// computed in double on tiny f32 models written with GgufWriter. (Every synth shape loading and
// running through the CLI: arch_cli_test.cpp.)
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/context.h"
#include "format/error.h"
#include "format/gguf_writer.h"
#include "kernels/fp16.h"
#include "test_util.h"

using namespace tandem;

namespace {

struct TinySpec {
  std::string arch = "llama";
  int n_embd = 48, n_head = 6, n_head_kv = 2, n_ff = 64, n_vocab = 40, n_layer = 2;
  float rope_base = 100.f;  // low, so that every frequency turns within a dozen positions
  float rms_eps = 1e-5f;
  bool tied = false;
  bool qkv_bias = false, o_bias = false;
  std::vector<float> rope_freqs;  // empty: none
  std::string scaling_type;       // empty: no key
  float scaling_factor = 0;       // 0: no key
};

// The tiny model's weights, kept as floats for the reference.
struct TinyModel {
  TinySpec spec;
  std::vector<uint8_t> bytes;  // the GGUF file, which LlamaModel views in place
  std::map<std::string, std::vector<float>> w;
  std::unique_ptr<LlamaModel> model;
};

std::unique_ptr<TinyModel> make_tiny(const TinySpec& s, uint32_t seed) {
  auto t = std::make_unique<TinyModel>();
  t->spec = s;
  std::mt19937 rng(seed);
  const int hd = s.n_embd / s.n_head, kv = hd * s.n_head_kv;
  struct Decl { std::string name; std::vector<int64_t> shape; float mean, sigma; };
  std::vector<Decl> decls;
  decls.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, 0, 1.0f});
  decls.push_back({"output_norm.weight", {s.n_embd}, 1, 0.1f});
  if (!s.tied) decls.push_back({"output.weight", {s.n_embd, s.n_vocab}, 0, 0.2f});
  if (!s.rope_freqs.empty()) decls.push_back({"rope_freqs.weight", {int64_t(s.rope_freqs.size())}, 0, 0});
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    decls.push_back({p + "attn_norm.weight", {s.n_embd}, 1, 0.1f});
    decls.push_back({p + "attn_q.weight", {s.n_embd, s.n_embd}, 0, 0.25f});
    decls.push_back({p + "attn_k.weight", {s.n_embd, kv}, 0, 0.25f});
    decls.push_back({p + "attn_v.weight", {s.n_embd, kv}, 0, 0.25f});
    if (s.qkv_bias) {
      decls.push_back({p + "attn_q.bias", {s.n_embd}, 0, 0.5f});
      decls.push_back({p + "attn_k.bias", {kv}, 0, 0.5f});
      decls.push_back({p + "attn_v.bias", {kv}, 0, 0.5f});
    }
    decls.push_back({p + "attn_output.weight", {s.n_embd, s.n_embd}, 0, 0.2f});
    if (s.o_bias) decls.push_back({p + "attn_output.bias", {s.n_embd}, 0, 0.5f});
    decls.push_back({p + "ffn_norm.weight", {s.n_embd}, 1, 0.1f});
    decls.push_back({p + "ffn_gate.weight", {s.n_embd, s.n_ff}, 0, 0.2f});
    decls.push_back({p + "ffn_up.weight", {s.n_embd, s.n_ff}, 0, 0.2f});
    decls.push_back({p + "ffn_down.weight", {s.n_ff, s.n_embd}, 0, 0.2f});
  }
  GgufWriter wr;
  const std::string a = s.arch + ".";
  wr.set_string("general.architecture", s.arch);
  wr.set_u32(a + "context_length", 256);
  wr.set_u32(a + "embedding_length", uint32_t(s.n_embd));
  wr.set_u32(a + "block_count", uint32_t(s.n_layer));
  wr.set_u32(a + "feed_forward_length", uint32_t(s.n_ff));
  wr.set_u32(a + "attention.head_count", uint32_t(s.n_head));
  wr.set_u32(a + "attention.head_count_kv", uint32_t(s.n_head_kv));
  wr.set_f32(a + "rope.freq_base", s.rope_base);
  wr.set_f32(a + "attention.layer_norm_rms_epsilon", s.rms_eps);
  if (!s.scaling_type.empty()) wr.set_string(a + "rope.scaling.type", s.scaling_type);
  if (s.scaling_factor != 0) wr.set_f32(a + "rope.scaling.factor", s.scaling_factor);
  for (const auto& d : decls) wr.add_tensor(d.name, TensorType::F32, d.shape);
  wr.open(&t->bytes);
  for (size_t i = 0; i < decls.size(); ++i) {
    const auto& d = decls[i];
    size_t n = 1;
    for (auto x : d.shape) n *= size_t(x);
    std::vector<float> v(n);
    if (d.name == "rope_freqs.weight") {
      v = s.rope_freqs;
    } else {
      std::normal_distribution<float> nd(d.mean, d.sigma);
      for (auto& x : v) x = nd(rng);
    }
    wr.write_tensor_data(i, v.data(), v.size() * 4);
    t->w[d.name] = std::move(v);
  }
  wr.finish();
  t->model = LlamaModel::from_gguf(GgufFile::parse(t->bytes.data(), t->bytes.size()));
  return t;
}

// What the reference may get wrong on purpose, to show the comparison can tell.
struct RefOptions {
  bool neox = false;
  bool use_freqs = true;
  bool use_bias = true;
  double freq_scale = 1.0;
  // Model llama.cpp's attention storage precision (docs/engine.md): q, k, v rounded to fp16
  // (the KV cache and flash attention's query), and the value sum of the online softmax kept in
  // an fp16 accumulator. Off: everything in double.
  bool f16_attention = false;
};

double round_f16(double x) { return double(fp16_to_f32(f32_to_fp16(float(x)))); }

// Logits of every position of `tokens`, in double, from the formulas.
std::vector<std::vector<double>> reference_logits(const TinyModel& t, const std::vector<int32_t>& tokens,
                                                  const RefOptions& o) {
  const TinySpec& s = t.spec;
  const int e = s.n_embd, hd = e / s.n_head, kvd = hd * s.n_head_kv, ff = s.n_ff, nrot = hd;
  auto W = [&](const std::string& n) -> const std::vector<float>& { return t.w.at(n); };
  auto has = [&](const std::string& n) { return t.w.count(n) > 0; };
  // y[r] = sum_c M[r][c] x[c] for a GGUF matrix of ne = [cols, rows].
  auto matvec = [](const std::vector<float>& m, const std::vector<double>& x, int rows) {
    const size_t cols = x.size();
    std::vector<double> y(size_t(rows), 0.0);
    for (int r = 0; r < rows; ++r)
      for (size_t c = 0; c < cols; ++c) y[size_t(r)] += double(m[size_t(r) * cols + c]) * x[c];
    return y;
  };
  auto rmsnorm = [&](const std::vector<double>& x, const std::vector<float>& w) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double k = 1.0 / std::sqrt(ss / double(x.size()) + double(s.rms_eps));
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * k * double(w[i]);
    return y;
  };
  auto rope = [&](std::vector<double>& v, int n_heads, int pos) {
    for (int h = 0; h < n_heads; ++h)
      for (int j = 0; j < nrot / 2; ++j) {
        double theta = double(pos) * std::pow(double(s.rope_base), -2.0 * j / nrot);
        if (o.use_freqs && !s.rope_freqs.empty()) theta /= double(s.rope_freqs[size_t(j)]);
        theta *= o.freq_scale;
        const int i0 = h * hd + (o.neox ? j : 2 * j), i1 = h * hd + (o.neox ? j + nrot / 2 : 2 * j + 1);
        const double x0 = v[size_t(i0)], x1 = v[size_t(i1)];
        v[size_t(i0)] = x0 * std::cos(theta) - x1 * std::sin(theta);
        v[size_t(i1)] = x0 * std::sin(theta) + x1 * std::cos(theta);
      }
  };
  auto add = [&](std::vector<double>& y, const std::string& bias) {
    if (!o.use_bias || !has(bias)) return;
    for (size_t i = 0; i < y.size(); ++i) y[i] += double(W(bias)[i]);
  };
  std::vector<std::vector<std::vector<double>>> K(size_t(s.n_layer)), V(size_t(s.n_layer));
  std::vector<std::vector<double>> out;
  for (size_t p = 0; p < tokens.size(); ++p) {
    std::vector<double> x(static_cast<size_t>(e));
    for (int i = 0; i < e; ++i) x[size_t(i)] = W("token_embd.weight")[size_t(tokens[p]) * e + i];
    for (int l = 0; l < s.n_layer; ++l) {
      const std::string b = "blk." + std::to_string(l) + ".";
      auto h = rmsnorm(x, W(b + "attn_norm.weight"));
      auto q = matvec(W(b + "attn_q.weight"), h, e);
      auto k = matvec(W(b + "attn_k.weight"), h, kvd);
      auto v = matvec(W(b + "attn_v.weight"), h, kvd);
      add(q, b + "attn_q.bias");
      add(k, b + "attn_k.bias");
      add(v, b + "attn_v.bias");
      rope(q, s.n_head, int(p));
      rope(k, s.n_head_kv, int(p));
      if (o.f16_attention)
        for (auto* vec : {&q, &k, &v})
          for (auto& z : *vec) z = round_f16(z);
      K[size_t(l)].push_back(k);
      V[size_t(l)].push_back(v);
      std::vector<double> att(size_t(e), 0.0);
      for (int hh = 0; hh < s.n_head; ++hh) {
        const int kvh = hh / (s.n_head / s.n_head_kv);
        std::vector<double> sc(p + 1);
        double mx = -1e300;
        for (size_t j = 0; j <= p; ++j) {
          double d = 0;
          for (int i = 0; i < hd; ++i) d += q[size_t(hh * hd + i)] * K[size_t(l)][j][size_t(kvh * hd + i)];
          sc[j] = d / std::sqrt(double(hd));
          mx = std::max(mx, sc[j]);
        }
        const auto vval = [&](size_t j, int i) { return V[size_t(l)][j][size_t(kvh * hd + i)]; };
        if (!o.f16_attention) {
          double sum = 0;
          for (auto& z : sc) sum += (z = std::exp(z - mx));
          for (size_t j = 0; j <= p; ++j)
            for (int i = 0; i < hd; ++i) att[size_t(hh * hd + i)] += sc[j] / sum * vval(j, i);
        } else {  // the same softmax, online, its running value sum rounded to fp16 at every step
          std::vector<double> acc(size_t(hd), 0.0);
          double m = -1e300, sum = 0;
          for (size_t j = 0; j <= p; ++j) {
            double rescale = 1, weight = 1;
            if (sc[j] > m) {
              rescale = std::exp(m - sc[j]);
              m = sc[j];
              for (auto& z : acc) z = round_f16(z * rescale);
            } else {
              weight = std::exp(sc[j] - m);
            }
            for (int i = 0; i < hd; ++i) acc[size_t(i)] = round_f16(acc[size_t(i)] + vval(j, i) * weight);
            sum = sum * rescale + weight;
          }
          for (int i = 0; i < hd; ++i) att[size_t(hh * hd + i)] = acc[size_t(i)] / sum;
        }
      }
      auto o_ = matvec(W(b + "attn_output.weight"), att, e);
      add(o_, b + "attn_output.bias");
      for (int i = 0; i < e; ++i) x[size_t(i)] += o_[size_t(i)];
      h = rmsnorm(x, W(b + "ffn_norm.weight"));
      auto g = matvec(W(b + "ffn_gate.weight"), h, ff);
      auto u = matvec(W(b + "ffn_up.weight"), h, ff);
      for (int i = 0; i < ff; ++i) g[size_t(i)] = g[size_t(i)] / (1 + std::exp(-g[size_t(i)])) * u[size_t(i)];
      auto d = matvec(W(b + "ffn_down.weight"), g, e);
      for (int i = 0; i < e; ++i) x[size_t(i)] += d[size_t(i)];
    }
    auto h = rmsnorm(x, W("output_norm.weight"));
    out.push_back(matvec(W(s.tied ? "token_embd.weight" : "output.weight"), h, s.n_vocab));
  }
  return out;
}

// Largest |engine - reference| over all positions, relative to the largest |reference logit|.
double max_rel_diff(const std::vector<std::vector<float>>& eng, const std::vector<std::vector<double>>& ref) {
  double num = 0, den = 0;
  for (size_t p = 0; p < ref.size(); ++p)
    for (size_t v = 0; v < ref[p].size(); ++v) {
      num = std::max(num, std::fabs(double(eng[p][v]) - ref[p][v]));
      den = std::max(den, std::fabs(ref[p][v]));
    }
  return num / den;
}

std::vector<std::vector<float>> engine_logits(const LlamaModel& m, const std::vector<int32_t>& tokens) {
  ContextParams cp;
  cp.n_ctx = 64;
  Context ctx(m, cp);
  const float* lg = ctx.eval(0, tokens, true);
  std::vector<std::vector<float>> out;
  for (size_t p = 0; p < tokens.size(); ++p)
    out.emplace_back(lg + p * size_t(m.hparams().n_vocab), lg + (p + 1) * size_t(m.hparams().n_vocab));
  return out;
}

const std::vector<int32_t> kTokens = {1, 7, 33, 2, 19, 19, 5, 38, 11, 0, 24, 30, 3, 16};


// Two comparisons per model. Against the reference with llama.cpp's attention storage precision
// (fp16 q/k/v and fp16 value accumulator, RefOptions::f16_attention) the engine agrees to
// 4e-6..2.3e-4 of the largest logit: f32-vs-double rounding elsewhere is ~1e-6, but where the
// engine's f32 value of a q/k/v element and the reference's double one fall on either side of an
// fp16 rounding midpoint, that element moves by one fp16 step (2^-11 relative), hence kTight =
// 5e-4. Against the all-double reference the fp16 attention itself shows (~1e-3 of the largest
// logit on these sharp-attention models), hence kLoose. Every mistake the reference is made to
// commit (pairing, frequency factors, scaling, biases) moves the logits by more than kWrong, 100x
// kTight, so the comparison tells right from wrong.
constexpr double kTight = 5e-4;
constexpr double kLoose = 5e-3;
constexpr double kWrong = 5e-2;

// Checks the engine against the reference with `right` (tightly and loosely) and shows that
// each of `wrong` is refused.
void check_against_reference(const TinyModel& t, const char* label, RefOptions right,
                             std::initializer_list<RefOptions> wrong) {
  const auto eng = engine_logits(*t.model, kTokens);
  right.f16_attention = true;
  const double tight = max_rel_diff(eng, reference_logits(t, kTokens, right));
  right.f16_attention = false;
  const double loose = max_rel_diff(eng, reference_logits(t, kTokens, right));
  EXPECT_LT(tight, kTight) << label;
  EXPECT_LT(loose, kLoose) << label;
  double nearest_wrong = 1e300;
  for (RefOptions w : wrong) {
    w.f16_attention = true;
    nearest_wrong = std::min(nearest_wrong, max_rel_diff(eng, reference_logits(t, kTokens, w)));
  }
  EXPECT_GT(nearest_wrong, kWrong) << label;
  std::printf("%s: max |engine - reference| / max |logit| = %.2e (fp16 attention), %.2e (all double); "
              "nearest wrong variant %.2e\n", label, tight, loose, nearest_wrong);
}

}  // namespace

TEST(Arch, LlamaMatchesScalarReference) {
  auto t = make_tiny(TinySpec{}, 1);
  EXPECT_EQ(t->model->hparams().rope_style, RopeStyle::Adjacent);
  check_against_reference(*t, "llama", {}, {{.neox = true}});
}

TEST(Arch, LlamaRopeFreqsAndLinearScalingMatchScalarReference) {
  TinySpec s;
  s.rope_freqs = {1.0f, 2.5f, 8.0f, 0.5f};  // head_dim 8 -> 4 frequencies
  s.scaling_type = "linear";
  s.scaling_factor = 4.0f;
  s.tied = true;
  auto t = make_tiny(s, 2);
  EXPECT_FLOAT_EQ(t->model->hparams().rope_freq_scale, 0.25f);
  ASSERT_EQ(t->model->rope_freq_factors().size(), 4u);
  check_against_reference(*t, "llama + rope_freqs + linear x4", {.freq_scale = 0.25},
                          {{.use_freqs = false, .freq_scale = 0.25}, {.freq_scale = 1.0}});
}

TEST(Arch, LlamaWithOptionalBiasesMatchesScalarReference) {
  TinySpec s;
  s.qkv_bias = s.o_bias = true;
  auto t = make_tiny(s, 3);
  check_against_reference(*t, "llama + q/k/v/o biases", {}, {{.use_bias = false}});
}

TEST(Arch, Qwen2MatchesScalarReference) {
  TinySpec s;
  s.arch = "qwen2";
  s.qkv_bias = true;
  s.tied = true;
  s.rms_eps = 1e-6f;
  auto t = make_tiny(s, 4);
  EXPECT_EQ(t->model->hparams().rope_style, RopeStyle::Neox);
  EXPECT_TRUE(t->model->output_tied());
  check_against_reference(*t, "qwen2", {.neox = true}, {{.neox = false}, {.neox = true, .use_bias = false}});
}

TEST(Arch, Qwen2DecodeStepsMatchOneBatch) {
  TinySpec s;
  s.arch = "qwen2";
  s.qkv_bias = true;
  auto t = make_tiny(s, 5);
  const auto batch = engine_logits(*t->model, kTokens);
  ContextParams cp;
  cp.n_ctx = 64;
  Context ctx(*t->model, cp);
  for (size_t p = 0; p < kTokens.size(); ++p) {
    const float* lg = ctx.eval(0, std::vector<int32_t>{kTokens[p]});
    for (int v = 0; v < s.n_vocab; ++v) ASSERT_NEAR(lg[v], batch[p][size_t(v)], 1e-4f) << "pos " << p;
  }
}

TEST(Arch, BadArchitectureMetadataIsRefused) {
  auto expect_error = [](TinySpec s, const std::string& what) {
    try {
      make_tiny(s, 9);
      ADD_FAILURE() << "expected an error mentioning " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  TinySpec s;
  s.arch = "gpt2";
  expect_error(s, "not supported");
  s = TinySpec{};
  s.scaling_type = "yarn";
  s.scaling_factor = 4;
  expect_error(s, "yarn");
  s = TinySpec{};
  s.rope_freqs = {1, 2, 3};  // needs n_rot / 2 = 4
  expect_error(s, "rope_freqs.weight");
  s = TinySpec{};
  s.rope_freqs = {1, 2, -3, 4};
  expect_error(s, "not positive");
  s = TinySpec{};
  s.arch = "qwen2";  // qwen2 without its Q/K/V biases
  expect_error(s, "attn_q.bias");
}

TEST(Arch, ScalingTypeNoneIgnoresTheFactor) {
  TinySpec s;
  s.scaling_type = "none";
  s.scaling_factor = 4;
  auto t = make_tiny(s, 6);
  EXPECT_EQ(t->model->hparams().rope_freq_scale, 1.0f);
}

// A LoRA adapter on qwen2 (where Q/K/V also have biases): the engine with the adapter active
// against the reference run on the merged weights W + scale * B·A.
TEST(Arch, Qwen2WithLoraMatchesReferenceOnMergedWeights) {
  TinySpec s;
  s.arch = "qwen2";
  s.qkv_bias = true;
  auto t = make_tiny(s, 7);
  const int rank = 3;
  const float alpha = 6.0f, user_scale = 0.8f, scale = user_scale * alpha / rank;
  std::mt19937 rng(8);
  std::normal_distribution<float> nd(0.f, 0.2f);
  GgufWriter w;
  w.set_string("general.architecture", "qwen2");
  w.set_string("general.type", "adapter");
  w.set_string("adapter.type", "lora");
  w.set_f32("adapter.lora.alpha", alpha);
  std::vector<std::string> targets = {"output.weight"};
  for (int l = 0; l < s.n_layer; ++l)
    for (const char* k : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"})
      targets.push_back("blk." + std::to_string(l) + "." + k + ".weight");
  std::vector<std::vector<float>> data;
  TinyModel merged;  // the reference's weights with the adapter merged in
  merged.spec = s;
  merged.w = t->w;
  for (const auto& name : targets) {
    const GgufTensorInfo* bt = t->model->gguf().find_tensor(name);
    const int64_t n_in = bt->ne[0], n_out = bt->ne[1];
    std::vector<float> a(size_t(rank * n_in)), b(size_t(n_out * rank));
    for (auto& x : a) x = nd(rng);
    for (auto& x : b) x = nd(rng);
    auto& wm = merged.w.at(name);
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t c = 0; c < n_in; ++c) {
        double d = 0;
        for (int r = 0; r < rank; ++r) d += double(b[size_t(o * rank + r)]) * a[size_t(r * n_in + c)];
        wm[size_t(o * n_in + c)] = float(wm[size_t(o * n_in + c)] + scale * d);
      }
    w.add_tensor(name + ".lora_a", TensorType::F32, {n_in, rank});
    w.add_tensor(name + ".lora_b", TensorType::F32, {rank, n_out});
    data.push_back(std::move(a));
    data.push_back(std::move(b));
  }
  std::vector<uint8_t> bytes;
  w.open(&bytes);
  for (size_t i = 0; i < data.size(); ++i) w.write_tensor_data(i, data[i].data(), data[i].size() * 4);
  w.finish();
  auto adapter = LoraAdapter::from_gguf(GgufFile::parse(bytes.data(), bytes.size()), *t->model);

  ContextParams cp;
  cp.n_ctx = 64;
  Context ctx(*t->model, cp);
  ctx.set_loras({{adapter, user_scale}});
  const float* lg = ctx.eval(0, kTokens, true);
  std::vector<std::vector<float>> eng;
  for (size_t p = 0; p < kTokens.size(); ++p) eng.emplace_back(lg + p * size_t(s.n_vocab), lg + (p + 1) * size_t(s.n_vocab));
  const double d = max_rel_diff(eng, reference_logits(merged, kTokens, {.neox = true, .f16_attention = true}));
  EXPECT_LT(d, kTight);
  EXPECT_GT(max_rel_diff(eng, reference_logits(*t, kTokens, {.neox = true, .f16_attention = true})), kWrong);
  std::printf("qwen2 + LoRA: max |engine - reference on merged weights| / max |logit| = %.2e\n", d);
}
