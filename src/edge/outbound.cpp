#include "edge/outbound.h"

#include <functional>
#include <set>
#include <stdexcept>

namespace tandem::edge {

using nlohmann::json;

const char* treatment_name(Treatment t) {
  switch (t) {
    case Treatment::Text: return "text";
    case Treatment::Value: return "value";
    case Treatment::Keyword: return "keyword";
    case Treatment::Structure: return "structure";
    case Treatment::Dropped: return "dropped";
  }
  return "dropped";
}

namespace {

// The sampling and output controls both endpoints share: numbers and booleans.
constexpr FieldRule kValueRules[] = {
    {"max_tokens", Treatment::Value},     {"temperature", Treatment::Value},    {"top_p", Treatment::Value},
    {"top_k", Treatment::Value},          {"min_p", Treatment::Value},          {"repeat_penalty", Treatment::Value},
    {"repeat_last_n", Treatment::Value},  {"seed", Treatment::Value},           {"stream", Treatment::Value},
    {"n", Treatment::Value},              {"presence_penalty", Treatment::Value},
    {"frequency_penalty", Treatment::Value}, {"ignore_eos", Treatment::Value}, {"logprobs", Treatment::Value},
};

std::vector<FieldRule> make_rules(bool chat) {
  std::vector<FieldRule> r;
  // Texts first, the conversation before everything else.
  r.push_back({chat ? "messages" : "prompt", Treatment::Text});
  for (const char* f : {"stop", "user", "session"}) r.push_back({f, Treatment::Text});
  r.insert(r.end(), std::begin(kValueRules), std::end(kValueRules));
  // The gateway sets the model (the endpoint's) and max_tokens (after its caps) itself.
  r.push_back({"model", Treatment::Dropped});
  r.push_back({"logit_bias", Treatment::Dropped});  // only {} is accepted
  r.push_back({"stream_options", Treatment::Dropped});  // the cloud client sets its own
  if (chat) {
    r.push_back({"top_logprobs", Treatment::Value});
    r.push_back({"max_completion_tokens", Treatment::Dropped});  // sent as max_tokens
    // Tools are refused unless empty.
    for (const char* f : {"tools", "tool_choice", "parallel_tool_calls"})
      r.push_back({f, Treatment::Dropped});
    // Asking an endpoint to keep the conversation, or handing it the app's own labels, is not
    // needed to answer and is left out.
    for (const char* f : {"store", "metadata", "service_tier"}) r.push_back({f, Treatment::Dropped});
  } else {
    r.push_back({"best_of", Treatment::Value});
    r.push_back({"echo", Treatment::Dropped});    // the gateway echoes the prompt itself
    r.push_back({"suffix", Treatment::Dropped});  // only "" is accepted
  }
  // The output's shape, last (its strings after the conversation's in the checked texts).
  for (const char* f : {"response_format", "json_schema", "grammar"}) r.push_back({f, Treatment::Structure});
  return r;
}

bool plain_value(const json& v) { return v.is_number() || v.is_boolean(); }

// A text of the body through the privacy check's hands: returns what is sent in its place.
// `structure`: a string of a Structure field.
using TextFn = std::function<std::string(const std::string&, bool structure)>;

// A string, or an array of strings, through `text`; anything else is not forwarded.
json text_value(const json& v, const TextFn& text) {
  if (v.is_string()) return text(v.get<std::string>(), false);
  if (!v.is_array()) return nullptr;
  json out = json::array();
  for (const auto& s : v)
    if (s.is_string()) out.push_back(text(s.get<std::string>(), false));
  return out;
}

// A schema's `$schema` naming a published JSON Schema dialect: a public address that says which
// rules the schema follows (the OpenAI SDK's zod helper adds one), not a text of the app's.
bool published_dialect(const std::string& key, const json& v) {
  static const std::set<std::string> dialects = {
      "http://json-schema.org/schema#",           "http://json-schema.org/draft-03/schema#",
      "http://json-schema.org/draft-04/schema#",  "http://json-schema.org/draft-06/schema#",
      "http://json-schema.org/draft-07/schema#",  "http://json-schema.org/draft-07/schema",
      "https://json-schema.org/draft/2019-09/schema", "https://json-schema.org/draft/2020-12/schema"};
  return key == "$schema" && v.is_string() && dialects.count(v.get<std::string>()) > 0;
}

// A Structure field rebuilt with every string (object keys and string values, depth first, keys
// in the order the parsed object iterates them) through `text`, but a published dialect's
// address; numbers, booleans and nulls as they are.
json structure_value(const json& v, const TextFn& text) {
  if (v.is_string()) return text(v.get<std::string>(), true);
  if (v.is_array()) {
    json out = json::array();
    for (const auto& x : v) out.push_back(structure_value(x, text));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      std::string key = text(it.key(), true);
      out[key] = published_dialect(it.key(), it.value()) ? it.value() : structure_value(it.value(), text);
    }
    return out;
  }
  return v;
}

json message_out(const json& m, const TextFn& text) {
  json out = json::object();
  if (!m.is_object()) return out;
  for (const FieldRule& rule : message_field_rules()) {
    const auto it = m.find(std::string(rule.field));
    if (it == m.end() || it->is_null()) continue;
    const std::string key(rule.field);
    if (rule.treatment == Treatment::Keyword) {
      static const char* roles[] = {"system", "developer", "user", "assistant", "tool"};
      for (const char* role : roles)
        if (it->is_string() && *it == role) out[key] = role;
    } else if (rule.treatment == Treatment::Text && key == "content" && it->is_array()) {
      // Text parts are checked and sent as the one text they make (as the device model reads
      // them), so a value split across parts is still one value.
      std::string joined;
      for (const auto& p : *it)
        if (p.is_object() && p.value("type", "") == "text" && p.contains("text") && p["text"].is_string())
          joined += p["text"].get<std::string>();
      out[key] = text(joined, false);
    } else if (rule.treatment == Treatment::Text && it->is_string()) {
      out[key] = text(it->get<std::string>(), false);
    }
  }
  return out;
}

// A prompt: a string, a batch of one, or token ids (checked as their text; sent as the redacted
// text when that changed it).
json prompt_out(const json& p, const std::string& token_text, const TextFn& text) {
  const json& one = p.is_array() && p.size() == 1 && (p[0].is_string() || p[0].is_array()) ? p[0] : p;
  if (one.is_string()) return text(one.get<std::string>(), false);
  if (!one.is_array()) return nullptr;
  const std::string sent = text(token_text, false);
  return sent == token_text ? one : json(sent);
}

json walk(const json& body, bool chat, const std::string& token_text, const TextFn& text) {
  json out = json::object();
  if (!body.is_object()) return out;
  for (const FieldRule& rule : request_field_rules(chat)) {
    const std::string key(rule.field);
    const auto it = body.find(key);
    if (it == body.end() || it->is_null() || rule.treatment == Treatment::Dropped) continue;
    if (rule.treatment == Treatment::Value) {
      if (plain_value(*it)) out[key] = *it;
    } else if (rule.treatment == Treatment::Structure) {
      out[key] = structure_value(*it, text);
    } else if (key == "messages") {
      if (!it->is_array()) continue;
      json msgs = json::array();
      for (const auto& m : *it) msgs.push_back(message_out(m, text));
      out[key] = msgs;
    } else if (key == "prompt") {
      if (json p = prompt_out(*it, token_text, text); !p.is_null()) out[key] = p;
    } else if (json v = text_value(*it, text); !v.is_null()) {
      out[key] = v;
    }
  }
  return out;
}

}  // namespace

const std::vector<FieldRule>& request_field_rules(bool chat) {
  static const std::vector<FieldRule> for_chat = make_rules(true), for_completions = make_rules(false);
  return chat ? for_chat : for_completions;
}

const std::vector<FieldRule>& message_field_rules() {
  static const std::vector<FieldRule> rules = {{"content", Treatment::Text},
                                               {"name", Treatment::Text},
                                               {"tool_call_id", Treatment::Text},
                                               {"role", Treatment::Keyword},
                                               {"tool_calls", Treatment::Dropped}};  // only [] is accepted
  return rules;
}

std::vector<std::string> outbound_texts(const json& body, bool chat, const std::string& token_prompt_text) {
  std::vector<std::string> texts;
  walk(body, chat, token_prompt_text, [&](const std::string& s, bool) {
    texts.push_back(s);
    return s;
  });
  return texts;
}

std::map<std::string, std::string> written_structure(const json& out, bool chat, std::string_view raw_body) {
  std::map<std::string, std::string> written;
  if (raw_body.empty()) return written;
  const auto ordered = nlohmann::ordered_json::parse(raw_body, nullptr, false);
  if (!ordered.is_object()) return written;
  for (const FieldRule& rule : request_field_rules(chat)) {
    if (rule.treatment != Treatment::Structure) continue;
    const std::string key(rule.field);
    const auto sent = out.find(key);
    const auto as_written = ordered.find(key);
    if (sent == out.end() || as_written == ordered.end()) continue;
    // The same value, only its keys in another order (duplicate keys can make the parses differ).
    if (json(*as_written) == *sent) written[key] = as_written->dump();
  }
  return written;
}

std::vector<bool> outbound_structure(const json& body, bool chat, const std::string& token_prompt_text) {
  std::vector<bool> structure;
  walk(body, chat, token_prompt_text, [&](const std::string& s, bool is_structure) {
    structure.push_back(is_structure);
    return s;
  });
  return structure;
}

json outbound_body(const json& body, bool chat, const std::vector<std::string>& texts,
                   const std::string& token_prompt_text) {
  size_t next = 0;
  json out = walk(body, chat, token_prompt_text, [&](const std::string&, bool) -> std::string {
    if (next >= texts.size()) throw std::logic_error("outbound body: fewer texts than the body holds");
    return texts[next++];
  });
  if (next != texts.size()) throw std::logic_error("outbound body: more texts than the body holds");
  return out;
}

}  // namespace tandem::edge
