#include "protocol/output_constraint.h"

#include <algorithm>

#include "format/error.h"
#include "protocol/openai.h"
#include "protocol/request_fields.h"

namespace tandem::protocol {

using nlohmann::json;
using request_fields::bad;
using request_fields::bad_type;
using request_fields::get_string;

namespace {

// Compiles with `make`, turning a compile error into a 400 naming the field.
template <typename Make>
OutputConstraint compiled(const char* kind, const std::string& field, Make make) {
  OutputConstraint c{kind, field, std::nullopt};
  try {
    c.grammar = make();
  } catch (const Error& e) {
    bad(field, std::string("invalid ") + (c.kind == "grammar" ? "grammar" : "JSON schema") + ": " + e.what(),
        c.kind == "grammar" ? "invalid_grammar" : "invalid_schema");
  }
  return c;
}

// The schema's text with its keys in the order the request wrote them: json keeps an object's keys
// sorted, but a schema's property order is the order the output writes them in. `field` is the
// schema's dotted path in the body; without the body's text (or should the two parses differ, as
// duplicate keys can make them), the sorted form.
std::string schema_text(const json& schema, const std::string& field, std::string_view raw_body) {
  if (raw_body.empty() || !schema.is_object()) return schema.dump();
  const auto doc = nlohmann::ordered_json::parse(raw_body, nullptr, /*allow_exceptions=*/false);
  const nlohmann::ordered_json* at = &doc;
  for (size_t pos = 0; pos <= field.size();) {
    const size_t dot = std::min(field.find('.', pos), field.size());
    if (!at->is_object()) return schema.dump();
    const auto it = at->find(field.substr(pos, dot - pos));
    if (it == at->end()) return schema.dump();
    at = &*it;
    pos = dot + 1;
  }
  return json(*at) == schema ? at->dump() : schema.dump();
}

OutputConstraint from_schema(const json& schema, const std::string& field, std::string_view raw_body) {
  if (!schema.is_object() && !schema.is_boolean()) bad_type(field, schema, "a JSON Schema (an object)");
  const std::string text = schema_text(schema, field, raw_body);
  return compiled("json_schema", field, [&] { return Grammar::from_json_schema(text); });
}

// OpenAI's {"type": "text" | "json_object" | "json_schema", ...}; llama-server's json_object may
// carry a "schema" too.
OutputConstraint from_response_format(const json& rf, std::string_view raw_body) {
  if (!rf.is_object()) bad_type("response_format", rf, "an object");
  const std::string type = get_string(rf, "type");
  if (type == "text") return {};
  if (type == "json_object") {
    if (auto s = rf.find("schema"); s != rf.end() && !s->is_null()) {
      OutputConstraint c = from_schema(*s, "response_format.schema", raw_body);
      c.kind = "json_object";
      return c;
    }
    return compiled("json_object", "response_format", [] { return Grammar::any_json_object(); });
  }
  if (type != "json_schema")
    bad("response_format.type", "unknown response_format type '" + type + "' (text, json_object or json_schema)");
  auto js = rf.find("json_schema");
  if (js == rf.end() || js->is_null())
    bad("response_format.json_schema", "'json_schema' is required with type 'json_schema'",
        "missing_required_parameter");
  if (!js->is_object()) bad_type("response_format.json_schema", *js, "an object");
  if (auto s = js->find("schema"); s != js->end() && !s->is_null())
    return from_schema(*s, "response_format.json_schema.schema", raw_body);
  // No schema: any JSON object, as the name alone promises nothing more.
  OutputConstraint c = compiled("json_schema", "response_format", [] { return Grammar::any_json_object(); });
  return c;
}

}  // namespace

OutputConstraint gbnf_constraint(const std::string& gbnf, const std::string& field) {
  return compiled("grammar", field, [&] { return Grammar::from_gbnf(gbnf); });
}

OutputConstraint parse_output_constraint(const json& body, std::string_view raw_body) {
  const json* given[3] = {nullptr, nullptr, nullptr};
  const char* names[3] = {"response_format", "json_schema", "grammar"};
  int n = 0;
  for (int i = 0; i < 3; ++i)
    if (auto it = body.find(names[i]); it != body.end() && !it->is_null() && !(i == 2 && *it == "")) {
      given[i] = &*it;
      ++n;
    }
  // A text response_format beside another field asks for nothing that conflicts with it.
  if (given[0] && given[0]->is_object() && get_string(*given[0], "type") == "text" && n > 1) {
    given[0] = nullptr;
    --n;
  }
  if (n > 1)
    bad(given[0] ? "response_format" : "json_schema",
        "give one of 'response_format', 'json_schema' and 'grammar', not several", "conflicting_parameters");
  if (given[0]) return from_response_format(*given[0], raw_body);
  if (given[1]) return from_schema(*given[1], "json_schema", raw_body);
  if (given[2]) {
    if (!given[2]->is_string()) bad_type("grammar", *given[2], "a string (GBNF)");
    return gbnf_constraint(given[2]->get<std::string>(), "grammar");
  }
  return {};
}

}  // namespace tandem::protocol
