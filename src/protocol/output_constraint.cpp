#include "protocol/output_constraint.h"

#include <functional>
#include <list>
#include <mutex>
#include <utility>

#include "format/error.h"
#include "protocol/openai.h"
#include "protocol/request_fields.h"

namespace tandem::protocol {

using nlohmann::json;
using request_fields::bad;
using request_fields::bad_type;
using request_fields::get_string;

namespace {

// Compiled grammars of recent requests by their source: an app sends the same schema again and
// again, and a grammar used before has its states and token masks computed already (copies of a
// Grammar share them; matchers on different threads may use them).
class RecentGrammars {
 public:
  template <typename Make>
  Grammar get(const std::string& key, Make make) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (auto it = recent_.begin(); it != recent_.end(); ++it)
        if (it->first == key) {
          recent_.splice(recent_.begin(), recent_, it);
          return recent_.front().second;
        }
    }
    Grammar g = make();  // compiled outside the lock: a large schema does not hold up others
    std::lock_guard<std::mutex> lk(mu_);
    recent_.emplace_front(key, g);
    if (recent_.size() > kKept) recent_.pop_back();
    return g;
  }

 private:
  static constexpr size_t kKept = 8;  // each holds at most its mask cache (docs: Limits)
  std::mutex mu_;
  std::list<std::pair<std::string, Grammar>> recent_;
};

Grammar cached(const std::string& kind, const std::string& text, const std::function<Grammar()>& make) {
  static RecentGrammars recent;
  return recent.get(kind + '\0' + text, make);
}

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

// The request body with its objects' members in the order they were written: a schema's
// properties are generated in that order, as OpenAI does (nlohmann::json sorts them).
struct Source {
  std::string_view raw;
  std::optional<nlohmann::ordered_json> ordered;
};

std::string schema_text(const json& schema, Source& src, const char* pointer) {
  if (src.raw.empty()) return schema.dump();
  if (!src.ordered) src.ordered = nlohmann::ordered_json::parse(src.raw, nullptr, false);
  const nlohmann::ordered_json::json_pointer ptr(pointer);
  if (src.ordered->is_discarded() || !src.ordered->contains(ptr)) return schema.dump();
  // Duplicate keys can make the two parses differ (each keeps another one): then the sorted form.
  const auto& at = src.ordered->at(ptr);
  return json(at) == schema ? at.dump() : schema.dump();
}

OutputConstraint from_schema(const json& schema, const std::string& field, Source& src, const char* pointer) {
  if (!schema.is_object() && !schema.is_boolean()) bad_type(field, schema, "a JSON Schema (an object)");
  const std::string text = schema_text(schema, src, pointer);
  return compiled("json_schema", field, [&] { return cached("json_schema", text, [&] { return Grammar::from_json_schema(text); }); });
}

// OpenAI's {"type": "text" | "json_object" | "json_schema", ...}; llama-server's json_object may
// carry a "schema" too.
OutputConstraint from_response_format(const json& rf, Source& src) {
  if (!rf.is_object()) bad_type("response_format", rf, "an object");
  const std::string type = get_string(rf, "type");
  if (type == "text") return {};
  if (type == "json_object") {
    if (auto s = rf.find("schema"); s != rf.end() && !s->is_null()) {
      OutputConstraint c = from_schema(*s, "response_format.schema", src, "/response_format/schema");
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
    return from_schema(*s, "response_format.json_schema.schema", src, "/response_format/json_schema/schema");
  // No schema: any JSON object, as the name alone promises nothing more.
  return compiled("json_schema", "response_format", [] { return Grammar::any_json_object(); });
}

}  // namespace

OutputConstraint gbnf_constraint(const std::string& gbnf, const std::string& field) {
  return compiled("grammar", field, [&] { return cached("grammar", gbnf, [&] { return Grammar::from_gbnf(gbnf); }); });
}

OutputConstraint parse_output_constraint(const json& body, std::string_view raw_body) {
  Source src{raw_body, std::nullopt};
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
  if (given[0]) return from_response_format(*given[0], src);
  if (given[1]) return from_schema(*given[1], "json_schema", src, "/json_schema");
  if (given[2]) {
    if (!given[2]->is_string()) bad_type("grammar", *given[2], "a string (GBNF)");
    return gbnf_constraint(given[2]->get<std::string>(), "grammar");
  }
  return {};
}

}  // namespace tandem::protocol
