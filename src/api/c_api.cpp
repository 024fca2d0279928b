// The C API (include/tandem/tandem.h): thin wrappers over the engine that turn every exception into
// an error message and a NULL / negative result.
#include "tandem/tandem.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/generate.h"
#include "engine/grammar.h"
#include "engine/sampler.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "model/llama_model.h"

struct tandem_model {
  std::unique_ptr<tandem::LlamaModel> model;
  tandem::Vocab vocab;
  std::string desc;
};

struct tandem_session {
  const tandem_model* model = nullptr;
  std::unique_ptr<tandem::Context> ctx;
  std::unique_ptr<tandem::Sampler> sampler;
  std::string piece;  // the callback's NUL-terminated copy of a token's text
  // Output constraint (tandem_session_set_grammar / _set_json_schema); the vocabulary's trie is
  // built once, on first use.
  std::optional<tandem::Grammar> grammar;
  std::optional<tandem::GrammarMatcher> matcher;
  std::shared_ptr<const tandem::GrammarVocab> grammar_vocab;
  tandem::TokenBitset allowed;
  std::vector<float> masked;

  void restart_grammar() {
    matcher.reset();
    if (!grammar) return;
    if (!grammar_vocab) grammar_vocab = tandem::GrammarVocab::build(model->vocab);
    matcher.emplace(*grammar, grammar_vocab);
  }
};

namespace {

thread_local std::string g_last_error;

// Copies msg into err (if any), NUL-terminated, cut at a UTF-8 character boundary when it is too long.
void copy_error(char* err, size_t err_size, const std::string& msg) {
  if (!err || err_size == 0) return;
  size_t n = std::min(msg.size(), err_size - 1);
  if (n < msg.size())
    while (n > 0 && (static_cast<unsigned char>(msg[n]) & 0xC0) == 0x80) --n;  // do not split a character
  std::memcpy(err, msg.data(), n);
  err[n] = '\0';
}

void fail(char* err, size_t err_size, const std::string& msg) {
  try {
    g_last_error = msg;
  } catch (...) {
    g_last_error.clear();
  }
  copy_error(err, err_size, msg);
}

void clear_error(char* err, size_t err_size) {
  if (err && err_size > 0) err[0] = '\0';
}

// Runs f(), turning any exception into fail(); returns whether f completed.
template <class F>
bool guarded(char* err, size_t err_size, F&& f) {
  try {
    f();
    return true;
  } catch (const tandem::Error& e) {
    fail(err, err_size, e.what());
  } catch (const std::bad_alloc&) {
    fail(err, err_size, "out of memory");
  } catch (const std::exception& e) {
    fail(err, err_size, std::string("internal error: ") + e.what());
  } catch (...) {
    fail(err, err_size, "unknown error");
  }
  return false;
}

std::string describe(const tandem::LlamaModel& m) {
  const auto& hp = m.hparams();
  const double p = double(m.n_params());
  char size[32];
  if (p >= 1e9)
    std::snprintf(size, sizeof size, "%.2fB", p / 1e9);
  else if (p >= 1e6)
    std::snprintf(size, sizeof size, "%.1fM", p / 1e6);
  else
    std::snprintf(size, sizeof size, "%.1fK", p / 1e3);
  return hp.arch + " " + size + " params, " + m.type_summary() + ", vocab " + std::to_string(hp.n_vocab) + ", ctx " +
         std::to_string(hp.n_ctx_train);
}

}  // namespace

extern "C" {

const char* tandem_last_error(void) { return g_last_error.c_str(); }

// ---- model ----

tandem_model* tandem_model_load(const char* path, char* err, size_t err_size) {
  clear_error(err, err_size);
  if (!path) {
    fail(err, err_size, "tandem_model_load: path is NULL");
    return nullptr;
  }
  tandem_model* out = nullptr;
  guarded(err, err_size, [&] {
    auto m = std::make_unique<tandem_model>();
    m->model = tandem::LlamaModel::load(path);
    // Any tokenizer loads (ids work everywhere); tokenize() reports the ones it cannot run.
    m->vocab = tandem::Vocab::from_gguf_ids_only(m->model->gguf());
    if (m->vocab.n_tokens() != m->model->hparams().n_vocab)
      throw tandem::Error("the vocabulary has " + std::to_string(m->vocab.n_tokens()) + " tokens but the model " +
                          std::to_string(m->model->hparams().n_vocab));
    m->desc = describe(*m->model);
    out = m.release();
  });
  return out;
}

void tandem_model_free(tandem_model* model) { delete model; }

int32_t tandem_model_n_vocab(const tandem_model* model) { return model ? model->model->hparams().n_vocab : 0; }

int32_t tandem_model_n_ctx_train(const tandem_model* model) { return model ? model->model->hparams().n_ctx_train : 0; }

const char* tandem_model_desc(const tandem_model* model) { return model ? model->desc.c_str() : ""; }

int32_t tandem_model_token_bos(const tandem_model* model) { return model ? model->vocab.bos() : -1; }

int32_t tandem_model_token_eos(const tandem_model* model) { return model ? model->vocab.eos() : -1; }

bool tandem_model_is_eog(const tandem_model* model, int32_t token) {
  return model && model->vocab.valid(token) && model->vocab.is_eog(token);
}

// ---- tokenization ----

int32_t tandem_tokenize(const tandem_model* model, const char* text, size_t len, bool add_bos, int32_t* out,
                        int32_t capacity) {
  if (!model) return fail(nullptr, 0, "tandem_tokenize: model is NULL"), TANDEM_ERROR;
  if (!text && len > 0) return fail(nullptr, 0, "tandem_tokenize: text is NULL"), TANDEM_ERROR;
  if (capacity < 0) return fail(nullptr, 0, "tandem_tokenize: capacity is negative"), TANDEM_ERROR;
  if (!out && capacity > 0) return fail(nullptr, 0, "tandem_tokenize: out is NULL"), TANDEM_ERROR;
  int32_t result = TANDEM_ERROR;
  guarded(nullptr, 0, [&] {
    const std::vector<int32_t> ids = model->vocab.tokenize(std::string_view(text ? text : "", len), add_bos);
    if (ids.size() > size_t(INT32_MAX)) throw tandem::Error("the text has too many tokens");
    const auto n = int32_t(ids.size());
    if (n > capacity) {
      result = -n;
      return;
    }
    std::copy(ids.begin(), ids.end(), out);
    result = n;
  });
  return result;
}

int32_t tandem_token_to_piece(const tandem_model* model, int32_t token, char* buf, int32_t size) {
  if (!model) return fail(nullptr, 0, "tandem_token_to_piece: model is NULL"), TANDEM_ERROR;
  if (size < 0 || (!buf && size > 0))
    return fail(nullptr, 0, "tandem_token_to_piece: bad buffer (NULL or negative size)"), TANDEM_ERROR;
  int32_t result = TANDEM_ERROR;
  guarded(nullptr, 0, [&] {
    const std::string_view p = model->vocab.piece(token);  // throws for an invalid id
    const auto n = int32_t(p.size());
    if (n > size) {
      result = -n;
      return;
    }
    std::memcpy(buf, p.data(), p.size());
    result = n;
  });
  return result;
}

// ---- sessions ----

tandem_session_params tandem_session_default_params(void) {
  tandem_session_params p;
  p.n_ctx = 0;
  p.n_threads = 2;
  p.temperature = 0.8f;
  p.top_k = 40;
  p.top_p = 0.95f;
  p.min_p = 0.05f;
  p.repeat_penalty = 1.f;
  p.repeat_last_n = 64;
  p.seed = 0;
  return p;
}

tandem_session* tandem_session_new(const tandem_model* model, const tandem_session_params* params, char* err,
                                   size_t err_size) {
  clear_error(err, err_size);
  if (!model) {
    fail(err, err_size, "tandem_session_new: model is NULL");
    return nullptr;
  }
  const tandem_session_params p = params ? *params : tandem_session_default_params();
  tandem_session* out = nullptr;
  guarded(err, err_size, [&] {
    tandem::SamplerParams sp;
    sp.temperature = p.temperature;
    sp.top_k = p.top_k;
    sp.top_p = p.top_p;
    sp.min_p = p.min_p;
    sp.repeat_penalty = p.repeat_penalty;
    sp.repeat_last_n = p.repeat_last_n;
    sp.seed = p.seed;
    tandem::validate(sp);
    if (p.n_ctx < 0) throw tandem::Error("n_ctx must not be negative");
    tandem::ContextParams cp;
    cp.n_ctx = p.n_ctx;
    cp.n_seq = 1;
    cp.n_outputs = 1;
    cp.n_threads = p.n_threads;
    auto s = std::make_unique<tandem_session>();
    s->model = model;
    s->ctx = std::make_unique<tandem::Context>(*model->model, cp);
    s->sampler = std::make_unique<tandem::Sampler>(sp, model->model->hparams().n_vocab);
    out = s.release();
  });
  return out;
}

void tandem_session_free(tandem_session* session) { delete session; }

int32_t tandem_session_n_ctx(const tandem_session* session) { return session ? session->ctx->n_ctx() : 0; }

int tandem_generate(tandem_session* session, const char* prompt, int32_t n_predict, tandem_token_callback cb,
                    void* user_data, char* err, size_t err_size) {
  clear_error(err, err_size);
  if (!session) return fail(err, err_size, "tandem_generate: session is NULL"), -1;
  if (!prompt) return fail(err, err_size, "tandem_generate: prompt is NULL"), -1;
  int result = -1;
  guarded(err, err_size, [&] {
    const tandem::Vocab& vocab = session->model->vocab;
    const std::vector<int32_t> tokens = vocab.tokenize(prompt, vocab.add_bos());
    tandem::GenerateOptions opt;
    opt.n_predict = n_predict;
    session->restart_grammar();
    opt.grammar = session->matcher ? &*session->matcher : nullptr;
    tandem::TokenCallback on_token;
    if (cb)
      on_token = [&](int32_t tok, std::string_view piece) {
        session->piece.assign(piece);
        return cb(tok, session->piece.c_str(), session->piece.size(), user_data);
      };
    const tandem::GenerateResult r = tandem::generate(*session->ctx, vocab, *session->sampler, tokens, opt, on_token);
    result = int(r.tokens.size());
  });
  return result;
}

int tandem_eval(tandem_session* session, const int32_t* tokens, int32_t n, float** logits_out) {
  if (!session) return fail(nullptr, 0, "tandem_eval: session is NULL"), -1;
  if (n <= 0) return fail(nullptr, 0, "tandem_eval: no tokens (n must be positive)"), -1;
  if (!tokens) return fail(nullptr, 0, "tandem_eval: tokens is NULL"), -1;
  const int32_t len0 = session->ctx->seq_len(0);
  const bool ok = guarded(nullptr, 0, [&] {
    const float* logits = session->ctx->eval(0, std::span<const int32_t>(tokens, size_t(n)));
    if (logits_out) *logits_out = const_cast<float*>(logits);
  });
  if (!ok) {
    // A long input is evaluated in batches; undo those that went through before the failure.
    if (session->ctx->seq_len(0) > len0) session->ctx->truncate(0, len0);
    return -1;
  }
  return 0;
}

int32_t tandem_sample(tandem_session* session, const float* logits) {
  if (!session) return fail(nullptr, 0, "tandem_sample: session is NULL"), TANDEM_ERROR;
  if (!logits) return fail(nullptr, 0, "tandem_sample: logits is NULL"), TANDEM_ERROR;
  int32_t tok = TANDEM_ERROR;
  guarded(nullptr, 0, [&] {
    if (session->matcher) {
      tandem::GrammarMatcher& m = *session->matcher;
      m.fill_mask(session->allowed);
      if (session->allowed.first() < 0) throw tandem::Error("the grammar is complete: no token may follow");
      session->masked.assign(logits, logits + session->sampler->n_vocab());
      tandem::mask_logits(session->allowed, session->masked.data());
      tok = session->sampler->sample(session->masked.data());
      if (!session->model->vocab.is_eog(tok)) m.accept(tok);
    } else {
      tok = session->sampler->sample(logits);
    }
    session->sampler->accept(tok);
  });
  return tok;
}

int tandem_session_truncate(tandem_session* session, int32_t len) {
  if (!session) return fail(nullptr, 0, "tandem_session_truncate: session is NULL"), -1;
  return guarded(nullptr, 0, [&] { session->ctx->truncate(0, len); }) ? 0 : -1;
}

int32_t tandem_session_len(const tandem_session* session) {
  if (!session) return fail(nullptr, 0, "tandem_session_len: session is NULL"), -1;
  return session->ctx->seq_len(0);
}

int tandem_session_reset(tandem_session* session) {
  if (!session) return fail(nullptr, 0, "tandem_session_reset: session is NULL"), -1;
  return guarded(nullptr, 0, [&] {
           session->ctx->kv().clear(0);
           session->sampler->reset();
           session->restart_grammar();
         })
             ? 0
             : -1;
}

// ---- structured output ----

static int set_constraint(tandem_session* session, const char* text, bool schema, char* err, size_t err_size) {
  clear_error(err, err_size);
  const char* fn = schema ? "tandem_session_set_json_schema" : "tandem_session_set_grammar";
  if (!session) return fail(err, err_size, std::string(fn) + ": session is NULL"), -1;
  return guarded(err, err_size, [&] {
           if (!text) {
             session->grammar.reset();
           } else {
             session->grammar = schema ? tandem::Grammar::from_json_schema(text) : tandem::Grammar::from_gbnf(text);
           }
           session->restart_grammar();
         })
             ? 0
             : -1;
}

int tandem_session_set_grammar(tandem_session* session, const char* gbnf, char* err, size_t err_size) {
  return set_constraint(session, gbnf, false, err, err_size);
}

int tandem_session_set_json_schema(tandem_session* session, const char* schema_json, char* err, size_t err_size) {
  return set_constraint(session, schema_json, true, err, err_size);
}

}  // extern "C"
