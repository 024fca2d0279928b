// The whole forward pass of the llama architecture, in the order llama.cpp computes it:
//   x = embed(token)
//   per layer:  x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
//               x += Wdown · (silu(Wgate·norm(x)) * Wup·norm(x))
//   logits = Woutput · norm(x)
#include "model/forward.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "format/error.h"
#include "kernels/attention.h"
#include "kernels/ggml_numerics.h"
#include "kernels/interleaved.h"
#include "kernels/matmul.h"
#include "kernels/quantize.h"

namespace tandem {

namespace {

size_t q8_row_bytes(int64_t k) { return size_t((k + 31) / 32) * 34; }

// Activations of one input matrix, converted for the weight types that will read them.
struct Acts {
  const float* f32 = nullptr;  // [n][k]
  const uint8_t* f16 = nullptr;
  const uint8_t* q8 = nullptr;
  const void* for_weight(TensorType w) const {
    switch (activation_type(w)) {
      case TensorType::F16: return f16;
      case TensorType::Q8_0: return q8;
      default: return f32;
    }
  }
};

// RMSNorm as ggml computes it: the mean of squares accumulated in double.
void rms_norm(const float* x, const float* w, float* out, int n, float eps) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += double(x[i] * x[i]);
  const float scale = 1.0f / std::sqrt(float(sum / n) + eps);
  for (int i = 0; i < n; ++i) out[i] = (x[i] * scale) * w[i];
}

// Normal (non-NeoX) rotary embedding: rotates adjacent pairs (x[2j], x[2j+1]).
void rope(float* v, int n_heads, int head_dim, int n_rot, const float* cs, const float* sn) {
  for (int h = 0; h < n_heads; ++h) {
    float* p = v + h * head_dim;
    for (int j = 0; j < n_rot / 2; ++j) {
      const float x0 = p[2 * j], x1 = p[2 * j + 1];
      p[2 * j] = std::fma(x0, cs[j], -(x1 * sn[j]));  // as ggml compiles it (contracted)
      p[2 * j + 1] = std::fma(x0, sn[j], x1 * cs[j]);
    }
  }
}

struct MatmulJob {
  const WeightMatrix* w;
  const Acts* in;
  float* out;  // [n_tok][w->rows]
};

}  // namespace

ForwardState::ForwardState(const LlamaModel& model, int32_t max_batch, int32_t max_outputs, int32_t n_seq,
                           int n_threads)
    : max_batch_(max_batch), max_outputs_(max_outputs), n_vocab_(model.hparams().n_vocab) {
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
  act_f16_.resize(B * kmax * 2);
  act_q8_.resize(B * q8_row_bytes(int64_t(kmax)));
  rope_cos_.resize(B * size_t(hp.n_rot / 2));
  rope_sin_.resize(B * size_t(hp.n_rot / 2));
  head_scratch_.resize(size_t(std::max(n_threads, 1)) * 2 * size_t(hp.head_dim));
  out_rows_.resize(B);
  row_batched_.resize(B);
  out_batched_.resize(size_t(max_outputs));
  seq_pending_.resize(size_t(std::max(n_seq, 1)));
  logits_.resize(size_t(max_outputs) * size_t(n_vocab_));
}

size_t ForwardState::bytes() const {
  return (x_.size() + xb_.size() + q_.size() + k_.size() + v_.size() + att_.size() + hb_.size() + hb2_.size() +
          rope_cos_.size() + rope_sin_.size() + logits_.size()) * sizeof(float) +
         act_f16_.size() + act_q8_.size() + head_scratch_.size() * 2;
}

void forward(const LlamaModel& model, KvCache& kv, ForwardState& st, ThreadPool& pool,
             std::span<const BatchToken> batch) {
  const LlamaHparams& hp = model.hparams();
  const int n = int(batch.size());
  const int e = hp.n_embd, kvd = hp.kv_dim(), ff = hp.n_ff, hd = hp.head_dim;
  const int n_rot2 = hp.n_rot / 2;

  // ---- validate the whole batch before touching any state ----
  if (n == 0) return;
  if (size_t(kv.n_seq()) > st.seq_pending_.size())
    throw Error("the KV cache holds more sequences than this forward state was built for");
  if (n > st.max_batch_)
    throw Error("batch of " + std::to_string(n) + " tokens exceeds the maximum of " + std::to_string(st.max_batch_));
  int n_out = 0;
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

  float* x = st.x_.data();
  float* xb = st.xb_.data();

  // Token embeddings and per-token rotary tables (shared by all layers).
  const float theta_scale = std::pow(hp.rope_base, -2.0f / float(hp.n_rot));
  for (int i = 0; i < n; ++i) {
    const auto& t = batch[size_t(i)];
    dequantize_row(model.tok_embd().type, model.tok_embd().row(t.token), x + size_t(i) * e, size_t(e));
    float theta = float(t.pos);
    for (int j = 0; j < n_rot2; ++j) {
      st.rope_cos_[size_t(i) * n_rot2 + j] = std::cos(theta);
      st.rope_sin_[size_t(i) * n_rot2 + j] = std::sin(theta);
      theta *= theta_scale;
    }
  }

  // Converts rows [0, rows) of src ([rows][k]) for the given weights' activation types, in parallel.
  auto prepare = [&](const float* src, int rows, int k, std::initializer_list<const WeightMatrix*> ws) {
    Acts a;
    a.f32 = src;
    bool need16 = false, need8 = false;
    for (const auto* w : ws) {
      TensorType at = activation_type(w->type);
      need16 |= at == TensorType::F16;
      need8 |= at == TensorType::Q8_0;
    }
    if (need16) a.f16 = st.act_f16_.data();
    if (need8) a.q8 = st.act_q8_.data();
    if (need16 || need8) {
      auto convert = [&](size_t b, size_t end) {
        for (size_t r = b; r < end; ++r) {
          if (need16)
            kernels::convert_activations(TensorType::F16, src + r * k, st.act_f16_.data() + r * size_t(k) * 2, size_t(k));
          if (need8)
            kernels::convert_activations(TensorType::Q8_0, src + r * k, st.act_q8_.data() + r * q8_row_bytes(k), size_t(k));
        }
      };
      if (rows == 1) convert(0, 1);
      else pool.parallel_for(size_t(rows), convert);
    }
    return a;
  };

  // Each token's dot order (TokenOrder): layer rows, then output rows below.
  for (int i = 0; i < n; ++i) {
    const TokenOrder o = batch[size_t(i)].order;
    st.row_batched_[size_t(i)] = o == TokenOrder::Prompt || (o == TokenOrder::Auto && n >= 2);
  }
  for (int o = 0; o < n_out; ++o)
    st.out_batched_[size_t(o)] = batch[size_t(st.out_rows_[size_t(o)])].order == TokenOrder::Auto && n_out >= 2;

  // Several matrices over the same input rows in one parallel region: threads split the
  // concatenated output rows, so Q/K/V (or gate/up) cost a single dispatch. `batched` holds each
  // input row's dot order; rows of float weights are split into runs of one order.
  auto matmuls = [&](int rows_in, const uint8_t* batched, std::initializer_list<MatmulJob> jobs) {
    int64_t total = 0;
    for (const auto& j : jobs) total += j.w->rows;
    // Slices of whole 8-row groups, the interleaved layouts' unit (kernels/interleaved.h).
    pool.parallel_for(size_t(total), 8, [&](size_t b, size_t end) {
      int64_t base = 0;
      for (const auto& j : jobs) {
        const int64_t lo = std::max<int64_t>(int64_t(b) - base, 0);
        const int64_t hi = std::min<int64_t>(int64_t(end) - base, j.w->rows);
        base += j.w->rows;
        if (lo >= hi) continue;
        if (j.w->layout != kernels::WeightLayout::Rows) {  // quantized: one summation order
          kernels::matmul_interleaved(j.w->layout, j.w->data, size_t(j.w->cols), size_t(lo), size_t(hi),
                                      j.in->for_weight(j.w->type), size_t(rows_in), j.out, size_t(j.w->rows));
          continue;
        }
        const TensorType at = activation_type(j.w->type);
        const bool order_matters = at == TensorType::F32 || at == TensorType::F16;
        const auto* a = static_cast<const uint8_t*>(j.in->for_weight(j.w->type));
        const size_t a_bytes = order_matters ? row_bytes(at, size_t(j.w->cols)) : 0;
        for (int t0 = 0; t0 < rows_in;) {
          int t1 = order_matters ? t0 + 1 : rows_in;
          while (t1 < rows_in && batched[t1] == batched[t0]) ++t1;
          kernels::matmul(j.w->type, j.w->data, size_t(j.w->cols), size_t(lo), size_t(hi), a + size_t(t0) * a_bytes,
                          size_t(t1 - t0), j.out + size_t(t0) * size_t(j.w->rows), size_t(j.w->rows),
                          size_t(j.w->rows), batched[t0] ? kernels::DotOrder::Batched : kernels::DotOrder::Single);
          t0 = t1;
        }
      }
    });
  };

  const float kq_scale = 1.0f / std::sqrt(float(hd));
  const int group = hp.n_head / hp.n_head_kv;
  for (int l = 0; l < hp.n_layer; ++l) {
    const LlamaLayer& L = model.layers()[size_t(l)];

    // ---- attention ----
    for (int i = 0; i < n; ++i) rms_norm(x + size_t(i) * e, L.attn_norm.data(), xb + size_t(i) * e, e, hp.rms_eps);
    const Acts a_attn = prepare(xb, n, e, {&L.wq, &L.wk, &L.wv});
    matmuls(n, st.row_batched_.data(), {{&L.wq, &a_attn, st.q_.data()}, {&L.wk, &a_attn, st.k_.data()}, {&L.wv, &a_attn, st.v_.data()}});
    for (int i = 0; i < n; ++i) {
      const auto& t = batch[size_t(i)];
      const float* cs = st.rope_cos_.data() + size_t(i) * n_rot2;
      const float* sn = st.rope_sin_.data() + size_t(i) * n_rot2;
      rope(st.q_.data() + size_t(i) * e, hp.n_head, hd, hp.n_rot, cs, sn);
      rope(st.k_.data() + size_t(i) * kvd, hp.n_head_kv, hd, hp.n_rot, cs, sn);
      kernels::f32_to_f16_row(st.k_.data() + size_t(i) * kvd, kv.k(l, t.seq, t.pos), size_t(kvd));
      kernels::f32_to_f16_row(st.v_.data() + size_t(i) * kvd, kv.v(l, t.seq, t.pos), size_t(kvd));
    }
    // Each (token, head) attends to positions [0, pos] of its own sequence.
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
    const Acts a_o = prepare(st.att_.data(), n, e, {&L.wo});
    matmuls(n, st.row_batched_.data(), {{&L.wo, &a_o, xb}});
    for (size_t i = 0; i < size_t(n) * e; ++i) x[i] += xb[i];

    // ---- feed-forward ----
    for (int i = 0; i < n; ++i) rms_norm(x + size_t(i) * e, L.ffn_norm.data(), xb + size_t(i) * e, e, hp.rms_eps);
    const Acts a_ffn = prepare(xb, n, e, {&L.w_gate, &L.w_up});
    matmuls(n, st.row_batched_.data(), {{&L.w_gate, &a_ffn, st.hb_.data()}, {&L.w_up, &a_ffn, st.hb2_.data()}});
    for (int i = 0; i < n; ++i) ggml_exact::swiglu_row(st.hb_.data() + size_t(i) * ff, st.hb2_.data() + size_t(i) * ff, ff);
    const Acts a_down = prepare(st.hb_.data(), n, ff, {&L.w_down});
    matmuls(n, st.row_batched_.data(), {{&L.w_down, &a_down, xb}});
    for (size_t i = 0; i < size_t(n) * e; ++i) x[i] += xb[i];
  }

  // ---- output: only the rows that asked for logits ----
  for (int o = 0; o < n_out; ++o)
    rms_norm(x + size_t(st.out_rows_[size_t(o)]) * e, model.output_norm().data(), xb + size_t(o) * e, e, hp.rms_eps);
  if (n_out > 0) {
    const Acts a_out = prepare(xb, n_out, e, {&model.output()});
    matmuls(n_out, st.out_batched_.data(), {{&model.output(), &a_out, st.logits_.data()}});
  }

  for (const auto& t : batch) kv.set_len(t.seq, std::max(kv.seq_len(t.seq), t.pos + 1));
}

}  // namespace tandem
