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
  act_f16_.resize(act_region(kNumActTypes, true, B, int64_t(kmax)));
  act_q8_.resize(act_region(kNumActTypes, false, B, int64_t(kmax)));
  rope_cos_.resize(B * size_t(hp.n_rot / 2));
  rope_sin_.resize(B * size_t(hp.n_rot / 2));
  head_scratch_.resize(size_t(std::max(n_threads, 1)) * 2 * size_t(hp.head_dim));
  out_rows_.resize(B);
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
  const size_t act_batch = size_t(st.max_batch_);
  const int64_t act_kmax = std::max(hp.n_embd, hp.n_ff);
  auto prepare = [&](const float* src, int rows, int k, std::initializer_list<const WeightMatrix*> ws) {
    Acts a;
    a.f32 = src;
    bool need[kNumActTypes] = {};
    bool any = false;
    for (const auto* w : ws) {
      const int slot = act_slot(activation_type(w->type));
      if (slot >= 0 && !need[slot]) {
        need[slot] = any = true;
        const bool is16 = act_is_16bit(kActTypes[slot]);
        a.conv[slot] = (is16 ? st.act_f16_.data() : st.act_q8_.data()) +
                       act_region(size_t(slot), is16, act_batch, act_kmax);
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
  };

  // Several matrices over the same input rows in one parallel region: threads split the
  // concatenated output rows, so Q/K/V (or gate/up) cost a single dispatch.
  auto matmuls = [&](int rows_in, std::initializer_list<MatmulJob> jobs) {
    int64_t total = 0;
    for (const auto& j : jobs) total += j.w->rows;
    pool.parallel_for(size_t(total), [&](size_t b, size_t end) {
      int64_t base = 0;
      for (const auto& j : jobs) {
        const int64_t lo = std::max<int64_t>(int64_t(b) - base, 0);
        const int64_t hi = std::min<int64_t>(int64_t(end) - base, j.w->rows);
        if (lo < hi)
          kernels::matmul(j.w->type, j.w->data, size_t(j.w->cols), size_t(lo), size_t(hi), j.in->for_weight(j.w->type),
                          size_t(rows_in), j.out, size_t(j.w->rows), size_t(j.w->rows));
        base += j.w->rows;
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
    matmuls(n, {{&L.wq, &a_attn, st.q_.data()}, {&L.wk, &a_attn, st.k_.data()}, {&L.wv, &a_attn, st.v_.data()}});
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
    struct AttnCtx {
      ForwardState* st; const KvCache* kv; std::span<const BatchToken> batch;
      int l, n_head, hd, e, group; float scale;
    } actx{&st, &kv, batch, l, hp.n_head, hd, e, group, kq_scale};
    pool.run([](void* p, int th, int nth) {
      auto& c = *static_cast<AttnCtx*>(p);
      const size_t jobs = c.batch.size() * size_t(c.n_head);
      for (size_t job = jobs * th / nth; job < jobs * (th + 1) / nth; ++job) {
        const size_t i = job / size_t(c.n_head);
        const int h = int(job % size_t(c.n_head));
        const BatchToken& t = c.batch[i];
        const int kvh = h / c.group;
        const float* q = c.st->q_.data() + i * size_t(c.e) + size_t(h) * c.hd;
        float* out = c.st->att_.data() + i * size_t(c.e) + size_t(h) * c.hd;
        uint16_t* scratch = c.st->head_scratch_.data() + size_t(th) * 2 * size_t(c.hd);
        const size_t off = size_t(kvh) * size_t(c.hd);
        kernels::attend_head_f16(q, c.kv->k(c.l, t.seq, 0) + off, c.kv->v(c.l, t.seq, 0) + off, size_t(c.kv->kv_dim()),
                                 t.pos + 1, c.hd, c.scale, scratch, scratch + c.hd, out);
      }
    }, &actx);
    const Acts a_o = prepare(st.att_.data(), n, e, {&L.wo});
    matmuls(n, {{&L.wo, &a_o, xb}});
    for (size_t i = 0; i < size_t(n) * e; ++i) x[i] += xb[i];

    // ---- feed-forward ----
    for (int i = 0; i < n; ++i) rms_norm(x + size_t(i) * e, L.ffn_norm.data(), xb + size_t(i) * e, e, hp.rms_eps);
    const Acts a_ffn = prepare(xb, n, e, {&L.w_gate, &L.w_up});
    matmuls(n, {{&L.w_gate, &a_ffn, st.hb_.data()}, {&L.w_up, &a_ffn, st.hb2_.data()}});
    for (int i = 0; i < n; ++i) ggml_exact::swiglu_row(st.hb_.data() + size_t(i) * ff, st.hb2_.data() + size_t(i) * ff, ff);
    const Acts a_down = prepare(st.hb_.data(), n, ff, {&L.w_down});
    matmuls(n, {{&L.w_down, &a_down, xb}});
    for (size_t i = 0; i < size_t(n) * e; ++i) x[i] += xb[i];
  }

  // ---- output: only the rows that asked for logits ----
  for (int o = 0; o < n_out; ++o)
    rms_norm(x + size_t(st.out_rows_[size_t(o)]) * e, model.output_norm().data(), xb + size_t(o) * e, e, hp.rms_eps);
  if (n_out > 0) {
    const Acts a_out = prepare(xb, n_out, e, {&model.output()});
    matmuls(n_out, {{&model.output(), &a_out, st.logits_.data()}});
  }

  for (const auto& t : batch) kv.set_len(t.seq, std::max(kv.seq_len(t.seq), t.pos + 1));
}

}  // namespace tandem
