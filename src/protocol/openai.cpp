#include "protocol/openai.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "protocol/request_fields.h"

namespace tandem::protocol {

using nlohmann::json;

ApiError::ApiError(int status_, std::string message_, std::string param_, std::string code_, std::string type_)
    : status(status_), message(std::move(message_)), type(std::move(type_)), param(std::move(param_)),
      code(std::move(code_)) {
  if (type.empty())
    type = status == 401   ? "authentication_error"
           : status == 429 ? "rate_limit_error"
           : status >= 500 ? "server_error"
                           : "invalid_request_error";
}

json error_json(const ApiError& e) {
  json err = {{"message", e.message}, {"type", e.type}, {"param", nullptr}, {"code", nullptr}};
  if (!e.param.empty()) err["param"] = e.param;
  if (!e.code.empty()) err["code"] = e.code;
  return json{{"error", err}};
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::optional<int64_t> exact_int64(const json& v) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > uint64_t(INT64_MAX)) return std::nullopt;
    return int64_t(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (!v.is_number_float()) return std::nullopt;
  const double d = v.get<double>();
  // -2^63 and 2^63 are exact doubles; int64 holds [-2^63, 2^63).
  if (!(d >= -0x1p63 && d < 0x1p63) || d != std::floor(d)) return std::nullopt;
  return int64_t(d);
}

void require_prompt_fits(const PromptFit& fit, bool chat) {
  const char* prompt_param = chat ? "messages" : "prompt";
  switch (fit.problem) {
    case PromptFit::Fits: return;
    case PromptFit::EmptyPrompt: throw ApiError(400, fit.message, prompt_param);
    case PromptFit::PromptTooLong: throw ApiError(400, fit.message, prompt_param, "context_length_exceeded");
    case PromptFit::CompletionTooLong:
      throw ApiError(400, fit.message, chat ? "max_completion_tokens" : "max_tokens", "context_length_exceeded");
  }
}

namespace {

// A SAX pass that only follows where it is ("draft_probs[0][1]"), to name the field whose
// number made the parser give up. Run after json::parse has already failed.
class JsonPathTracker : public nlohmann::json_sax<json> {
 public:
  std::string path() const {
    std::string p;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (!f.array) p += (p.empty() ? "" : ".") + f.key;
      // The innermost array's failing element has not started yet: its index is the count.
      else p += "[" + std::to_string(i + 1 == frames_.size() ? f.count : f.count - 1) + "]";
    }
    return p;
  }
  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t&) override { return value(); }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    frames_.back().key = k;
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool array = false;
    size_t count = 0;  // elements begun, in an array
    std::string key;   // the current key, in an object
  };
  bool value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().count;
    return true;
  }
  bool open(bool array) {
    value();
    frames_.push_back(Frame{array, 0, {}});
    return true;
  }
  bool close() {
    frames_.pop_back();
    return true;
  }
  std::vector<Frame> frames_;
};

}  // namespace

json parse_request_json(const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::out_of_range& e) {
    // The only out_of_range the parser throws: a number beyond a double's range.
    JsonPathTracker where;
    json::sax_parse(text, &where, json::input_format_t::json, /*strict=*/true);
    const std::string field = where.path();
    throw ApiError(400,
                   (field.empty() ? std::string("the request body holds") : "'" + field + "' is") +
                       " a number too large to represent (" + e.what() + ")",
                   field, "invalid_value");
  } catch (const json::exception& e) {
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what(), "", "invalid_json");
  }
}

namespace {

using namespace request_fields;

// Accepted for compatibility, but only with the value that means "off".
void check_off(const json& body) {
  for (const char* k : {"presence_penalty", "frequency_penalty"}) {
    const double v = get_number(body, k, 0, -2, 2);
    if (v != 0) bad(k, std::string("'") + k + "' is not supported (use repeat_penalty)", "unsupported_parameter");
  }
  if (get_int(body, "n", 1, 1, 128) != 1) bad("n", "only n = 1 is supported", "unsupported_parameter");
  if (auto it = body.find("logit_bias"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) bad_type("logit_bias", *it, "an object");
    if (!it->empty()) bad("logit_bias", "'logit_bias' is not supported", "unsupported_parameter");
  }
}

void parse_sampling(const json& body, CompletionRequest& r) {
  SamplerParams& sp = r.gen.sampling;
  sp.temperature = float(get_number(body, "temperature", 1.0, 0, 2));
  sp.top_p = float(get_number(body, "top_p", 1.0, 0, 1));
  sp.top_k = int(get_int(body, "top_k", 0, 0, 1 << 20));
  sp.min_p = float(get_number(body, "min_p", 0.0, 0, 1));
  sp.repeat_penalty = float(get_number(body, "repeat_penalty", 1.0, 0.01, 100));
  sp.repeat_last_n = int(get_int(body, "repeat_last_n", 64, 0, 1 << 16));
  r.seed_given = body.contains("seed") && !body["seed"].is_null();
  sp.seed = uint64_t(get_int(body, "seed", 0, INT64_MIN, INT64_MAX));
  r.gen.ignore_eos = get_bool(body, "ignore_eos", false);
  check_off(body);

  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      r.gen.stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      if (it->size() > 4) bad("stop", "'stop' may hold at most 4 sequences");
      for (const auto& s : *it) {
        if (!s.is_string()) bad_type("stop", s, "a string or an array of strings");
        r.gen.stop.push_back(s.get<std::string>());
      }
    } else {
      bad_type("stop", *it, "a string or an array of strings");
    }
    for (const auto& s : r.gen.stop)
      if (s.empty()) bad("stop", "stop sequences must not be empty");
  }
  r.stream = get_bool(body, "stream", false);
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) bad_type("stream_options", *it, "an object");
    if (!r.stream) bad("stream_options", "'stream_options' is only allowed when 'stream' is true");
    for (auto f = it->begin(); f != it->end(); ++f)
      if (f.key() != "include_usage") bad("stream_options", "unknown stream option: " + f.key(), "unknown_parameter");
    r.include_usage = get_bool(*it, "include_usage", false);
  }
  r.user = get_string(body, "user");
  if (const std::string s = get_string(body, "session"); !s.empty()) r.user = s;
  r.model = get_string(body, "model");
}

}  // namespace

const std::set<std::string>& accepted_request_fields(bool chat) {
  static const std::set<std::string> common = {
      "model", "max_tokens", "temperature", "top_p", "top_k", "min_p", "repeat_penalty", "repeat_last_n", "seed",
      "stop", "stream", "stream_options", "n", "presence_penalty", "frequency_penalty", "logit_bias", "user",
      "session", "ignore_eos", "logprobs", "response_format", "json_schema", "grammar"};
  static const std::set<std::string> for_chat = [] {
    std::set<std::string> k = common;
    k.insert({"messages", "max_completion_tokens", "top_logprobs", "tools", "tool_choice",
              "parallel_tool_calls", "store", "metadata", "service_tier"});
    return k;
  }();
  static const std::set<std::string> for_completions = [] {
    std::set<std::string> k = common;
    k.insert({"prompt", "echo", "best_of", "suffix"});
    return k;
  }();
  return chat ? for_chat : for_completions;
}

const std::set<std::string>& accepted_message_fields() {
  static const std::set<std::string> k = {"role", "content", "name", "tool_calls", "tool_call_id"};
  return k;
}

CompletionRequest parse_completion_request(const json& body, bool chat, int32_t n_vocab, std::string_view raw_body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object", "", "invalid_json");
  CompletionRequest r;
  r.chat = chat;
  check_fields(body, accepted_request_fields(chat));
  parse_sampling(body, r);
  int64_t max_tokens = get_int(body, "max_tokens", -1, 0, INT32_MAX);
  if (chat) max_tokens = get_int(body, "max_completion_tokens", max_tokens, 0, INT32_MAX);
  r.gen.max_tokens = int32_t(max_tokens);
  r.gen.constraint = parse_output_constraint(body, raw_body);

  if (chat) {
    if (get_bool(body, "logprobs", false)) r.gen.top_logprobs = int(get_int(body, "top_logprobs", 0, 0, 20));
    else if (body.contains("top_logprobs") && !body["top_logprobs"].is_null())
      bad("top_logprobs", "'top_logprobs' needs 'logprobs': true");
    for (const char* k : {"tools", "tool_choice"})
      if (auto it = body.find(k); it != body.end() && !it->is_null() && !(it->is_array() && it->empty()) &&
                                  !(it->is_string() && it->get<std::string>() == "none"))
        bad(k, "tool calls are not supported", "unsupported_parameter");
    auto it = body.find("messages");
    if (it == body.end() || it->is_null()) bad("messages", "'messages' is required", "missing_required_parameter");
    if (!it->is_array()) bad_type("messages", *it, "an array");
    if (it->empty()) bad("messages", "'messages' must not be empty");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& m = (*it)[i];
      const std::string p = "messages[" + std::to_string(i) + "]";
      if (!m.is_object()) bad_type(p, m, "an object");
      ChatMessageIn msg;
      msg.role = get_string(m, "role");
      static const std::set<std::string> roles = {"system", "developer", "user", "assistant", "tool"};
      if (!roles.count(msg.role)) bad(p + ".role", "unknown role '" + msg.role + "'");
      if (auto tc = m.find("tool_calls"); tc != m.end() && !tc->is_null() && !tc->empty())
        bad(p + ".tool_calls", "tool calls are not supported", "unsupported_parameter");
      auto c = m.find("content");
      if (c == m.end() || c->is_null()) {
        if (msg.role != "assistant") bad(p + ".content", "'content' is required", "missing_required_parameter");
      } else if (c->is_string()) {
        msg.content = c->get<std::string>();
      } else if (c->is_array()) {
        for (const auto& part : *c) {
          if (!part.is_object() || get_string(part, "type") != "text")
            bad(p + ".content", "only text content parts are supported", "unsupported_parameter");
          msg.content += get_string(part, "text");
        }
      } else {
        bad_type(p + ".content", *c, "a string or an array of content parts");
      }
      r.messages.push_back(std::move(msg));
    }
  } else {
    r.echo = get_bool(body, "echo", false);
    if (get_int(body, "best_of", 1, 1, 128) != 1) bad("best_of", "only best_of = 1 is supported", "unsupported_parameter");
    if (!get_string(body, "suffix").empty()) bad("suffix", "'suffix' is not supported", "unsupported_parameter");
    r.gen.top_logprobs = int(get_int(body, "logprobs", -1, 0, 20));
    if (r.echo && r.gen.top_logprobs >= 0)
      bad("logprobs", "'logprobs' together with 'echo' is not supported", "unsupported_parameter");
    auto it = body.find("prompt");
    if (it == body.end() || it->is_null()) bad("prompt", "'prompt' is required", "missing_required_parameter");
    json prompt = *it;
    // A batch of one prompt is the prompt.
    if (prompt.is_array() && prompt.size() == 1 && (prompt[0].is_string() || prompt[0].is_array())) prompt = prompt[0];
    if (prompt.is_string()) {
      r.prompt_text = prompt.get<std::string>();
    } else if (prompt.is_array()) {
      if (prompt.empty()) bad("prompt", "'prompt' must not be empty");
      if (!prompt[0].is_number_integer()) bad("prompt", "only one prompt per request is supported (n = 1)");
      r.prompt_is_tokens = true;
      r.prompt_tokens = token_array(prompt, "prompt", n_vocab);
    } else {
      bad_type("prompt", prompt, "a string or an array of token ids");
    }
  }
  return r;
}

json usage_json(const Usage& u) {
  return json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

json completion_logprobs_json(const std::vector<TokenLogprob>& toks, size_t text_offset) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offs = json::array();
  for (const auto& t : toks) {
    tokens.push_back(t.text);
    lps.push_back(t.logprob);
    json alt = json::object();
    for (const auto& a : t.top) alt[a.text] = a.logprob;
    tops.push_back(alt);
    offs.push_back(text_offset);
    text_offset += t.text.size();
  }
  return json{{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offs}};
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(int(c));
  return b;
}

json chat_logprobs_json(const std::vector<TokenLogprob>& toks) {
  json content = json::array();
  for (const auto& t : toks) {
    json alts = json::array();
    for (const auto& a : t.top) alts.push_back({{"token", a.text}, {"logprob", a.logprob}, {"bytes", bytes_of(a.text)}});
    content.push_back({{"token", t.text}, {"logprob", t.logprob}, {"bytes", bytes_of(t.text)}, {"top_logprobs", alts}});
  }
  return json{{"content", content}};
}

namespace {

bool is_text_logprob(const json& e) {
  return e.is_object() && e.contains("token") && e["token"].is_string() && e.contains("logprob") &&
         e["logprob"].is_number();
}

std::vector<TokenLogprob> chat_logprobs_from_json(const json& content) {
  std::vector<TokenLogprob> out;
  for (const auto& e : content) {
    if (!is_text_logprob(e)) continue;
    TokenLogprob t{-1, e["logprob"].get<double>(), {}, e["token"].get<std::string>()};
    if (e.contains("top_logprobs") && e["top_logprobs"].is_array())
      for (const auto& a : e["top_logprobs"])
        if (is_text_logprob(a)) t.top.push_back({-1, a["logprob"].get<double>(), a["token"].get<std::string>()});
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

std::vector<TokenLogprob> token_logprobs_from_json(const json& lp) {
  if (!lp.is_object()) return {};
  const auto content = lp.find("content");
  if (content != lp.end() && content->is_array()) return chat_logprobs_from_json(*content);
  std::vector<TokenLogprob> out;
  const auto tokens = lp.find("tokens"), lps = lp.find("token_logprobs"), tops = lp.find("top_logprobs");
  if (tokens == lp.end() || lps == lp.end() || !tokens->is_array() || !lps->is_array()) return out;
  for (size_t i = 0; i < tokens->size() && i < lps->size(); ++i) {
    if (!(*tokens)[i].is_string() || !(*lps)[i].is_number()) continue;
    TokenLogprob t{-1, (*lps)[i].get<double>(), {}, (*tokens)[i].get<std::string>()};
    if (tops != lp.end() && tops->is_array() && i < tops->size() && (*tops)[i].is_object())
      for (const auto& [k, v] : (*tops)[i].items())
        if (v.is_number()) t.top.push_back({-1, v.get<double>(), k});
    // A completions object's alternatives are a map: put them back in order of likelihood.
    std::stable_sort(t.top.begin(), t.top.end(), [](const auto& a, const auto& b) { return a.logprob > b.logprob; });
    out.push_back(std::move(t));
  }
  return out;
}

json completion_response(const ResponseMeta& m, const std::string& text, const std::string& finish_reason,
                         const json& logprobs, const Usage& u) {
  return json{{"id", m.id},
              {"object", "text_completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", json::array({{{"text", text}, {"index", 0}, {"logprobs", logprobs},
                                        {"finish_reason", finish_reason}}})},
              {"usage", usage_json(u)}};
}

json completion_chunk(const ResponseMeta& m, const std::string& text, const json& finish_reason, const json& logprobs) {
  return json{{"id", m.id},
              {"object", "text_completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", json::array({{{"text", text}, {"index", 0}, {"logprobs", logprobs},
                                        {"finish_reason", finish_reason}}})}};
}

json chat_response(const ResponseMeta& m, const std::string& content, const std::string& finish_reason,
                   const json& logprobs, const Usage& u) {
  return json{{"id", m.id},
              {"object", "chat.completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", content}}},
                                        {"logprobs", logprobs},
                                        {"finish_reason", finish_reason}}})},
              {"usage", usage_json(u)}};
}

json chat_chunk(const ResponseMeta& m, const json& delta, const json& finish_reason, const json& logprobs) {
  return json{{"id", m.id},
              {"object", "chat.completion.chunk"},
              {"created", m.created},
              {"model", m.model},
              {"choices",
               json::array({{{"index", 0}, {"delta", delta}, {"logprobs", logprobs}, {"finish_reason", finish_reason}}})}};
}

json usage_chunk(const ResponseMeta& m, bool chat, const Usage& u) {
  return json{{"id", m.id},
              {"object", chat ? "chat.completion.chunk" : "text_completion"},
              {"created", m.created},
              {"model", m.model},
              {"choices", json::array()},
              {"usage", usage_json(u)}};
}

}  // namespace tandem::protocol
