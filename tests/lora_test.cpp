// LoRA adapters against an independent construction of the same model: the adapter applied at run
// time (W x + scale * B (A x)) must agree with the base model whose weights have the adapter
// merged in (W' = W + scale * B·A, written here as a new f32 GGUF). Also: several adapters with
// their own scales, swapping adapters on one Context, no allocation while decoding, the CLI
// flag, and malformed adapters refused with errors that name the problem.
#include <cmath>
#include <functional>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "decode_allocations.h"
#include "engine/context.h"
#include "format/error.h"
#include "format/gguf_writer.h"
#include "lora_test_util.h"
#include "test_util.h"

using namespace tandem;
using test::Adapter;
using test::all_targets;
using test::random_adapter;
using test::write_adapter;

namespace {

// The base f32 model with every adapter merged into its weights: W += scale * B·A with
// scale = user_scale * alpha / rank (user_scale when alpha is 0), summed in double.
void write_merged(const std::string& base_path, const std::string& out_path,
                  const std::vector<std::pair<const Adapter*, float>>& adapters) {
  GgufFile base = GgufFile::open(base_path);
  GgufWriter w;
  for (const auto& k : base.keys()) w.copy(k, *base.find(k));
  for (const auto& t : base.tensors())
    w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims));
  w.open(out_path);
  for (size_t i = 0; i < base.tensors().size(); ++i) {
    const auto& t = base.tensors()[i];
    std::vector<double> acc;
    for (const auto& [ad, user_scale] : adapters)
      for (const auto& lt : ad->tensors) {
        if (lt.name != t.name) continue;
        EXPECT_EQ(t.type, TensorType::F32);
        if (acc.empty()) acc.assign(size_t(t.n_elements()), 0.0);
        // llama.cpp: without alpha (0) the user's scale applies as is.
        const double s = ad->alpha != 0 ? double(user_scale) * ad->alpha / double(lt.rank) : double(user_scale);
        for (int64_t o = 0; o < lt.n_out; ++o)
          for (int64_t c = 0; c < lt.n_in; ++c) {
            double d = 0;
            for (int64_t r = 0; r < lt.rank; ++r) d += double(lt.b[size_t(o * lt.rank + r)]) * lt.a[size_t(r * lt.n_in + c)];
            acc[size_t(o * lt.n_in + c)] += s * d;
          }
      }
    if (acc.empty()) {
      w.write_tensor_data(i, t.data, t.nbytes);
    } else {
      std::vector<float> v(acc.size());
      const float* src = reinterpret_cast<const float*>(t.data);
      for (size_t j = 0; j < v.size(); ++j) v[j] = float(double(src[j]) + acc[j]);
      w.write_tensor_data(i, v.data(), v.size() * 4);
    }
  }
  w.finish();
}

const std::vector<int32_t> kPrompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

std::vector<float> prompt_logits(Context& ctx) {
  ctx.kv().clear(0);
  const float* lg = ctx.eval(0, kPrompt);
  return std::vector<float>(lg, lg + ctx.n_vocab());
}

std::vector<int32_t> greedy(Context& ctx, int n) {
  ctx.kv().clear(0);
  const float* lg = ctx.eval(0, kPrompt);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    int32_t best = 0;
    for (int v = 1; v < ctx.n_vocab(); ++v)
      if (lg[v] > lg[best]) best = v;
    out.push_back(best);
    lg = ctx.eval(0, std::vector<int32_t>{best});
  }
  return out;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// max |a - b| relative to the largest |b|.
float max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (float x : b) m = std::max(m, std::fabs(x));
  return max_abs_diff(a, b) / m;
}

ContextParams small_ctx() {
  ContextParams cp;
  cp.n_ctx = 96;
  return cp;
}

// Run-time adapters and merged weights compute the same function with f32 roundings in a
// different order (W x + s B (A x) against (W + s B A) x, W + s B A rounded once to f32 in the
// merged file): ~1e-6 relative per product. The fp16 KV cache turns a few of those into whole
// fp16 steps (2^-11) where a value sits at an fp16 rounding midpoint, so the bound is 5e-4 of the
// largest logit (measured 4e-5 and 1.5e-4); the adapters themselves move the logits by more
// than 0.2 of their largest value.
constexpr float kMergedTol = 5e-4f;

class Lora : public ::testing::Test {
 protected:
  void SetUp() override {
    base_path_ = test::model_path("stories260K-f32.gguf");
    if (!std::filesystem::exists(base_path_)) GTEST_SKIP() << "missing " << base_path_;
    model_ = LlamaModel::load(base_path_);
  }
  std::string tmp(const std::string& stem) { return test::temp_path("lora-" + stem) + ".gguf"; }
  std::string base_path_;
  std::unique_ptr<LlamaModel> model_;
};

}  // namespace

TEST_F(Lora, MatchesMergedWeights) {
  const Adapter ad = random_adapter(model_->gguf(), all_targets(model_->gguf()), 4, 8.0f, 11);
  ASSERT_EQ(ad.tensors.size(), 5u * 7 + 1);  // every matrix kind of 5 layers, and output
  const std::string ap = tmp("a"), mp = tmp("merged");
  write_adapter(ap, ad);
  write_merged(base_path_, mp, {{&ad, 0.75f}});
  auto merged = LlamaModel::load(mp);

  Context with(*model_, small_ctx()), plain(*model_, small_ctx()), ref(*merged, small_ctx());
  auto adapter = LoraAdapter::load(ap, *model_);
  EXPECT_EQ(adapter->n_matrices(), 36u);
  EXPECT_EQ(adapter->max_rank(), 4);
  with.set_loras({{adapter, 0.75f}});
  const auto l_with = prompt_logits(with), l_ref = prompt_logits(ref), l_base = prompt_logits(plain);
  const float d = max_rel_diff(l_with, l_ref);
  EXPECT_LT(d, kMergedTol);
  EXPECT_GT(max_rel_diff(l_with, l_base), 0.2f) << "the adapter must change the model";
  std::printf("adapter vs merged: max |logit diff| / max |logit| = %.2e; adapter vs base: %.2e\n", d,
              max_rel_diff(l_with, l_base));
  const auto g = greedy(with, 40);
  EXPECT_EQ(g, greedy(ref, 40));
  EXPECT_NE(g, greedy(plain, 40));
  std::filesystem::remove(ap);
  std::filesystem::remove(mp);
}

TEST_F(Lora, TwoAdaptersWithTheirOwnScalesMatchMergedWeights) {
  const auto targets = all_targets(model_->gguf());
  // The second adapter: rank 2, only attention and output, no alpha (scale used as is).
  std::vector<std::string> attn;
  for (const auto& n : targets)
    if (n.find("attn_") != std::string::npos || n == "output.weight") attn.push_back(n);
  const Adapter a1 = random_adapter(model_->gguf(), targets, 4, 8.0f, 21);
  const Adapter a2 = random_adapter(model_->gguf(), attn, 2, 0.0f, 22);
  const std::string p1 = tmp("a1"), p2 = tmp("a2"), mp = tmp("merged2");
  write_adapter(p1, a1);
  write_adapter(p2, a2);
  write_merged(base_path_, mp, {{&a1, 0.5f}, {&a2, -1.5f}});
  auto merged = LlamaModel::load(mp);
  Context with(*model_, small_ctx()), ref(*merged, small_ctx());
  with.set_loras({{LoraAdapter::load(p1, *model_), 0.5f}, {LoraAdapter::load(p2, *model_), -1.5f}});
  const float d = max_rel_diff(prompt_logits(with), prompt_logits(ref));
  EXPECT_LT(d, kMergedTol);
  std::printf("two adapters vs merged: max |logit diff| / max |logit| = %.2e\n", d);
  EXPECT_EQ(greedy(with, 40), greedy(ref, 40));
  // A batch of several sequences goes through the same adapter path.
  ContextParams cp = small_ctx();
  cp.n_seq = 2;
  Context two(*model_, cp);
  two.set_loras(with.loras());
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < kPrompt.size(); ++i)
    for (int32_t s = 0; s < 2; ++s) batch.push_back({kPrompt[i], s, int32_t(i), i + 1 == kPrompt.size()});
  two.decode(batch);
  const auto expect = prompt_logits(with);
  for (int32_t o = 0; o < 2; ++o)
    for (int v = 0; v < two.n_vocab(); ++v) ASSERT_NEAR(two.logits(o)[v], expect[size_t(v)], 1e-4f);
  for (const auto& p : {p1, p2, mp}) std::filesystem::remove(p);
}

TEST_F(Lora, SwappingAdaptersOnOneContextEqualsFreshContexts) {
  const auto targets = all_targets(model_->gguf());
  const std::string p1 = tmp("s1"), p2 = tmp("s2");
  write_adapter(p1, random_adapter(model_->gguf(), targets, 4, 8.0f, 31));
  write_adapter(p2, random_adapter(model_->gguf(), targets, 8, 16.0f, 32));
  auto a1 = LoraAdapter::load(p1, *model_), a2 = LoraAdapter::load(p2, *model_);
  const std::vector<std::vector<LoraUse>> sets = {{{a1, 1.0f}}, {{a2, 0.5f}}, {}, {{a2, 0.5f}, {a1, 0.25f}}, {{a1, 1.0f}}};
  Context shared(*model_, small_ctx());
  std::vector<std::vector<int32_t>> outs;
  for (const auto& set : sets) {
    shared.set_loras(set);
    const auto got = greedy(shared, 24);
    Context fresh(*model_, small_ctx());
    fresh.set_loras(set);
    EXPECT_EQ(got, greedy(fresh, 24));
    outs.push_back(got);
  }
  EXPECT_NE(outs[0], outs[1]);
  EXPECT_NE(outs[1], outs[2]);
  EXPECT_EQ(outs[0], outs[4]);
  std::filesystem::remove(p1);
  std::filesystem::remove(p2);
}

TEST_F(Lora, DecodingWithAnAdapterAllocatesNothing) {
  const std::string qp = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(qp);
  auto q = LlamaModel::load(qp);  // the adapter applies to a quantized base as well
  const std::string p = tmp("alloc");
  write_adapter(p, random_adapter(model_->gguf(), all_targets(model_->gguf()), 4, 8.0f, 41));
  Context ctx(*q, small_ctx());
  ctx.set_loras({{LoraAdapter::load(p, *q), 1.0f}});
  EXPECT_EQ(test::decode_allocations(ctx, kPrompt, 432, 20), 0u) << "heap allocations during 20 decode steps with an adapter";
  std::filesystem::remove(p);
}

TEST_F(Lora, CliRunWithAdapterEqualsMergedModel) {
  const Adapter ad = random_adapter(model_->gguf(), all_targets(model_->gguf()), 4, 8.0f, 51);
  const std::string ap = tmp("cli"), mp = tmp("cli-merged");
  write_adapter(ap, ad);
  write_merged(base_path_, mp, {{&ad, 0.5f}});
  const std::string args = " -p 'Once upon a time' -n 24 --temp 0 --json -c 64";
  std::string with, merged, plain;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + base_path_ + " --lora " + ap + ":0.5" + args, &with), 0)
      << with;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + mp + args, &merged), 0) << merged;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " run -m " + base_path_ + args, &plain), 0) << plain;
  auto tokens = [](const std::string& json) { return json.substr(json.find("\"tokens\"")); };
  EXPECT_EQ(tokens(with).substr(0, tokens(with).find(']')), tokens(merged).substr(0, tokens(merged).find(']')));
  EXPECT_NE(tokens(with).substr(0, tokens(with).find(']')), tokens(plain).substr(0, tokens(plain).find(']')));
  // perplexity --lora: the same perplexity as the merged model.
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  if (std::filesystem::exists(corpus)) {
    const std::string pargs = " -f " + corpus + " --ctx 64 --chunks 3 --json -q";
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + base_path_ + " --lora " + ap + ":0.5" + pargs,
                                &with), 0) << with;
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + mp + pargs, &merged), 0) << merged;
    ASSERT_EQ(test::run_command(test::tandem_binary() + " perplexity -m " + base_path_ + pargs, &plain), 0) << plain;
    auto ppl = [](const std::string& json) {
      const size_t at = json.find("\"perplexity\":");
      return at == std::string::npos ? -1.0 : std::stod(json.substr(at + 13));
    };
    EXPECT_NEAR(ppl(with), ppl(merged), 1e-3 * ppl(merged));
    EXPECT_GT(std::fabs(ppl(with) - ppl(plain)), 0.05 * ppl(plain));
  }
  std::string out;
  EXPECT_NE(test::run_command(test::tandem_binary() + " run -m " + base_path_ + " --lora " + base_path_ + args, &out), 0);
  EXPECT_NE(out.find("not a LoRA adapter"), std::string::npos) << out;
  std::filesystem::remove(ap);
  std::filesystem::remove(mp);
}

TEST_F(Lora, MalformedAdaptersAreRefused) {
  const auto targets = all_targets(model_->gguf());
  const Adapter good = random_adapter(model_->gguf(), {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}, 4, 8.0f, 61);
  const std::string p = tmp("bad");
  auto expect_error = [&](const std::string& what) {
    try {
      LoraAdapter::load(p, *model_);
      ADD_FAILURE() << "expected an error mentioning '" << what << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  write_adapter(p, good);
  EXPECT_NO_THROW(LoraAdapter::load(p, *model_));

  Adapter bad = good;  // lora_a of the wrong input width
  bad.tensors[0].n_in = 32;
  bad.tensors[0].a.resize(size_t(4 * 32));
  write_adapter(p, bad);
  expect_error("expected lora_a [64, rank]");

  bad = good;  // lora_b of the wrong output height (ffn_down: 172 -> 64)
  bad.tensors[1].n_out = 63;
  bad.tensors[1].b.resize(size_t(63 * 4));
  write_adapter(p, bad);
  expect_error("lora_b [rank, 64]");

  {
    // Hand-build the mismatch: A declared with rank 4, B with rank 3.
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.type", "adapter");
    w.set_string("adapter.type", "lora");
    w.add_tensor("blk.0.attn_q.weight.lora_a", TensorType::F32, {64, 4});
    w.add_tensor("blk.0.attn_q.weight.lora_b", TensorType::F32, {3, 64});
    w.open(p);
    std::vector<float> z(64 * 4, 0.f);
    w.write_tensor_data(0, z.data(), 64 * 4 * 4);
    w.write_tensor_data(1, z.data(), 64 * 3 * 4);
    w.finish();
  }
  expect_error("rank 4 in lora_a but 3 in lora_b");

  write_adapter(p, good, "qwen2");
  expect_error("architecture 'qwen2'");

  write_adapter(p, good, "llama", [](GgufWriter& w) { w.set_string("general.type", "model"); });
  expect_error("not a LoRA adapter");

  write_adapter(p, good, "llama", [](GgufWriter& w) { w.set_string("adapter.type", "control_vector"); });
  expect_error("expected 'lora'");

  bad = good;  // a layer the model does not have
  bad.tensors[0].name = "blk.9.attn_q.weight";
  write_adapter(p, bad);
  expect_error("does not exist in the base model");

  write_adapter(p, good, "llama", {}, {{"blk.2.attn_k.weight.lora_a", 64, 4}});
  expect_error("missing its lora_b");

  write_adapter(p, good, "llama", {}, {{"blk.2.attn_k.weight.dora", 64, 4}});
  expect_error("neither NAME.lora_a nor NAME.lora_b");

  write_adapter(p, good, "llama", {}, {{"token_embd.weight.lora_a", 4, 512}, {"token_embd.weight.lora_b", 64, 4}});
  expect_error("token_embd.weight are not supported");

  write_adapter(p, good, "llama", {}, {{"blk.0.attn_norm.weight", 64, 1}});  // skipped, as llama.cpp does
  EXPECT_NO_THROW(LoraAdapter::load(p, *model_));

  bad = good;
  bad.tensors[0].a[5] = NAN;
  write_adapter(p, bad);
  expect_error("non-finite");

  // The model file itself, loaded as an adapter.
  EXPECT_THROW(LoraAdapter::load(base_path_, *model_), Error);

  // An adapter loaded for one model does not run on a model of another shape.
  write_adapter(p, good);
  auto adapter = LoraAdapter::load(p, *model_);
  const std::string other = test::temp_path("lora-other") + ".gguf";
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " synth --shape smollm2-135m --layers 1 --type f32 --vocab " +
                                  base_path_ + " -o " + other,
                              &out),
            0)
      << out;
  auto m2 = LlamaModel::load(other);
  Context c2(*m2, small_ctx());
  EXPECT_THROW(c2.set_loras({{adapter, 1.0f}}), Error);
  EXPECT_THROW(c2.set_loras({{nullptr, 1.0f}}), Error);
  std::filesystem::remove(other);
  std::filesystem::remove(p);
}
