// The whole forward pass of the llama and qwen2 architectures, in the order llama.cpp computes it:
//   x = embed(token)
//   per layer:  x += Wo · attention(rope(Wq·norm(x) + bq), rope(Wk·norm(x) + bk), Wv·norm(x) + bv)
//               x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
//   logits = Woutput · norm(x)
// (biases only where the model has them: qwen2's Q/K/V). Every matrix product W·x may carry
// active LoRA adapters: W·x + scale · B·(A·x), before the bias, as llama.cpp's build_lora_mm.
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "format/error.h"
#include "kernels/activations.h"
#include "kernels/attention.h"
#include "kernels/ggml_numerics.h"
#include "kernels/interleaved.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

namespace tandem {

namespace {

// Activation types of the 16-bit and quantized weights (kernels' activation_type). Each has its
// own region of the forward state's buffers: act_f16_ holds the 16-bit ones, act_q8_ the
// quantized ones, each region sized for a full batch of the widest rows.
constexpr TensorType kActTypes[] = {TensorType::F16, TensorType::BF16, TensorType::Q8_0, TensorType::Q8_1,
                                    TensorType::Q8_K};
constexpr size_t kNumActTypes = sizeof(kActTypes) / sizeof(kActTypes[0]);

int act_slot(TensorType at) {
  for (size_t i = 0; i < kNumActTypes; ++i)
    if (kActTypes[i] == at) return int(i);
  return -1;  // F32: the activations themselves
}

bool act_is_16bit(TensorType at) { return at == TensorType::F16 || at == TensorType::BF16; }

// Bytes of one converted row of k elements, rounded up to whole blocks.
size_t act_row_bytes(TensorType at, int64_t k) {
  const auto& tr = traits(at);
  return size_t((k + tr.block_elems - 1) / tr.block_elems) * tr.block_bytes;
}

// Offset of the region of kActTypes[slot] in its buffer, and the buffer sizes (slot = kNumActTypes).
size_t act_region(size_t slot, bool want16, size_t B, int64_t kmax) {
  size_t off = 0;
  for (size_t i = 0; i < slot; ++i)
    if (act_is_16bit(kActTypes[i]) == want16) off += B * act_row_bytes(kActTypes[i], kmax);
  return off;
}

// Activations of one input matrix, converted for the weight types that will read them.
struct Acts {
  const float* f32 = nullptr;  // [n][k]
  const uint8_t* conv[kNumActTypes] = {};
  const void* for_weight(TensorType w) const {
    const int slot = act_slot(activation_type(w));
    return slot < 0 ? static_cast<const void*>(f32) : conv[slot];
  }
};

// RMSNorm as ggml computes it: the mean of squares accumulated in double.
void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += double(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
  for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

// Rotary embedding of pairs (x[j0], x[j1]) with the angle of frequency j: adjacent pairs
// (2j, 2j+1) for llama (ggml's NORM mode), halves (j, j + n_rot/2) for qwen2 (NEOX mode). The
// same arithmetic either way, contracted to FMAs as ggml compiles it.
void rope(float* v, int n_heads, int head_dim, int n_rot, RopeStyle style, const float* cs, const float* sn) {
  const int half = n_rot / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* p = v + h * head_dim;
    for (int j = 0; j < half; ++j) {
      const int j0 = style == RopeStyle::Neox ? j : 2 * j;
      const int j1 = style == RopeStyle::Neox ? j + half : 2 * j + 1;
      const float x0 = p[j0], x1 = p[j1];
      p[j0] = std::fma(x0, cs[j], -(x1 * sn[j]));
      p[j1] = std::fma(x0, sn[j], x1 * cs[j]);
    }
  }
}

// rows x [n] += b (a bias vector of n), when the model has one.
void add_bias(float* x, int rows, int n, const std::vector<float>& b) {
  if (b.empty()) return;
  for (int r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i) x[size_t(r) * n + i] += b[size_t(i)];
}

struct MatmulJob {
  const WeightMatrix* w;
  const Acts* in;
  float* out;  // [n_tok][w->rows]
  int32_t layer = -1;  // which matrix, for LoRA adapters
  LoraTarget target = LoraTarget::Output;
};

// out[t][lo, hi) += scale * B (A x_t) for the n_tok rows of x: A x for every token first (into
// t, n_tok * rank floats), then the rank columns of B (stored transposed, so each is a
// contiguous run of output rows).
void lora_rows(const LoraMatrix& m, float scale, const float* x, int n_tok, float* t, float* out, size_t out_stride,
               int64_t lo, int64_t hi) {
  const size_t rank = size_t(m.rank), n_in = size_t(m.n_in), n_out = size_t(m.n_out);
  for (int tok = 0; tok < n_tok; ++tok)
    for (size_t r = 0; r < rank; ++r)
      t[size_t(tok) * rank + r] = kernels::dot(TensorType::F32, m.a.data() + r * n_in, x + size_t(tok) * n_in, n_in, rank);
  for (int tok = 0; tok < n_tok; ++tok) {
    float* o = out + size_t(tok) * out_stride;
    for (size_t r = 0; r < rank; ++r) {
      const float c = scale * t[size_t(tok) * rank + r];
      const float* col = m.bt.data() + r * n_out;
      for (int64_t i = lo; i < hi; ++i) o[i] += c * col[i];
    }
  }
}

}  // namespace

ForwardState::ForwardState(const LlamaModel& model, int32_t max_batch, int32_t max_outputs, int32_t n_seq,
                           int n_threads)
    : max_batch_(max_batch), max_outputs_(max_outputs), n_vocab_(model.hparams().n_vocab),
      n_threads_(std::max(n_threads, 1)) {
  const LlamaHparams& hp = model.hparams();
  if (max_batch < 1 || max_batch > 65536) throw Error("batch size must be in [1, 65536]");
  if (max_outputs < 1 || max_outputs > max_batch) throw Error("output count must be in [1, batch size]");
  const size_t B = size_t(max_batch), e = size_t(hp.n_embd), kv = size_t(hp.kv_dim()), ff = size_t(hp.n_ff);
  const size_t kmax = std::max(e, ff);
  x_.resize(B * e);
  xb_.resize(B * e);
  q_.resize(B * e);
  k_.resize(B * kv);
  v_.resize(B * kv);
  att_.resize(B * e);
  hb_.resize(B * ff);
  hb2_.resize(B * ff);
  act_f16_.resize(act_region(kNumActTypes, true, B, int64_t(kmax)));
  act_q8_.resize(act_region(kNumActTypes, false, B, int64_t(kmax)));
  rope_cos_.resize(B * size_t(hp.n_rot / 2));
  rope_sin_.resize(B * size_t(hp.n_rot / 2));
  head_scratch_.resize(size_t(std::max(n_threads, 1)) * 2 * size_t(hp.head_dim));
  out_rows_.resize(B);
  row_batched_.resize(B);
  out_batched_.resize(size_t(max_outputs));
  seq_pending_.resize(size_t(std::max(n_seq, 1)));
  logits_.resize(size_t(max_outputs) * size_t(n_vocab_));
}

void ForwardState::reserve_lora(int32_t max_rank) {
  if (max_rank < 0) throw Error("LoRA rank must not be negative");
  if (max_rank <= lora_rank_cap_) return;
  // Each thread holds A x for one adapter of one matrix at a time.
  lora_t_.resize(size_t(n_threads_) * size_t(max_batch_) * size_t(max_rank));
  lora_rank_cap_ = max_rank;
}

size_t ForwardState::bytes() const {
  return (x_.size() + xb_.size() + q_.size() + k_.size() + v_.size() + att_.size() + hb_.size() + hb2_.size() +
          rope_cos_.size() + rope_sin_.size() + logits_.size() + lora_t_.size()) * sizeof(float) +
         act_f16_.size() + act_q8_.size() + head_scratch_.size() * 2;
}

// One forward pass: the model, cache, state and batch it works on, and its steps, each a member
// so that it can use the state's buffers (ForwardState names it a friend). Activations live in
// st.x_ (the residual stream) and st.xb_ (a layer's normalized input, then its output).
struct ForwardPass {
  const LlamaModel& model;
  const LlamaHparams& hp;
  KvCache& kv;
  ForwardState& st;
  ThreadPool& pool;
  std::span<const BatchToken> batch;
  std::span<const LoraUse> loras;
  const int n, e, kvd, ff, hd, n_rot2;
  int n_out = 0;  // tokens of the batch that want logits (st.out_rows_[0, n_out))

  ForwardPass(const LlamaModel& m, KvCache& c, ForwardState& s, ThreadPool& p, std::span<const BatchToken> b,
              std::span<const LoraUse> l)
      : model(m), hp(m.hparams()), kv(c), st(s), pool(p), batch(b), loras(l), n(int(b.size())), e(hp.n_embd),
        kvd(hp.kv_dim()), ff(hp.n_ff), hd(hp.head_dim), n_rot2(hp.n_rot / 2) {}

  void validate_limits_and_loras() const;
  void validate_batch();
  void embed_and_rope_tables();
  void choose_dot_orders();
  Acts prepare(const float* src, int rows, int k, std::initializer_list<const WeightMatrix*> ws);
  void matmul_slice(const MatmulJob& j, int rows_in, const uint8_t* batched, int64_t lo, int64_t hi, int th) const;
  void matmuls(int rows_in, const uint8_t* batched, std::initializer_list<MatmulJob> jobs);
  void norm_rows(const std::vector<float>& w);
  void qkv_into_cache(int l, const LlamaLayer& L);
  void attend_heads(int l);
  void attention(int l, const LlamaLayer& L);
  void feed_forward(int l, const LlamaLayer& L);
  void add_residual();
  void output_logits();
  void advance_cache();
};

void forward(const LlamaModel& model, KvCache& kv, ForwardState& st, ThreadPool& pool,
             std::span<const BatchToken> batch, std::span<const LoraUse> loras) {
  if (batch.empty()) return;
  ForwardPass pass(model, kv, st, pool, batch, loras);
  pass.validate_limits_and_loras();  // everything is checked before any state changes
  pass.validate_batch();
  pass.embed_and_rope_tables();
  pass.choose_dot_orders();
  for (int l = 0; l < model.hparams().n_layer; ++l) {
    const LlamaLayer& L = model.layers()[size_t(l)];
    pass.norm_rows(L.attn_norm);
    pass.attention(l, L);
    pass.add_residual();
    pass.norm_rows(L.ffn_norm);
    pass.feed_forward(l, L);
    pass.add_residual();
  }
  pass.output_logits();
  pass.advance_cache();
}

// The batch against the state's sizes, and the active adapters.
void ForwardPass::validate_limits_and_loras() const {
  if (size_t(kv.n_seq()) > st.seq_pending_.size())
    throw Error("the KV cache holds more sequences than this forward state was built for");
  if (n > st.max_batch_)
    throw Error("batch of " + std::to_string(n) + " tokens exceeds the maximum of " + std::to_string(st.max_batch_));
  if (loras.size() > kMaxActiveLoras)
    throw Error(std::to_string(loras.size()) + " LoRA adapters are active; at most " + std::to_string(kMaxActiveLoras));
  if (pool.size() > st.n_threads_) throw Error("the thread pool is larger than this forward state was built for");
  for (const auto& u : loras) {
    if (!u.adapter) throw Error("an active LoRA adapter is null");
    if (!u.adapter->fits(model)) throw Error("LoRA adapter " + u.adapter->name() + " does not fit this model");
    if (!std::isfinite(u.scale)) throw Error("LoRA scale is not finite");
    if (u.adapter->max_rank() > st.lora_rank_cap_)
      throw Error("the forward state has LoRA scratch for rank " + std::to_string(st.lora_rank_cap_) + ", not " +
                  std::to_string(u.adapter->max_rank()) + " (reserve_lora first)");
  }
}

// Token ids, sequences and positions (each sequence continued in order), and which tokens want
// logits (into st.out_rows_).
void ForwardPass::validate_batch() {
  for (const auto& t : batch) {
    if (t.seq < 0 || t.seq >= kv.n_seq())
      throw Error("sequence id " + std::to_string(t.seq) + " is out of range [0, " + std::to_string(kv.n_seq()) + ")");
    st.seq_pending_[size_t(t.seq)] = 0;
  }
  for (int i = 0; i < n; ++i) {
    const auto& t = batch[size_t(i)];
    if (t.token < 0 || t.token >= hp.n_vocab)
      throw Error("token id " + std::to_string(t.token) + " is out of range [0, " + std::to_string(hp.n_vocab) + ")");
    const int32_t expect = kv.seq_len(t.seq) + st.seq_pending_[size_t(t.seq)]++;
    if (t.pos != expect)
      throw Error("token at position " + std::to_string(t.pos) + " does not continue sequence " +
                  std::to_string(t.seq) + " (next position is " + std::to_string(expect) + ")");
    if (t.pos >= kv.n_ctx())
      throw Error("position " + std::to_string(t.pos) + " is beyond the context size " + std::to_string(kv.n_ctx()));
    if (t.logits) {
      if (n_out == st.max_outputs_)
        throw Error("more than " + std::to_string(st.max_outputs_) + " tokens of the batch ask for logits");
      st.out_rows_[size_t(n_out++)] = i;
    }
  }
}

// Token embeddings and per-token rotary tables (shared by all layers), as ggml's rope cache:
// the angle of pair j is pos * base^(-2j/n_rot), computed by repeated multiplication, divided
// by the frequency factor (Llama 3) and scaled by the linear factor; with neither, both
// operations are exact (x / 1, 1 * x), so plain llama keeps llama.cpp's bits.
void ForwardPass::embed_and_rope_tables() {
  const float theta_scale = std::pow(hp.rope_base, -2.0f / float(hp.n_rot));
  const float* freq_factors = model.rope_freq_factors().empty() ? nullptr : model.rope_freq_factors().data();
  for (int i = 0; i < n; ++i) {
    const auto& t = batch[size_t(i)];
    dequantize_row(model.tok_embd().type, model.tok_embd().row(t.token), st.x_.data() + size_t(i) * e, size_t(e));
    float theta = float(t.pos);
    for (int j = 0; j < n_rot2; ++j) {
      const float freq = freq_factors ? freq_factors[j] : 1.0f;
      const float angle = hp.rope_freq_scale * (theta / freq);
      st.rope_cos_[size_t(i) * n_rot2 + j] = std::cos(angle);
      st.rope_sin_[size_t(i) * n_rot2 + j] = std::sin(angle);
      theta *= theta_scale;
    }
  }
}

// Each token's dot order (TokenOrder): layer rows, then output rows.
void ForwardPass::choose_dot_orders() {
  for (int i = 0; i < n; ++i) {
    const TokenOrder o = batch[size_t(i)].order;
    st.row_batched_[size_t(i)] = o == TokenOrder::Prompt || (o == TokenOrder::Auto && n >= 2);
  }
  for (int o = 0; o < n_out; ++o)
    st.out_batched_[size_t(o)] = batch[size_t(st.out_rows_[size_t(o)])].order == TokenOrder::Auto && n_out >= 2;
}

// Converts rows [0, rows) of src ([rows][k]) for the given weights' activation types, in parallel.
Acts ForwardPass::prepare(const float* src, int rows, int k, std::initializer_list<const WeightMatrix*> ws) {
  const size_t act_batch = size_t(st.max_batch_);
  const int64_t act_kmax = std::max(hp.n_embd, hp.n_ff);
  Acts a;
  a.f32 = src;
  bool need[kNumActTypes] = {};
  bool any = false;
  for (const auto* w : ws) {
    const int slot = act_slot(activation_type(w->type));
    if (slot >= 0 && !need[slot]) {
      need[slot] = any = true;
      const bool is16 = act_is_16bit(kActTypes[slot]);
      a.conv[slot] =
          (is16 ? st.act_f16_.data() : st.act_q8_.data()) + act_region(size_t(slot), is16, act_batch, act_kmax);
    }
  }
  if (any) {
    auto convert = [&](size_t b, size_t end) {
      for (size_t r = b; r < end; ++r)
        for (size_t i = 0; i < kNumActTypes; ++i)
          if (need[i])
            kernels::convert_activations(kActTypes[i], src + r * k,
                                         const_cast<uint8_t*>(a.conv[i]) + r * act_row_bytes(kActTypes[i], k),
                                         size_t(k));
    };
    if (rows == 1) convert(0, 1);
    else pool.parallel_for(size_t(rows), convert);
  }
  return a;
}

// Output rows [lo, hi) of one job for rows_in input rows. `batched` holds each input row's dot
// order; rows of float weights are split into runs of one order. Active LoRA adapters add
// scale * B (A x) to the rows computed here, A x worked out by this thread itself (rank dot
// products per token, small beside its share of W x) rather than in another dispatch.
void ForwardPass::matmul_slice(const MatmulJob& j, int rows_in, const uint8_t* batched, int64_t lo, int64_t hi,
                               int th) const {
  if (j.w->layout != kernels::WeightLayout::Rows) {  // quantized: one summation order
    kernels::matmul_interleaved(j.w->layout, j.w->data, size_t(j.w->cols), size_t(lo), size_t(hi),
                                j.in->for_weight(j.w->type), size_t(rows_in), j.out, size_t(j.w->rows));
  } else {
    const TensorType at = activation_type(j.w->type);
    const bool order_matters = at == TensorType::F32 || at == TensorType::F16 || at == TensorType::BF16;
    const auto* a = static_cast<const uint8_t*>(j.in->for_weight(j.w->type));
    const size_t a_bytes = order_matters ? row_bytes(at, size_t(j.w->cols)) : 0;
    for (int t0 = 0; t0 < rows_in;) {
      int t1 = order_matters ? t0 + 1 : rows_in;
      while (t1 < rows_in && batched[t1] == batched[t0]) ++t1;
      kernels::matmul(j.w->type, j.w->data, size_t(j.w->cols), size_t(lo), size_t(hi), a + size_t(t0) * a_bytes,
                      size_t(t1 - t0), j.out + size_t(t0) * size_t(j.w->rows), size_t(j.w->rows), size_t(j.w->rows),
                      batched[t0] ? kernels::DotOrder::Batched : kernels::DotOrder::Single);
      t0 = t1;
    }
  }
  for (const auto& u : loras)
    if (const LoraMatrix* m = u.adapter->get(j.layer, j.target))
      lora_rows(*m, u.adapter->scale(*m, u.scale), j.in->f32, rows_in,
                st.lora_t_.data() + size_t(th) * size_t(st.max_batch_) * size_t(st.lora_rank_cap_), j.out,
                size_t(j.w->rows), lo, hi);
}

// Several matrices over the same input rows in one parallel region: threads split the
// concatenated output rows, so Q/K/V (or gate/up) cost a single dispatch.
void ForwardPass::matmuls(int rows_in, const uint8_t* batched, std::initializer_list<MatmulJob> jobs) {
  int64_t total = 0;
  for (const auto& j : jobs) total += j.w->rows;
  // Slices of whole 8-row groups, the interleaved layouts' unit (kernels/interleaved.h).
  pool.parallel_for(size_t(total), 8, [&](size_t b, size_t end, int th) {
    int64_t base = 0;
    for (const auto& j : jobs) {
      const int64_t lo = std::max<int64_t>(int64_t(b) - base, 0);
      const int64_t hi = std::min<int64_t>(int64_t(end) - base, j.w->rows);
      if (lo < hi) matmul_slice(j, rows_in, batched, lo, hi, th);
      base += j.w->rows;
    }
  });
}

// xb = norm(x) for every token of the batch.
void ForwardPass::norm_rows(const std::vector<float>& w) {
  for (int i = 0; i < n; ++i)
    rms_norm(st.x_.data() + size_t(i) * e, w.data(), st.xb_.data() + size_t(i) * e, e, hp.rms_eps);
}

// q, k, v of every token from xb; k and v go into the cache at the token's position.
void ForwardPass::qkv_into_cache(int l, const LlamaLayer& L) {
  const Acts a_attn = prepare(st.xb_.data(), n, e, {&L.wq, &L.wk, &L.wv});
  matmuls(n, st.row_batched_.data(), {{&L.wq, &a_attn, st.q_.data(), l, LoraTarget::Q},
              {&L.wk, &a_attn, st.k_.data(), l, LoraTarget::K},
              {&L.wv, &a_attn, st.v_.data(), l, LoraTarget::V}});
  add_bias(st.q_.data(), n, e, L.bq);
  add_bias(st.k_.data(), n, kvd, L.bk);
  add_bias(st.v_.data(), n, kvd, L.bv);
  for (int i = 0; i < n; ++i) {
    const auto& t = batch[size_t(i)];
    const float* cs = st.rope_cos_.data() + size_t(i) * n_rot2;
    const float* sn = st.rope_sin_.data() + size_t(i) * n_rot2;
    rope(st.q_.data() + size_t(i) * e, hp.n_head, hd, hp.n_rot, hp.rope_style, cs, sn);
    rope(st.k_.data() + size_t(i) * kvd, hp.n_head_kv, hd, hp.n_rot, hp.rope_style, cs, sn);
    kernels::f32_to_f16_row(st.k_.data() + size_t(i) * kvd, kv.k(l, t.seq, t.pos), size_t(kvd));
    kernels::f32_to_f16_row(st.v_.data() + size_t(i) * kvd, kv.v(l, t.seq, t.pos), size_t(kvd));
  }
}

// att = attention of each (token, head) over positions [0, pos] of its own sequence.
void ForwardPass::attend_heads(int l) {
  const float kq_scale = 1.0f / std::sqrt(float(hd));
  const int group = hp.n_head / hp.n_head_kv;
  pool.parallel_for(size_t(n) * size_t(hp.n_head), 1, [&](size_t j0, size_t j1, int th) {
    uint16_t* scratch = st.head_scratch_.data() + size_t(th) * 2 * size_t(hd);
    for (size_t job = j0; job < j1; ++job) {
      const size_t i = job / size_t(hp.n_head);
      const int h = int(job % size_t(hp.n_head));
      const BatchToken& t = batch[i];
      const float* q = st.q_.data() + i * size_t(e) + size_t(h) * hd;
      float* out = st.att_.data() + i * size_t(e) + size_t(h) * hd;
      const size_t off = size_t(h / group) * size_t(hd);
      kernels::attend_head_f16(q, kv.k(l, t.seq, 0) + off, kv.v(l, t.seq, 0) + off, size_t(kv.kv_dim()), t.pos + 1,
                               hd, kq_scale, scratch, scratch + hd, out);
    }
  });
}

// xb = Wo · attention(rope(Wq·xb + bq), rope(Wk·xb + bk), Wv·xb + bv) + bo.
void ForwardPass::attention(int l, const LlamaLayer& L) {
  qkv_into_cache(l, L);
  attend_heads(l);
  const Acts a_o = prepare(st.att_.data(), n, e, {&L.wo});
  matmuls(n, st.row_batched_.data(), {{&L.wo, &a_o, st.xb_.data(), l, LoraTarget::O}});
  add_bias(st.xb_.data(), n, e, L.bo);
}

// xb = Wdown · (silu(Wgate·xb) * Wup·xb).
void ForwardPass::feed_forward(int l, const LlamaLayer& L) {
  const Acts a_ffn = prepare(st.xb_.data(), n, e, {&L.w_gate, &L.w_up});
  matmuls(n, st.row_batched_.data(), {{&L.w_gate, &a_ffn, st.hb_.data(), l, LoraTarget::Gate},
              {&L.w_up, &a_ffn, st.hb2_.data(), l, LoraTarget::Up}});
  float* hb = st.hb_.data();
  const float* hb2 = st.hb2_.data();
  const size_t ffs = size_t(ff);
  pool.parallel_for(size_t(n) * ffs, 64, [&](size_t b, size_t end) {
    for (size_t r = b / ffs; r * ffs < end; ++r) {  // the rows this slice touches
      const size_t lo = std::max(b, r * ffs) - r * ffs, hi = std::min(end, (r + 1) * ffs) - r * ffs;
      kernels::swiglu_range(hb + r * ffs, hb2 + r * ffs, lo, hi, ffs);
    }
  });
  const Acts a_down = prepare(st.hb_.data(), n, ff, {&L.w_down});
  matmuls(n, st.row_batched_.data(), {{&L.w_down, &a_down, st.xb_.data(), l, LoraTarget::Down}});
}

// x += xb.
void ForwardPass::add_residual() {
  float* x = st.x_.data();
  const float* xb = st.xb_.data();
  for (size_t i = 0; i < size_t(n) * e; ++i) x[i] += xb[i];
}

// logits = Woutput · norm(x), only for the rows that asked for them.
void ForwardPass::output_logits() {
  if (n_out == 0) return;
  for (int o = 0; o < n_out; ++o)
    rms_norm(st.x_.data() + size_t(st.out_rows_[size_t(o)]) * e, model.output_norm().data(),
             st.xb_.data() + size_t(o) * e, e, hp.rms_eps);
  const Acts a_out = prepare(st.xb_.data(), n_out, e, {&model.output()});
  matmuls(n_out, st.out_batched_.data(), {{&model.output(), &a_out, st.logits_.data(), -1, LoraTarget::Output}});
}

void ForwardPass::advance_cache() {
  for (const auto& t : batch) kv.set_len(t.seq, std::max(kv.seq_len(t.seq), t.pos + 1));
}

}  // namespace tandem
