// The OpenAI-compatible wire format: requests parsed and validated into structs (every problem
// becomes an ApiError naming the field), and responses, stream chunks and error objects built
// as OpenAI sends them. No engine state here, so all of it can be tested on its own.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/generate.h"
#include "engine/vocab.h"
#include "protocol/generation.h"

namespace tandem::protocol {

// An error answered as {"error": {"message", "type", "param", "code"}}.
struct ApiError : std::exception {
  ApiError(int status, std::string message, std::string param = "", std::string code = "", std::string type = "");
  const char* what() const noexcept override { return message.c_str(); }
  int status;
  std::string message, type, param, code;
};
nlohmann::json error_json(const ApiError& e);

// The 400 for a prompt that does not fit the context (check_prompt_fits), naming the
// field at fault (`messages` or `prompt`, `max_completion_tokens` or `max_tokens`); nothing
// when it fits.
void require_prompt_fits(const PromptFit& fit, bool chat);

// A request body as JSON; anything that is not JSON, including a number too large for a double
// (1e309), is a 400 ApiError, which names the field holding the number where it can.
nlohmann::json parse_request_json(const std::string& text);

// A JSON number as an exact int64: nullopt for a non-number, a fraction or a value beyond int64
// (converting those would be undefined behaviour).
std::optional<int64_t> exact_int64(const nlohmann::json& v);

struct ChatMessageIn {
  std::string role, content;
};

struct CompletionRequest {
  bool chat = false;
  std::string model;
  // /v1/completions: text, or token ids when prompt_is_tokens.
  bool prompt_is_tokens = false;
  std::string prompt_text;
  std::vector<int32_t> prompt_tokens;
  // /v1/chat/completions
  std::vector<ChatMessageIn> messages;

  GenerationParams gen;  // gen.max_tokens is -1 when not given
  bool seed_given = false;
  bool stream = false, include_usage = false;
  bool echo = false;
  std::string user;  // "user" (or "session"): prefer the slot this user's last request used
};

// The top-level fields parse_completion_request accepts (any other is a 400), and the keys of a
// chat message it knows (others are ignored).
const std::set<std::string>& accepted_request_fields(bool chat);
const std::set<std::string>& accepted_message_fields();

// Throws ApiError (400) for malformed or unsupported fields; token ids are checked against n_vocab.
// raw_body: the body's text, when the caller has it (parse_output_constraint says why).
CompletionRequest parse_completion_request(const nlohmann::json& body, bool chat, int32_t n_vocab,
                                           std::string_view raw_body = {});

// Responses. `id` like "cmpl-..."/"chatcmpl-...", `created` in Unix seconds.
struct ResponseMeta {
  std::string id, model;
  int64_t created = 0;
};

struct Usage {
  int32_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
};
nlohmann::json usage_json(const Usage& u);

// A token's text as the array of its UTF-8 bytes (a chat logprobs entry's "bytes").
nlohmann::json bytes_of(const std::string& s);
// logprobs objects of generated tokens whose texts are filled in (with_text, or from JSON).
// text_offset: where the first token starts in the answer's text (echo included).
nlohmann::json completion_logprobs_json(const std::vector<TokenLogprob>& toks, size_t text_offset);
nlohmann::json chat_logprobs_json(const std::vector<TokenLogprob>& toks);
// From an OpenAI logprobs object of either shape (chat: {"content": [...]}; completions:
// {"tokens", "token_logprobs", "top_logprobs"}), by text. Another server's JSON is not trusted:
// malformed parts are skipped, never thrown on.
std::vector<TokenLogprob> token_logprobs_from_json(const nlohmann::json& logprobs);

nlohmann::json completion_response(const ResponseMeta& m, const std::string& text, const std::string& finish_reason,
                                   const nlohmann::json& logprobs, const Usage& u);
nlohmann::json completion_chunk(const ResponseMeta& m, const std::string& text, const nlohmann::json& finish_reason,
                                const nlohmann::json& logprobs);
nlohmann::json chat_response(const ResponseMeta& m, const std::string& content, const std::string& finish_reason,
                             const nlohmann::json& logprobs, const Usage& u);
nlohmann::json chat_chunk(const ResponseMeta& m, const nlohmann::json& delta, const nlohmann::json& finish_reason,
                          const nlohmann::json& logprobs);
// The last chunk of a stream with stream_options.include_usage: no choices, only usage.
nlohmann::json usage_chunk(const ResponseMeta& m, bool chat, const Usage& u);

// JSON text safe for the wire: invalid UTF-8 becomes U+FFFD.
std::string dump(const nlohmann::json& j);

}  // namespace tandem::protocol
