// llama-quantize's per-tensor type choices (tools/quant_types.h) on real model shapes, and whole
// models quantized by `tandem quantize` to each new type: they load, compute logits close to the
// F32 model's and generate.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "engine/context.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "kernels/quantize.h"
#include "model/llama_model.h"
#include "test_util.h"
#include "tools/quant_types.h"

using namespace tandem;
using tools::QuantTarget;

namespace {

struct Shape {
  int64_t n_embd, n_ff, n_kv, n_layer;
  bool tied;
};

// name -> type for every 2-D weight of a llama model of this shape quantized to `target`.
std::map<std::string, TensorType> plan(const Shape& s, const std::string& target_name) {
  QuantTarget target;
  EXPECT_TRUE(tools::parse_quant_target(target_name, &target)) << target_name;
  std::map<std::string, TensorType> out;
  auto add = [&](const std::string& name, int64_t ne0) {
    out[name] = tools::llama_quant_type(name, 2, ne0, TensorType::F32, target, !s.tied, int(s.n_layer));
  };
  add("token_embd.weight", s.n_embd);
  if (!s.tied) add("output.weight", s.n_embd);
  for (int l = 0; l < s.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"}) add(p + n + ".weight", s.n_embd);
    add(p + "ffn_down.weight", s.n_ff);
  }
  return out;
}

std::string blk(int l, const char* n) { return "blk." + std::to_string(l) + "." + n + ".weight"; }

constexpr Shape kStories110M{768, 2048, 768, 12, true};
constexpr Shape kQwen05B{896, 4864, 128, 24, true};  // Qwen2.5-0.5B's widths: 896 = 3.5 * 256
constexpr Shape kStories260K{64, 172, 32, 5, false};

}  // namespace

TEST(QuantMix, Q4_K_M_OnStories110M) {
  const auto p = plan(kStories110M, "q4_k_m");
  // use_more_bits for 12 layers: 0 (first eighth), 10 and 11 (last eighth), 3, 6, 9 (every third).
  const std::vector<int> more = {0, 3, 6, 9, 10, 11};
  for (int l = 0; l < 12; ++l) {
    const bool m = std::find(more.begin(), more.end(), l) != more.end();
    EXPECT_EQ(p.at(blk(l, "attn_v")), m ? TensorType::Q6_K : TensorType::Q4_K) << l;
    EXPECT_EQ(p.at(blk(l, "ffn_down")), m ? TensorType::Q6_K : TensorType::Q4_K) << l;
    for (const char* n : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
      EXPECT_EQ(p.at(blk(l, n)), TensorType::Q4_K) << blk(l, n);
  }
  EXPECT_EQ(p.at("token_embd.weight"), TensorType::Q6_K);  // tied: it is the output projection
  QuantTarget t;
  ASSERT_TRUE(tools::parse_quant_target("Q4_K", &t));  // llama-quantize's alias
  EXPECT_STREQ(t.name, "q4_k_m");
  EXPECT_EQ(t.ftype, 15u);
}

TEST(QuantMix, OtherMixesOnStories110M) {
  auto p = plan(kStories110M, "q4_k_s");
  for (int l = 0; l < 12; ++l) {
    EXPECT_EQ(p.at(blk(l, "attn_v")), l < 4 ? TensorType::Q5_K : TensorType::Q4_K) << l;
    EXPECT_EQ(p.at(blk(l, "ffn_down")), l < 1 ? TensorType::Q5_K : TensorType::Q4_K) << l;
  }
  p = plan(kStories110M, "q5_k_m");
  EXPECT_EQ(p.at(blk(3, "attn_v")), TensorType::Q6_K);
  EXPECT_EQ(p.at(blk(4, "attn_v")), TensorType::Q5_K);
  EXPECT_EQ(p.at(blk(11, "ffn_down")), TensorType::Q6_K);
  EXPECT_EQ(p.at(blk(5, "ffn_up")), TensorType::Q5_K);
  for (const std::string m : {"q5_k_s", "q6_k"}) {
    p = plan(kStories110M, m);
    const TensorType want = m == "q6_k" ? TensorType::Q6_K : TensorType::Q5_K;
    for (const auto& [name, type] : p)
      EXPECT_EQ(type, name == "token_embd.weight" ? TensorType::Q6_K : want) << m << " " << name;
  }
  // Legacy targets get the Q6_K output projection too; Q8_0 keeps Q8_0; float targets change nothing.
  EXPECT_EQ(plan(kStories110M, "q4_0").at("token_embd.weight"), TensorType::Q6_K);
  EXPECT_EQ(plan(kStories110M, "q5_1").at(blk(0, "attn_q")), TensorType::Q5_1);
  EXPECT_EQ(plan(kStories110M, "q8_0").at("token_embd.weight"), TensorType::Q8_0);
  EXPECT_EQ(plan(kStories110M, "bf16").at("token_embd.weight"), TensorType::BF16);
  const std::map<std::string, uint32_t> ftypes = {{"f32", 0},     {"f16", 1},     {"q4_0", 2},    {"q4_1", 3},
                                                  {"q8_0", 7},    {"q5_0", 8},    {"q5_1", 9},    {"q4_k_s", 14},
                                                  {"q4_k_m", 15}, {"q5_k_s", 16}, {"q5_k_m", 17}, {"q6_k", 18},
                                                  {"bf16", 32}};
  for (const auto& [name, ft] : ftypes) {
    QuantTarget t;
    ASSERT_TRUE(tools::parse_quant_target(name, &t));
    EXPECT_EQ(t.ftype, ft) << name;
  }
  QuantTarget t;
  EXPECT_FALSE(tools::parse_quant_target("q3_k_m", &t));
}

// Rows of 896 (Qwen2.5-0.5B) do not fit 256-element blocks: Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0 and the output projection Q8_0; ffn_down's 4864 = 19 * 256 keeps the K-quants.
TEST(QuantMix, FallbacksForRowsNotAMultipleOf256) {
  auto p = plan(kQwen05B, "q4_k_m");
  EXPECT_EQ(p.at(blk(0, "attn_q")), TensorType::Q5_0);
  EXPECT_EQ(p.at(blk(0, "attn_v")), TensorType::Q8_0);  // Q6_K on a use_more_bits layer
  EXPECT_EQ(p.at(blk(4, "attn_v")), TensorType::Q5_0);  // 24 layers: 0-2, 5, 8, ... use more bits
  EXPECT_EQ(p.at(blk(0, "ffn_down")), TensorType::Q6_K);
  EXPECT_EQ(p.at(blk(4, "ffn_down")), TensorType::Q4_K);
  EXPECT_EQ(p.at("token_embd.weight"), TensorType::Q8_0);
  p = plan(kQwen05B, "q5_k_s");
  EXPECT_EQ(p.at(blk(7, "ffn_gate")), TensorType::Q5_1);
  EXPECT_EQ(p.at(blk(7, "ffn_down")), TensorType::Q5_K);
  // stories260K: 64-wide rows fall back; ffn_down's 172 fits no block and becomes F16.
  p = plan(kStories260K, "q4_k_m");
  EXPECT_EQ(p.at(blk(1, "attn_q")), TensorType::Q5_0);
  EXPECT_EQ(p.at(blk(0, "ffn_down")), TensorType::F16);
  EXPECT_EQ(p.at("output.weight"), TensorType::Q8_0);
  EXPECT_EQ(plan(kStories260K, "q6_k").at(blk(2, "ffn_up")), TensorType::Q8_0);
}

namespace {

// A small llama model whose rows are multiples of 256 (so K-quant blocks are really used), with
// stories260K's vocabulary and seeded Gaussian weights, written as F32.
std::string write_small_model() {
  const std::string vocab = test::model_path("stories260K-f32.gguf");
  const std::string path = test::temp_path("kq-small-f32.gguf");
  GgufFile v = GgufFile::open(vocab);
  GgufWriter w;
  for (const auto& k : v.keys())
    if (k.rfind("tokenizer.", 0) == 0) w.copy(k, *v.find(k));
  const int64_t e = 256, ff = 768, n_layer = 2, n_vocab = 512;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.context_length", 256);
  w.set_u32("llama.embedding_length", uint32_t(e));
  w.set_u32("llama.block_count", uint32_t(n_layer));
  w.set_u32("llama.feed_forward_length", uint32_t(ff));
  w.set_u32("llama.attention.head_count", 4);
  w.set_u32("llama.attention.head_count_kv", 2);
  w.set_u32("llama.rope.dimension_count", 64);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("general.file_type", 0);
  struct T {
    std::string name;
    std::vector<int64_t> shape;
    float sigma;
  };
  std::vector<T> ts = {{"token_embd.weight", {e, n_vocab}, 1.f}, {"output_norm.weight", {e}, 0}, {"output.weight", {e, n_vocab}, 0.06f}};
  for (int l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    ts.push_back({p + "attn_norm.weight", {e}, 0});
    ts.push_back({p + "attn_q.weight", {e, e}, 0.06f});
    ts.push_back({p + "attn_k.weight", {e, 128}, 0.06f});
    ts.push_back({p + "attn_v.weight", {e, 128}, 0.06f});
    ts.push_back({p + "attn_output.weight", {e, e}, 0.06f});
    ts.push_back({p + "ffn_norm.weight", {e}, 0});
    ts.push_back({p + "ffn_gate.weight", {e, ff}, 0.06f});
    ts.push_back({p + "ffn_up.weight", {e, ff}, 0.06f});
    ts.push_back({p + "ffn_down.weight", {ff, e}, 0.04f});
  }
  for (const auto& t : ts) w.add_tensor(t.name, TensorType::F32, t.shape);
  w.open(path);
  std::mt19937 rng(42);
  for (size_t i = 0; i < ts.size(); ++i) {
    size_t n = 1;
    for (auto d : ts[i].shape) n *= size_t(d);
    std::vector<float> x(n, 1.f);
    std::normal_distribution<float> g(0.f, ts[i].sigma);
    if (ts[i].sigma > 0)
      for (auto& f : x) f = g(rng);
    w.write_tensor_data(i, reinterpret_cast<const uint8_t*>(x.data()), n * 4);
  }
  w.finish();
  return path;
}

std::vector<float> last_logits(const LlamaModel& m, const std::vector<int32_t>& toks) {
  ContextParams cp;
  cp.n_ctx = 64;
  Context ctx(m, cp);
  const float* l = ctx.eval(0, toks);
  return std::vector<float>(l, l + m.hparams().n_vocab);
}

}  // namespace

// Each target through the real tool: the file loads, has the expected K-quant tensors, and its
// logits (prefill path, 9 tokens, and decode path, one more) stay close to the F32 model's.
TEST(QuantMix, QuantizedModelsComputeCloseToF32) {
  TANDEM_REQUIRE_FILE(test::model_path("stories260K-f32.gguf"));
  const std::string f32 = write_small_model();
  auto base = LlamaModel::load(f32);
  const std::vector<int32_t> prompt = {1, 400, 31, 292, 17, 98, 402, 77, 5};
  std::vector<int32_t> prompt1 = prompt;
  prompt1.push_back(123);
  const std::vector<float> want = last_logits(*base, prompt), want1 = last_logits(*base, prompt1);
  struct Case {
    const char* target;
    TensorType attn_q;  // type expected for blk.1.attn_q
    double max_rel;     // RMS(logit error) / RMS(logits)
  };
  // Bounds about 1.5x what was measured: random weights amplify the weight error ~2.5x into logits.
  const Case cases[] = {{"bf16", TensorType::BF16, 0.01}, {"q4_1", TensorType::Q4_1, 0.3}, {"q5_0", TensorType::Q5_0, 0.15},
                        {"q5_1", TensorType::Q5_1, 0.15},  {"q4_k_s", TensorType::Q4_K, 0.27}, {"q4_k_m", TensorType::Q4_K, 0.27},
                        {"q5_k_m", TensorType::Q5_K, 0.15}, {"q6_k", TensorType::Q6_K, 0.075}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    const std::string out = test::temp_path(std::string("kq-small-") + c.target + ".gguf");
    std::string cmd = "'" + test::tandem_binary() + "' quantize '";
    cmd.append(f32).append("' '").append(out).append("' --type ").append(c.target).append(" -t 2");
    std::string log;
    ASSERT_EQ(0, test::run_command(cmd, &log)) << log;
    {
      GgufFile f = GgufFile::open(out);
      EXPECT_EQ(f.find_tensor("blk.1.attn_q.weight")->type, c.attn_q);
      if (traits(c.attn_q).block_elems > 1) {
        EXPECT_EQ(f.find_tensor("output.weight")->type, TensorType::Q6_K);
      }
    }
    auto m = LlamaModel::load(out);
    for (int pass = 0; pass < 2; ++pass) {
      const std::vector<float> got = last_logits(*m, pass ? prompt1 : prompt);
      const std::vector<float>& ref = pass ? want1 : want;
      double se = 0, ss = 0;
      for (size_t i = 0; i < ref.size(); ++i) {
        se += double(got[i] - ref[i]) * double(got[i] - ref[i]);
        ss += double(ref[i]) * double(ref[i]);
      }
      const double rel = std::sqrt(se / ss);
      std::printf("[ kquants ] %-7s logits relative RMS error vs F32 %.4f\n", c.target, rel);
      EXPECT_LT(rel, c.max_rel);
      EXPECT_GT(rel, 0.0);
    }
    if (std::string(c.target) == "q4_k_m") {  // and it generates through the CLI
      std::string cmd2 = "'" + test::tandem_binary() + "' run -m '";
      cmd2.append(out).append("' -p 'Once upon a time' -n 8 --temp 0 --json");
      ASSERT_EQ(0, test::run_command(cmd2, &log)) << log;
      EXPECT_NE(log.find("\"finish_reason\""), std::string::npos) << log;
    }
    std::filesystem::remove(out);
  }
  std::filesystem::remove(f32);
}
