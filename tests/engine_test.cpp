// The engine's state rules: KV truncation is exact, sequences in one batch do not interfere,
// decoding allocates nothing, and bad input is refused without damaging the context.
#include <cmath>
#include <cstdlib>

#include "engine/context.h"
#include "engine/generate.h"
#include "format/error.h"
#include "decode_allocations.h"
#include "test_util.h"

using namespace tandem;

namespace {

std::unique_ptr<LlamaModel> shared_model(const char* type) {
  const std::string p = test::model_path(std::string("stories260K-") + type + ".gguf");
  if (!std::filesystem::exists(p)) return nullptr;
  return LlamaModel::load(p);
}

std::vector<float> row(const float* p, int n) { return std::vector<float>(p, p + n); }

const std::vector<int32_t> kPrompt = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

}  // namespace

TEST(Engine, TruncateThenRegenerateEqualsFreshRun) {
  auto m = shared_model("q4_0");
  if (!m) GTEST_SKIP() << "shared models missing";
  const int nv = m->hparams().n_vocab;
  ContextParams cp;
  cp.n_ctx = 128;
  Context ctx(*m, cp);
  // Run 12 tokens, then 6 "rejected draft" tokens, roll back to 12 and feed different ones.
  ctx.eval(0, kPrompt);
  ctx.eval(0, std::vector<int32_t>{300, 301, 302, 303, 304, 305});
  ctx.truncate(0, 9);
  const std::vector<int32_t> tail = {290, 291, 292};
  auto after = row(ctx.eval(0, tail), nv);

  Context fresh(*m, cp);
  std::vector<int32_t> all(kPrompt.begin(), kPrompt.begin() + 9);
  all.insert(all.end(), tail.begin(), tail.end());
  auto expect = row(fresh.eval(0, all), nv);
  for (int v = 0; v < nv; ++v) ASSERT_EQ(after[size_t(v)], expect[size_t(v)]) << "logit " << v;
  EXPECT_EQ(ctx.seq_len(0), 12);
  EXPECT_THROW(ctx.truncate(0, 13), Error);
}

TEST(Engine, SequencesInOneBatchMatchSeparateRuns) {
  auto m = shared_model("f32");
  if (!m) GTEST_SKIP() << "shared models missing";
  const int nv = m->hparams().n_vocab;
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_seq = 2;
  Context ctx(*m, cp);
  const std::vector<int32_t> a = {1, 403, 407, 261}, b = {1, 291, 262, 379, 286};
  std::vector<BatchToken> batch;
  for (size_t i = 0; i < b.size(); ++i) {  // interleave the two sequences
    if (i < a.size()) batch.push_back({a[i], 0, int32_t(i), i + 1 == a.size()});
    batch.push_back({b[i], 1, int32_t(i), i + 1 == b.size()});
  }
  ctx.decode(batch);
  auto la = row(ctx.logits(0), nv), lb = row(ctx.logits(1), nv);

  ContextParams one = cp;
  one.n_seq = 1;
  Context ca(*m, one), cb(*m, one);
  auto ea = row(ca.eval(0, a), nv), eb = row(cb.eval(0, b), nv);
  for (int v = 0; v < nv; ++v) {
    EXPECT_NEAR(la[size_t(v)], ea[size_t(v)], 1e-4f);
    EXPECT_NEAR(lb[size_t(v)], eb[size_t(v)], 1e-4f);
  }
}

TEST(Engine, DecodingAllocatesNothing) {
  auto m = shared_model("q4_0");
  if (!m) GTEST_SKIP() << "shared models missing";
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_threads = 2;
  Context ctx(*m, cp);
  EXPECT_EQ(test::decode_allocations(ctx, kPrompt, 432, 20), 0u) << "heap allocations during 20 decode steps";
}

TEST(Engine, BadInputIsRefusedAndContextStaysUsable) {
  auto m = shared_model("f32");
  if (!m) GTEST_SKIP() << "shared models missing";
  const int nv = m->hparams().n_vocab;
  ContextParams cp;
  cp.n_ctx = 32;
  Context ctx(*m, cp);
  ctx.eval(0, std::vector<int32_t>{1, 403});
  EXPECT_THROW(ctx.eval(0, std::vector<int32_t>{nv}), Error);          // token id out of range
  EXPECT_THROW(ctx.eval(0, std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(ctx.eval(3, std::vector<int32_t>{5}), Error);          // unknown sequence
  const BatchToken gap{5, 0, 7, true};                                 // position skips ahead
  EXPECT_THROW(ctx.decode(std::span<const BatchToken>(&gap, 1)), Error);
  EXPECT_THROW(ctx.eval(0, std::vector<int32_t>(40, 5)), Error);      // past the context
  EXPECT_EQ(ctx.seq_len(0), 2);                                        // nothing was consumed
  auto a = row(ctx.eval(0, std::vector<int32_t>{407}), nv);
  Context fresh(*m, cp);
  auto b = row(fresh.eval(0, std::vector<int32_t>{1, 403, 407}), nv);
  // One batch of three vs. two steps: the same math, summed in a different order.
  for (int v = 0; v < nv; ++v) ASSERT_NEAR(a[size_t(v)], b[size_t(v)], 1e-4f);
}

TEST(Engine, ThreadCountDoesNotChangeGreedyOutput) {
  auto m = shared_model("q8_0");
  if (!m) GTEST_SKIP() << "shared models missing";
  std::vector<std::vector<int32_t>> outs;
  for (int threads : {1, 2, 3}) {
    ContextParams cp;
    cp.n_ctx = 128;
    cp.n_threads = threads;
    Context ctx(*m, cp);
    std::vector<int32_t> out;
    const float* lg = ctx.eval(0, kPrompt);
    for (int i = 0; i < 40; ++i) {
      int32_t best = 0;
      for (int v = 1; v < m->hparams().n_vocab; ++v)
        if (lg[v] > lg[best]) best = v;
      out.push_back(best);
      lg = ctx.eval(0, std::vector<int32_t>{best});
    }
    outs.push_back(out);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
}

TEST(Engine, KvRowsCopiedOutAndBackInRoundTrip) {
  LlamaHparams hp;
  hp.n_layer = 3;
  hp.n_head_kv = 2;
  hp.head_dim = 4;
  KvCache kv(hp, 2, 8);
  const size_t kvd = size_t(kv.kv_dim()), row = kv.row_elems();
  ASSERT_EQ(row, 3 * kvd);
  // Every value of sequence 0 distinct, so a misplaced row cannot go unnoticed.
  for (int32_t l = 0; l < hp.n_layer; ++l)
    for (int32_t pos = 0; pos < 6; ++pos)
      for (size_t i = 0; i < kvd; ++i) {
        kv.k(l, 0, pos)[i] = uint16_t(1000 * l + 100 * pos + i);
        kv.v(l, 0, pos)[i] = uint16_t(30000 + 1000 * l + 100 * pos + i);
      }
  kv.set_len(0, 6);

  std::vector<uint16_t> k(4 * row), v(4 * row);
  kv.copy_rows_out(0, 2, 6, k, v);
  for (int32_t pos = 2; pos < 6; ++pos)  // [pos][layer][kv_dim], from position 2
    for (int32_t l = 0; l < hp.n_layer; ++l)
      for (size_t i = 0; i < kvd; ++i) {
        const size_t at = size_t(pos - 2) * row + size_t(l) * kvd + i;
        EXPECT_EQ(k[at], kv.k(l, 0, pos)[i]);
        EXPECT_EQ(v[at], kv.v(l, 0, pos)[i]);
      }

  // Into the other sequence, then out again: the same values.
  kv.copy_rows_in(1, 2, 6, k, v);
  EXPECT_EQ(kv.seq_len(1), 0) << "copying rows in does not mark them valid";
  kv.set_len(1, 6);
  std::vector<uint16_t> k2(4 * row), v2(4 * row);
  kv.copy_rows_out(1, 2, 6, k2, v2);
  EXPECT_EQ(k2, k);
  EXPECT_EQ(v2, v);
  for (int32_t l = 0; l < hp.n_layer; ++l)
    EXPECT_EQ(kv.k(l, 1, 5)[kvd - 1], kv.k(l, 0, 5)[kvd - 1]);

  // Bad ranges and short buffers are refused.
  EXPECT_THROW(kv.copy_rows_out(0, 2, 7, k, v), Error);  // past the valid rows
  EXPECT_THROW(kv.copy_rows_out(0, 3, 2, k, v), Error);
  EXPECT_THROW(kv.copy_rows_out(2, 0, 1, k, v), Error);  // no such sequence
  EXPECT_THROW(kv.copy_rows_in(0, 4, 9, k, v), Error);   // past the context
  std::vector<uint16_t> small(row);
  EXPECT_THROW(kv.copy_rows_in(0, 0, 2, small, v), Error);
  EXPECT_THROW(kv.copy_rows_out(0, 0, 2, k, small), Error);
  kv.copy_rows_out(0, 3, 3, std::span<uint16_t>(), std::span<uint16_t>());  // nothing to copy
}

TEST(Engine, KvRowsCopiedToAnotherSequenceContinueItIdentically) {
  auto m = shared_model("f32");
  if (!m) GTEST_SKIP() << "shared models missing";
  const int nv = m->hparams().n_vocab;
  ContextParams cp;
  cp.n_ctx = 64;
  cp.n_seq = 2;
  Context ctx(*m, cp);
  ctx.eval(0, kPrompt);
  KvCache& kv = ctx.kv();
  const int32_t n = int32_t(kPrompt.size());
  std::vector<uint16_t> k(size_t(n) * kv.row_elems()), v(k.size());
  kv.copy_rows_out(0, 0, n, k, v);
  kv.copy_rows_in(1, 0, n, k, v);
  kv.set_len(1, n);
  const BatchToken next[] = {{432, 0, n, true, TokenOrder::Step}, {432, 1, n, true, TokenOrder::Step}};
  ctx.decode(next);
  const auto a = row(ctx.logits(0), nv), b = row(ctx.logits(1), nv);
  EXPECT_EQ(a, b);  // bit for bit: the same rows, the same arithmetic
}
