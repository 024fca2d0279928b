// LoRA adapters against an independent construction of the same model: the adapter applied at run
// time (W x + scale * B (A x)) must agree with the base model whose weights have the adapter
// merged in (W' = W + scale * B·A, written as a new f32 GGUF by lora_fixture.h). Also: several
// adapters with their own scales, swapping adapters on one Context, no allocation while decoding.
// (The CLI flag and malformed adapters, which need `tandem`: lora_cli_test.cpp.)
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
#include "lora_fixture.h"
#include "lora_test_util.h"
#include "test_util.h"

using namespace tandem;
using test::Adapter;
using test::Lora;
using test::all_targets;
using test::random_adapter;
using test::write_adapter;
using test::write_merged;

namespace {

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

// Run-time adapters and merged weights compute the same function with f32 roundings in a
// different order (W x + s B (A x) against (W + s B A) x, W + s B A rounded once to f32 in the
// merged file): ~1e-6 relative per product. The fp16 KV cache turns a few of those into whole
// fp16 steps (2^-11) where a value sits at an fp16 rounding midpoint, so the bound is 5e-4 of the
// largest logit (measured 4e-5 and 1.5e-4); the adapters themselves move the logits by more
// than 0.2 of their largest value.
constexpr float kMergedTol = 5e-4f;

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
