// What of an app's request leaves the device: the body an endpoint (cloud or peer) receives is
// built from an allow-list of fields, each with a declared treatment, so a field nobody thought
// about is dropped rather than forwarded unchecked:
//   Text     forwarded after the privacy check: its strings are among the texts the guard
//            checks, and are replaced by their redacted form under standard;
//   Value    forwarded as is, but only when it is a number or a boolean (anything else drops it);
//   Keyword  a string from a fixed set (a message's role), forwarded only when it is one of them;
//   Structure the shape the output must have (response_format, json_schema, grammar): forwarded
//            as the app sent it, so the endpoint's model constrains itself; its strings (a
//            schema's keys and string values, a grammar's text) are among the texts the guard
//            checks, but are never rewritten: a placeholder inside a schema or grammar would
//            change what the output must be, so when the check would change one, the request
//            stays on the device (the orchestrator decides; outbound_structure marks them);
//   Dropped  never forwarded (the gateway sets it itself, or nothing it accepts needs it).
#pragma once
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::edge {

enum class Treatment { Text, Value, Keyword, Structure, Dropped };
const char* treatment_name(Treatment t);

struct FieldRule {
  std::string_view field;
  Treatment treatment;
};

// Top-level fields of /v1/chat/completions (chat) or /v1/completions bodies, in the order their
// texts are checked (messages and the prompt first, so placeholders number in message order).
const std::vector<FieldRule>& request_field_rules(bool chat);
// Keys of one chat message.
const std::vector<FieldRule>& message_field_rules();

// Every text the outbound body would carry, in a fixed order. A prompt of token ids counts as
// `token_prompt_text` (its detokenized text).
std::vector<std::string> outbound_texts(const nlohmann::json& body, bool chat, const std::string& token_prompt_text = "");

// For each of outbound_texts' entries, whether it is a string of a Structure field.
std::vector<bool> outbound_structure(const nlohmann::json& body, bool chat, const std::string& token_prompt_text = "");

// The Structure fields of `out` (an outbound body) as the app wrote them in `raw_body` (its
// request's text), keys in the written order: nlohmann::json sorts object keys, and a schema's
// properties are generated in the order it lists them (the device reads them from the app's text),
// so an endpoint must get that order to write what the device would (and a failover's text to fit
// the device's grammar). A field whose written form is not equal to out's is left out (sent sorted).
std::map<std::string, std::string> written_structure(const nlohmann::json& out, bool chat, std::string_view raw_body);

// The body to send: allow-listed fields only, with the texts replaced, in order, by `texts` (as
// many as outbound_texts returned). A token prompt whose text was changed is sent as that text;
// a Structure field is sent with its strings replaced too, so what leaves is always what the
// check passed (the orchestrator never sends a changed one).
nlohmann::json outbound_body(const nlohmann::json& body, bool chat, const std::vector<std::string>& texts,
                             const std::string& token_prompt_text = "");

}  // namespace tandem::edge
