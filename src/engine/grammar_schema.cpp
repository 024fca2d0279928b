// JSON Schema -> GBNF. The output is compact JSON (no whitespace), object properties in the
// order the schema lists them (then any additional ones), numbers without leading zeros; the
// supported keywords and the rest of the canonical form are in docs/structured-outputs.md.
// Every keyword that constrains and is not supported is an error naming it and where it is.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <map>
#include <set>

#include "engine/grammar.h"
#include "engine/grammar_schema.h"
#include "format/error.h"

namespace tandem::grammar {

namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kMaxSchemaBytes = 1 << 20;
constexpr size_t kMaxRules = 20000;

const std::set<std::string> kAnnotations = {"title", "description", "$schema", "$id", "id", "$comment", "default",
                                            "examples", "readOnly", "writeOnly", "deprecated", "$defs",
                                            "definitions", "contentEncoding", "contentMediaType"};
const std::set<std::string> kSupported = {
    "type", "properties", "required", "additionalProperties", "items", "prefixItems", "additionalItems",
    "minItems", "maxItems", "enum", "const", "anyOf", "oneOf", "$ref", "minLength", "maxLength", "pattern",
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
const char* kTypes[] = {"object", "array", "string", "number", "integer", "boolean", "null"};

const std::map<std::string, std::string> kCommonRules = {
    {"char", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})"},
    {"string", "\"\\\"\" char* \"\\\"\""},
    {"integer", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})"},
    {"number", "\"-\"? (\"0\" | [1-9] [0-9]{0,15}) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,16})?"},
    {"boolean", "\"true\" | \"false\""},
    {"null", "\"null\""},
    {"value", "object | array | string | number | boolean | null"},
    {"object", "\"{\" (string \":\" value (\",\" string \":\" value)*)? \"}\""},
    {"array", "\"[\" (value (\",\" value)*)? \"]\""},
    {"key-char", "[^\"\\\\\\x00-\\x1F]"},
};
const std::map<std::string, std::vector<std::string>> kCommonDeps = {
    {"string", {"char"}}, {"value", {"object", "array", "string", "number", "boolean", "null"}},
    {"object", {"string", "value"}}, {"array", {"value"}}};

std::string canonical_number(const ojson& v) {
  if (v.is_number_integer()) return v.dump();
  const double d = v.get<double>();
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e16) return std::to_string(int64_t(d));
  return v.dump();
}

}  // namespace

// The canonical JSON text of a value: compact, members in their stored order, whole numbers
// without a fraction.
std::string canonical_json(const ojson& v) {
  if (v.is_object()) {
    std::string out = "{";
    bool first = true;
    for (const auto& [k, x] : v.items()) {
      out += (first ? "" : ",") + ojson(k).dump() + ":" + canonical_json(x);
      first = false;
    }
    return out + "}";
  }
  if (v.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + canonical_json(v[i]);
    return out + "]";
  }
  if (v.is_number()) return canonical_number(v);
  return v.dump();
}

namespace {

class SchemaConverter {
 public:
  explicit SchemaConverter(const ojson& root) : root_(root) {}

  std::string convert() {
    names_.insert("root");
    rules_.emplace_back("root", visit(root_, "root", ""));
    std::string out;
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    for (const auto& name : common_) out += name + " ::= " + kCommonRules.at(name) + "\n";
    return out;
  }

  std::string use(const std::string& name) {
    if (common_.insert(name).second)
      if (auto it = kCommonDeps.find(name); it != kCommonDeps.end())
        for (const auto& d : it->second) use(d);
    return name;
  }

 private:
  [[noreturn]] static void fail(const std::string& ptr, const std::string& msg) {
    throw Error("schema at '" + (ptr.empty() ? std::string("#") : "#" + ptr) + "': " + msg);
  }

  std::string add_rule(std::string base, const std::string& body) {
    for (char& c : base)
      if (!std::isalnum(uint8_t(c)) && c != '-') c = '-';
    if (base.empty()) base = "r";
    std::string name = base;
    for (int i = 1; names_.count(name) || kCommonRules.count(name); ++i) name = base + "-" + std::to_string(i);
    names_.insert(name);
    if (rules_.size() >= kMaxRules) fail("", "the schema is too large (more than " + std::to_string(kMaxRules) + " rules)");
    rules_.emplace_back(name, body);
    return name;
  }

  static void check_keywords(const ojson& s, const std::string& ptr) {
    for (const auto& [k, v] : s.items())
      if (!kSupported.count(k) && !kAnnotations.count(k)) fail(ptr, "unsupported keyword '" + k + "'");
  }

  // Keywords that constrain besides those listed (for keywords that must stand alone).
  static void alone(const ojson& s, const std::string& ptr, const std::string& kw, std::set<std::string> allowed) {
    allowed.insert(kw);
    for (const auto& [k, v] : s.items())
      if (!allowed.count(k) && !kAnnotations.count(k))
        fail(ptr, "'" + kw + "' together with '" + k + "' is not supported");
  }

  std::set<std::string> types_of(const ojson& s, const std::string& ptr) {
    std::set<std::string> types;
    if (!s.contains("type")) {
      types.insert(std::begin(kTypes), std::end(kTypes));
      return types;
    }
    const ojson& t = s["type"];
    std::vector<ojson> list = t.is_array() ? std::vector<ojson>(t.begin(), t.end()) : std::vector<ojson>{t};
    for (const auto& x : list) {
      if (!x.is_string() || std::find(std::begin(kTypes), std::end(kTypes), x.get<std::string>()) == std::end(kTypes))
        fail(ptr + "/type", "unknown type " + x.dump());
      types.insert(x.get<std::string>());
    }
    if (types.empty()) fail(ptr + "/type", "an empty list of types matches nothing");
    return types;
  }

  static bool value_has_type(const ojson& v, const std::set<std::string>& types) {
    if (v.is_object()) return types.count("object");
    if (v.is_array()) return types.count("array");
    if (v.is_string()) return types.count("string");
    if (v.is_boolean()) return types.count("boolean");
    if (v.is_null()) return types.count("null");
    const double d = v.get<double>();
    return types.count("number") || (types.count("integer") && d == std::floor(d));
  }

  std::string visit(const ojson& s, const std::string& name, const std::string& ptr);
  std::string visit_enum(const ojson& s, const std::string& ptr);
  std::string visit_alternatives(const ojson& s, const char* kw, const std::string& name, const std::string& ptr);
  std::string visit_ref(const ojson& s, const std::string& ptr);
  std::string object_expr(const ojson& s, const std::string& name, const std::string& ptr);
  std::string additional_key(const std::vector<std::string>& named);
  std::string array_expr(const ojson& s, const std::string& name, const std::string& ptr);
  std::string string_expr(const ojson& s, const std::string& ptr);
  std::string numeric_expr(const ojson& s, const std::string& ptr, bool integer);

  const ojson& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> names_, common_;
  std::map<std::string, std::string> refs_;
  int depth_ = 0;
};

std::string SchemaConverter::visit(const ojson& s, const std::string& name, const std::string& ptr) {
  if (s.is_boolean()) {
    if (!s.get<bool>()) fail(ptr, "the schema false matches nothing");
    return use("value");
  }
  if (!s.is_object()) fail(ptr, "a schema must be an object or a boolean, not " + s.dump());
  if (++depth_ > 64) fail(ptr, "schemas nested more than 64 deep");
  struct Leave {
    int& d;
    ~Leave() { --d; }
  } leave{depth_};
  check_keywords(s, ptr);
  if (s.contains("$ref")) return visit_ref(s, ptr);
  if (s.contains("const") || s.contains("enum")) return visit_enum(s, ptr);
  for (const char* kw : {"anyOf", "oneOf"})
    if (s.contains(kw)) return visit_alternatives(s, kw, name, ptr);
  std::set<std::string> types = types_of(s, ptr);
  if (types.count("number")) types.erase("integer");  // numbers include the integers
  std::vector<std::string> alts;
  for (const char* t : kTypes) {
    if (!types.count(t)) continue;
    const std::string type = t;
    if (type == "object") alts.push_back(object_expr(s, name, ptr));
    else if (type == "array") alts.push_back(array_expr(s, name, ptr));
    else if (type == "string") alts.push_back(string_expr(s, ptr));
    else if (type == "number" || type == "integer") alts.push_back(numeric_expr(s, ptr, type == "integer"));
    else alts.push_back(use(type));
  }
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// anyOf / oneOf: each alternative with the keywords beside the list merged in (the schema is
// their conjunction, so merging is exact while no keyword is on both sides); false
// alternatives drop out.
std::string SchemaConverter::visit_alternatives(const ojson& s, const char* kw, const std::string& name,
                                                const std::string& ptr) {
  if (s.contains("anyOf") && s.contains("oneOf")) fail(ptr, "'anyOf' together with 'oneOf' is not supported");
  const ojson& list = s[kw];
  if (!list.is_array() || list.empty()) fail(ptr + "/" + kw, "must be a non-empty array of schemas");
  ojson siblings = ojson::object();
  for (const auto& [k, v] : s.items())
    if (k != kw && !kAnnotations.count(k)) siblings[k] = v;
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string p = ptr + "/" + kw + "/" + std::to_string(i);
    if (list[i].is_boolean() && !list[i].get<bool>()) continue;
    ojson alt = list[i].is_boolean() ? ojson::object() : list[i];
    if (!alt.is_object()) fail(p, "a schema must be an object or a boolean, not " + alt.dump());
    for (const auto& [k, v] : siblings.items()) {
      if (alt.contains(k)) fail(p, "'" + std::string(kw) + "' with '" + k + "' both beside it and inside an alternative is not supported");
      alt[k] = v;
    }
    const std::string n = name + "-" + std::to_string(i);
    out += (out.empty() ? "" : " | ") + add_rule(n, visit(alt, n, p));
  }
  if (out.empty()) fail(ptr + "/" + kw, "every alternative is the schema false: nothing matches");
  return "(" + out + ")";
}

std::string SchemaConverter::visit_enum(const ojson& s, const std::string& ptr) {
  const bool is_const = s.contains("const");
  alone(s, ptr, is_const ? "const" : "enum", {"type"});
  if (is_const && s.contains("enum")) fail(ptr, "'const' together with 'enum' is not supported");
  const ojson values = is_const ? ojson::array({s["const"]}) : s["enum"];
  if (!values.is_array()) fail(ptr + "/enum", "must be an array");
  const std::set<std::string> types = types_of(s, ptr);
  std::vector<std::string> alts;
  for (const auto& v : values)
    if (value_has_type(v, types)) alts.push_back(gbnf_literal(canonical_json(v)));
  if (alts.empty()) fail(ptr, "no value of the enum has the schema's type");
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

namespace {

// A JSON pointer fragment ("#/$defs/a%25b/c~1d") as its reference tokens.
std::vector<std::string> pointer_tokens(const std::string& ref) {
  std::string decoded;
  for (size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] == '%' && i + 2 < ref.size() && std::isxdigit(uint8_t(ref[i + 1])) && std::isxdigit(uint8_t(ref[i + 2]))) {
      decoded += char(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += ref[i];
    }
  }
  std::vector<std::string> out;
  if (decoded.empty()) return out;
  if (decoded[0] != '/') throw Error("$ref '" + ref + "' is not a JSON pointer into this schema");
  size_t start = 1;
  while (true) {
    const size_t slash = decoded.find('/', start);
    std::string tok = decoded.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string unescaped;
    for (size_t i = 0; i < tok.size(); ++i) {
      if (tok[i] == '~' && i + 1 < tok.size() && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
        unescaped += tok[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        unescaped += tok[i];
      }
    }
    out.push_back(unescaped);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

std::string SchemaConverter::visit_ref(const ojson& s, const std::string& ptr) {
  alone(s, ptr, "$ref", {});
  if (!s["$ref"].is_string()) fail(ptr + "/$ref", "must be a string");
  const std::string ref = s["$ref"].get<std::string>();
  if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
  if (ref.empty() || ref[0] != '#') fail(ptr + "/$ref", "only references inside the schema (#...) are supported, not '" + ref + "'");
  const ojson* target = &root_;
  std::string tptr;
  try {
    for (const std::string& tok : pointer_tokens(ref)) {
      if (target->is_object() && target->contains(tok)) {
        target = &(*target)[tok];
      } else if (target->is_array() && !tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoul(tok) < target->size()) {
        target = &(*target)[std::stoul(tok)];
      } else {
        fail(ptr + "/$ref", "'" + ref + "' points to nothing");
      }
      tptr += "/" + tok;
    }
  } catch (const std::out_of_range&) {
    fail(ptr + "/$ref", "'" + ref + "' points to nothing");
  }
  std::string base = tptr.empty() ? "root" : tptr.substr(tptr.rfind('/') + 1);
  const std::string name = add_rule("ref-" + base, "");  // named first: the target may refer to itself
  refs_[ref] = name;
  const std::string body = visit(*target, name, tptr);
  for (auto& [n, b] : rules_)
    if (n == name) b = body;
  return name;
}

// Properties in schema order, each optional one may be left out: first_i is what may follow
// "{" when properties i.. remain and none was written yet, after_i the same after one was
// written (so a comma comes first). Additional properties follow the named ones.
std::string SchemaConverter::object_expr(const ojson& s, const std::string& name, const std::string& ptr) {
  for (const char* kw : {"minProperties", "maxProperties", "patternProperties", "propertyNames"})
    if (s.contains(kw)) fail(ptr, std::string("unsupported keyword '") + kw + "'");
  const ojson empty = ojson::object();
  const ojson& props = s.contains("properties") ? s["properties"] : empty;
  if (!props.is_object()) fail(ptr + "/properties", "must be an object");
  std::set<std::string> required;
  if (s.contains("required")) {
    if (!s["required"].is_array()) fail(ptr + "/required", "must be an array of strings");
    for (const auto& r : s["required"]) {
      if (!r.is_string()) fail(ptr + "/required", "must be an array of strings");
      required.insert(r.get<std::string>());
    }
  }
  struct Prop {
    std::string key;
    const ojson* schema;
    std::string p;
  };
  static const ojson any = true;
  std::vector<Prop> list;
  for (const auto& [k, v] : props.items()) {
    if (v.is_boolean() && !v.get<bool>()) {
      if (required.count(k)) fail(ptr + "/properties/" + k, "a required property with the schema false");
      continue;  // may not appear: leave it out
    }
    list.push_back({k, &v, ptr + "/properties/" + k});
  }
  for (const auto& r : required)
    if (!props.contains(r)) list.push_back({r, &any, ptr + "/required"});
  const ojson& additional = s.contains("additionalProperties") ? s["additionalProperties"] : any;
  const bool extra = !(additional.is_boolean() && !additional.get<bool>());
  std::string extra_first, extra_after;
  if (extra) {
    std::vector<std::string> named;
    for (const auto& [k, v] : props.items()) named.push_back(k);
    for (const auto& r : required) named.push_back(r);
    const std::string value = additional.is_boolean() ? use("value") : visit(additional, name + "-additional", ptr + "/additionalProperties");
    const std::string kv = add_rule(name + "-additional-kv", additional_key(named) + " \":\" " + value);
    extra_first = "(" + kv + " (\",\" " + kv + ")*)?";
    extra_after = "(\",\" " + kv + ")*";
  }
  std::string first = extra_first, after = extra_after;
  for (size_t i = list.size(); i-- > 0;) {
    const Prop& p = list[i];
    const std::string kv = add_rule(name + "-" + p.key + "-kv", gbnf_literal(ojson(p.key).dump()) + " \":\" " +
                                                                    visit(*p.schema, name + "-" + p.key, p.p));
    const bool req = required.count(p.key) > 0;
    const std::string new_after = req ? "\",\" " + kv + " " + after : "(\",\" " + kv + ")? " + after;
    const std::string new_first = req ? kv + " " + after : "(" + kv + " " + after + " | " + (first.empty() ? "\"\"" : first) + ")";
    after = add_rule(name + "-after-" + std::to_string(i), new_after);
    first = add_rule(name + "-first-" + std::to_string(i), new_first);
  }
  return "\"{\" " + first + " \"}\"";
}

// A quoted key that is none of the named ones, written without escapes: at each node of the
// names' trie, either a character that continues some name, one that leaves them all, or the
// end when no name ends there.
std::string SchemaConverter::additional_key(const std::vector<std::string>& named) {
  use("key-char");
  struct Node {
    std::map<std::string, Node> next;  // by UTF-8 character
    bool end = false;
  };
  Node root;
  for (const auto& k : named) {
    Node* n = &root;
    for (size_t i = 0; i < k.size();) {
      const unsigned char c = uint8_t(k[i]);
      const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
      n = &n->next[k.substr(i, len)];
      i += len;
    }
    n->end = true;
  }
  std::function<std::string(const Node&)> gen = [&](const Node& n) -> std::string {
    std::vector<std::string> alts;
    std::string excluded;
    for (const auto& [ch, child] : n.next) {
      alts.push_back(gbnf_literal(ch) + " " + gen(child));
      if (ch == "\\" || ch == "]" || ch == "^" || ch == "-") excluded += "\\";
      excluded += ch;
    }
    alts.push_back("[^\"\\\\\\x00-\\x1F" + excluded + "] key-char*");
    if (!n.end) alts.push_back("\"\"");
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out + ")";
  };
  return "\"\\\"\" " + gen(root) + " \"\\\"\"";
}

std::string SchemaConverter::array_expr(const ojson& s, const std::string& name, const std::string& ptr) {
  for (const char* kw : {"uniqueItems", "contains"})
    if (s.contains(kw)) fail(ptr, std::string("unsupported keyword '") + kw + "'");
  auto count = [&](const char* kw, int64_t dflt) {
    if (!s.contains(kw)) return dflt;
    const ojson& v = s[kw];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>()))
      fail(ptr + "/" + kw, "must be a non-negative integer");
    return int64_t(std::min(v.get<double>(), 1e9));
  };
  const int64_t min = count("minItems", 0), max = count("maxItems", -1);
  if (max >= 0 && max < min) fail(ptr, "maxItems < minItems");
  if (max > 100000 || min > 100000) fail(ptr, "minItems / maxItems above 100000");
  static const ojson any = true;
  const ojson* prefix = nullptr;
  const ojson* rest = &any;
  if (s.contains("prefixItems")) {
    prefix = &s["prefixItems"];
    if (s.contains("items")) rest = &s["items"];
  } else if (s.contains("items") && s["items"].is_array()) {
    prefix = &s["items"];
    if (s.contains("additionalItems")) rest = &s["additionalItems"];
  } else if (s.contains("items")) {
    rest = &s["items"];
  }
  if (prefix && !prefix->is_array()) fail(ptr + "/prefixItems", "must be an array of schemas");
  const int64_t k = prefix ? int64_t(prefix->size()) : 0;
  const bool rest_ok = !(rest->is_boolean() && !rest->get<bool>());
  std::vector<std::string> items;
  for (int64_t i = 0; i < k; ++i)
    items.push_back(add_rule(name + "-item-" + std::to_string(i),
                             visit((*prefix)[size_t(i)], name + "-item-" + std::to_string(i), ptr + "/items/" + std::to_string(i))));
  const std::string r = rest_ok ? add_rule(name + "-item", visit(*rest, name + "-item", ptr + "/items")) : "";
  if (!rest_ok && min > k) fail(ptr, "minItems needs more items than the schema allows");
  // What follows after i items were written.
  std::function<std::string(int64_t)> tail = [&](int64_t i) -> std::string {
    if (i == max) return "";
    if (i < k) {
      const std::string body = "\",\" " + items[size_t(i)] + " " + tail(i + 1);
      return i >= min ? "(" + body + ")?" : body;
    }
    if (!rest_ok) return "";
    const int64_t lo = std::max<int64_t>(min - i, 0);
    return "(\",\" " + r + "){" + std::to_string(lo) + "," + (max < 0 ? "" : std::to_string(max - i)) + "}";
  };
  if (max == 0 || (k == 0 && !rest_ok)) return "\"[\" \"]\"";
  const std::string head = (k > 0 ? items[0] : r) + " " + tail(1);
  return min == 0 ? "\"[\" (" + head + ")? \"]\"" : "\"[\" " + head + " \"]\"";
}

std::string SchemaConverter::string_expr(const ojson& s, const std::string& ptr) {
  use("char");
  const bool lengths = s.contains("minLength") || s.contains("maxLength");
  if (s.contains("pattern")) {
    if (lengths || s.contains("format")) fail(ptr, "'pattern' together with lengths or 'format' is not supported");
    if (!s["pattern"].is_string()) fail(ptr + "/pattern", "must be a string");
    try {
      return "\"\\\"\" " + regex_to_gbnf(s["pattern"].get<std::string>()) + " \"\\\"\"";
    } catch (const Error& e) {
      fail(ptr + "/pattern", e.what());
    }
  }
  if (s.contains("format")) {
    if (lengths) fail(ptr, "'format' together with lengths is not supported");
    const std::string f = s["format"].is_string() ? s["format"].get<std::string>() : "";
    const std::string g = format_to_gbnf(f);
    if (g.empty()) fail(ptr + "/format", "unsupported format " + s["format"].dump() + " (date, time, date-time, uuid, email)");
    return "\"\\\"\" " + g + " \"\\\"\"";
  }
  if (!lengths) return use("string");
  auto count = [&](const char* kw, int64_t dflt) {
    if (!s.contains(kw)) return dflt;
    const ojson& v = s[kw];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>()))
      fail(ptr + "/" + kw, "must be a non-negative integer");
    if (v.get<double>() > 100000) fail(ptr + "/" + kw, "above the limit of 100000");
    return int64_t(v.get<double>());
  };
  const int64_t min = count("minLength", 0), max = count("maxLength", -1);
  if (max >= 0 && max < min) fail(ptr, "maxLength < minLength");
  return "\"\\\"\" char{" + std::to_string(min) + "," + (max < 0 ? "" : std::to_string(max)) + "} \"\\\"\"";
}

// minimum / maximum and their exclusive forms (a number since draft 6, a flag in draft 4).
std::string SchemaConverter::numeric_expr(const ojson& s, const std::string& ptr, bool integer) {
  if (s.contains("multipleOf")) fail(ptr, "unsupported keyword 'multipleOf'");
  struct Bound {
    std::optional<double> v;
    bool inclusive = true;
  };
  auto bound = [&](const char* kw, const char* ex, bool lower) {
    Bound b;
    auto num = [&](const char* k) {
      if (!s[k].is_number()) fail(ptr + "/" + k, "must be a number");
      return s[k].get<double>();
    };
    if (s.contains(kw)) b.v = num(kw);
    if (s.contains(ex)) {
      if (s[ex].is_boolean()) {
        b.inclusive = !s[ex].get<bool>();
      } else {
        const double e = num(ex);
        if (!b.v || (lower ? e >= *b.v : e <= *b.v)) b.v = e, b.inclusive = false;
      }
    }
    if (b.v && std::fabs(*b.v) > 9e15) fail(ptr + "/" + kw, "bounds beyond 16 digits are not supported");
    return b;
  };
  const Bound lo = bound("minimum", "exclusiveMinimum", true), hi = bound("maximum", "exclusiveMaximum", false);
  if (!lo.v && !hi.v) return use(integer ? "integer" : "number");
  try {
    if (integer) {
      std::optional<int64_t> a, b;
      if (lo.v) a = int64_t(lo.inclusive ? std::ceil(*lo.v) : std::floor(*lo.v) + 1);
      if (hi.v) b = int64_t(hi.inclusive ? std::floor(*hi.v) : std::ceil(*hi.v) - 1);
      return integer_range(a, b);
    }
    std::optional<Decimal> a, b;
    if (lo.v) a = Decimal::parse(ojson(*lo.v).dump());
    if (hi.v) b = Decimal::parse(ojson(*hi.v).dump());
    return number_range(a, lo.inclusive, b, hi.inclusive);
  } catch (const Error& e) {
    if (std::string(e.what()).rfind("schema at", 0) == 0) throw;
    fail(ptr, e.what());
  }
}

}  // namespace

std::string json_schema_gbnf(const ojson& schema) { return SchemaConverter(schema).convert(); }

std::string any_json_object_gbnf() {
  std::string out = "root ::= object\n";
  for (const char* r : {"char", "string", "number", "boolean", "null", "value", "object", "array"})
    out += std::string(r) + " ::= " + kCommonRules.at(r) + "\n";
  return out;
}

}  // namespace tandem::grammar

namespace tandem {

std::string Grammar::json_schema_to_gbnf(std::string_view schema_json) {
  if (schema_json.size() > grammar::kMaxSchemaBytes)
    throw Error("the schema is too large (" + std::to_string(schema_json.size()) + " bytes; the limit is " +
                std::to_string(grammar::kMaxSchemaBytes) + ")");
  nlohmann::ordered_json schema;
  try {
    schema = nlohmann::ordered_json::parse(schema_json);
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("the schema is not valid JSON: ") + e.what());
  }
  return grammar::json_schema_gbnf(schema);
}

Grammar Grammar::from_json_schema(std::string_view schema_json) {
  const std::string gbnf = json_schema_to_gbnf(schema_json);
  try {
    return from_gbnf(gbnf);
  } catch (const Error& e) {
    throw Error(std::string("schema: ") + e.what() + " (in the grammar generated from it)");
  }
}

Grammar Grammar::any_json_object() { return from_gbnf(grammar::any_json_object_gbnf()); }

}  // namespace tandem
