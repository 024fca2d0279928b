/* tandem's C API: the one public header, for C and for bindings (Swift, Kotlin/JNI, Python ctypes).
 *
 * Pure C11 (also valid C++). All objects are opaque handles. No exception ever crosses this
 * boundary: a failing call returns NULL or a negative value and describes the failure in its
 * `err` buffer (always NUL-terminated, truncated to err_size) when it has one, and in every case
 * in tandem_last_error(). NULL arguments are reported as errors, never dereferenced.
 *
 * Threads: a model may be shared by any number of sessions on any threads; one session must be
 * used by one thread at a time.
 */
#ifndef TANDEM_TANDEM_H
#define TANDEM_TANDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define TANDEM_API
#else
#define TANDEM_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Returned by tandem_tokenize / tandem_token_to_piece / tandem_sample on error (never a valid count). */
#define TANDEM_ERROR INT32_MIN

typedef struct tandem_model tandem_model;     /* a loaded GGUF model and its vocabulary (read-only) */
typedef struct tandem_session tandem_session; /* one context (KV cache of one sequence) + one sampler */

/* Session settings; start from tandem_session_default_params() and change what you need. */
typedef struct tandem_session_params {
  int32_t n_ctx;          /* positions in the context; 0: the model's trained context (at most 4096) */
  int32_t n_threads;      /* worker threads, in [1, 512] */
  float temperature;      /* <= 0: greedy (argmax, ties to the lower id) */
  int32_t top_k;          /* <= 0: off */
  float top_p;            /* in [0, 1]; 1: off */
  float min_p;            /* in [0, 1]; 0: off */
  float repeat_penalty;   /* > 0; 1: off */
  int32_t repeat_last_n;  /* >= 0 tokens the penalty looks back over; 0: off */
  uint64_t seed;          /* sampling seed: the same seed gives the same output */
} tandem_session_params;

/* Called by tandem_generate with each new token, its text (piece_len bytes, NUL-terminated; may contain
 * NUL bytes) and user_data; return false to stop generating. */
typedef bool (*tandem_token_callback)(int32_t token, const char* piece, size_t piece_len, void* user_data);

/* The message of the last failed call on this thread ("" if none); valid until the next failing call. */
TANDEM_API const char* tandem_last_error(void);

/* ---- model ---- */

/* Loads a GGUF model (memory-mapped); NULL on error, with the reason in err. Free with tandem_model_free. */
TANDEM_API tandem_model* tandem_model_load(const char* path, char* err, size_t err_size);
/* Frees a model (NULL: no-op); free its sessions first. */
TANDEM_API void tandem_model_free(tandem_model* model);
/* Vocabulary size (0 for NULL). */
TANDEM_API int32_t tandem_model_n_vocab(const tandem_model* model);
/* Context length the model was trained with (0 for NULL). */
TANDEM_API int32_t tandem_model_n_ctx_train(const tandem_model* model);
/* A short description, e.g. "llama 292.4K params, f32, vocab 512, ctx 512"; owned by the model ("" for NULL). */
TANDEM_API const char* tandem_model_desc(const tandem_model* model);
/* Beginning-of-sequence token id, or -1 if the model has none (or model is NULL). */
TANDEM_API int32_t tandem_model_token_bos(const tandem_model* model);
/* End-of-sequence token id, or -1 if the model has none (or model is NULL). */
TANDEM_API int32_t tandem_model_token_eos(const tandem_model* model);
/* Whether token ends generation (eos, eot, ...); false for NULL or an invalid id. */
TANDEM_API bool tandem_model_is_eog(const tandem_model* model, int32_t token);

/* ---- tokenization ---- */

/* Tokenizes len bytes of text (BOS first when add_bos and the model wants it) into out; returns the token
 * count, -(needed capacity) if capacity is too small (out untouched), or TANDEM_ERROR. */
TANDEM_API int32_t tandem_tokenize(const tandem_model* model, const char* text, size_t len, bool add_bos, int32_t* out,
                                   int32_t capacity);
/* Writes token's text into buf (not NUL-terminated); returns its length in bytes, -(length) if size is too
 * small, or TANDEM_ERROR (invalid token, NULL model). */
TANDEM_API int32_t tandem_token_to_piece(const tandem_model* model, int32_t token, char* buf, int32_t size);

/* ---- sessions ---- */

/* Default settings: n_ctx 0, 2 threads, llama.cpp's sampling defaults (temp 0.8, top-k 40, top-p 0.95,
 * min-p 0.05, no repeat penalty, last 64), seed 0. */
TANDEM_API tandem_session_params tandem_session_default_params(void);
/* Creates a session on model (which must outlive it); params NULL: the defaults. NULL on error. */
TANDEM_API tandem_session* tandem_session_new(const tandem_model* model, const tandem_session_params* params, char* err,
                                              size_t err_size);
/* Frees a session (NULL: no-op). */
TANDEM_API void tandem_session_free(tandem_session* session);
/* Context size of the session in tokens (0 for NULL). */
TANDEM_API int32_t tandem_session_n_ctx(const tandem_session* session);

/* Clears the session, tokenizes prompt (with BOS), then samples up to n_predict tokens, calling cb (may be
 * NULL) for each; stops at end of generation or when cb returns false. Returns the number of tokens
 * generated, or a negative value on error (message in err). */
TANDEM_API int tandem_generate(tandem_session* session, const char* prompt, int32_t n_predict,
                               tandem_token_callback cb, void* user_data, char* err, size_t err_size);

/* Appends n tokens to the session's sequence and points *logits_out (may be NULL) at the last token's
 * n_vocab logits, valid until the next call on the session. Returns 0, or negative on error (the
 * sequence is then left as it was). */
TANDEM_API int tandem_eval(tandem_session* session, const int32_t* tokens, int32_t n, float** logits_out);
/* Samples a token from n_vocab logits with the session's sampler and records it for the repeat
 * penalty; returns the token or TANDEM_ERROR. */
TANDEM_API int32_t tandem_sample(tandem_session* session, const float* logits);
/* Keeps the first len positions of the sequence (0 <= len <= current length); returns 0 or negative. */
TANDEM_API int tandem_session_truncate(tandem_session* session, int32_t len);
/* Tokens currently in the session's sequence (negative for NULL). */
TANDEM_API int32_t tandem_session_len(const tandem_session* session);
/* Empties the sequence and resets the sampler (history and seed); returns 0 or negative. */
TANDEM_API int tandem_session_reset(tandem_session* session);

/* ---- structured output (docs/structured-outputs.md) ---- */

/* Constrains what the session generates to the GBNF grammar gbnf (llama.cpp's format), from now
 * on: tandem_generate and tandem_sample only pick tokens that keep the output inside the grammar,
 * and end-of-generation only where the grammar may end. tandem_generate starts the grammar over
 * for each call; tandem_sample advances it with every token it returns (tandem_session_reset
 * starts it over). NULL removes the constraint. Returns 0, or negative with the reason (line and
 * column of a syntax error, left recursion, a grammar that can never end) in err; the session's
 * previous constraint then stays. */
TANDEM_API int tandem_session_set_grammar(tandem_session* session, const char* gbnf, char* err, size_t err_size);
/* The same for JSON that follows a JSON Schema (the supported subset; an unsupported keyword is an
 * error naming it). The output is compact JSON with properties in schema order. */
TANDEM_API int tandem_session_set_json_schema(tandem_session* session, const char* schema_json, char* err,
                                              size_t err_size);

#ifdef __cplusplus
}
#endif

#endif /* TANDEM_TANDEM_H */
