#include "protocol/request_fields.h"

#include <cmath>

namespace tandem::protocol::request_fields {

using nlohmann::json;

namespace {

const char* type_name_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "something else";
  }
}

}  // namespace

[[noreturn]] void bad(const std::string& param, const std::string& message, const std::string& code) {
  throw ApiError(400, message, param, code);
}
[[noreturn]] void bad_type(const std::string& param, const json& v, const char* want) {
  bad(param, "'" + param + "' must be " + want + ", got " + type_name_of(v), "invalid_type");
}

// Field readers: absent or null leaves the default; a wrong type or range is an error.
bool get_bool(const json& o, const char* key, bool def) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return def;
  if (!it->is_boolean()) bad_type(key, *it, "a boolean");
  return it->get<bool>();
}

double get_number(const json& o, const char* key, double def, double lo, double hi) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return def;
  if (!it->is_number()) bad_type(key, *it, "a number");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    bad(key, "'" + std::string(key) + "' must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " + it->dump());
  return v;
}

int64_t get_int(const json& o, const char* key, int64_t def, int64_t lo, int64_t hi) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return def;
  if (!it->is_number() || (it->is_number_float() && it->get<double>() != std::floor(it->get<double>())))
    bad_type(key, *it, "an integer");
  const std::optional<int64_t> v = exact_int64(*it);
  if (!v || *v < lo || *v > hi)
    bad(key, "'" + std::string(key) + "' must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                 it->dump());
  return *v;
}

std::string get_string(const json& o, const char* key, const std::string& def) {
  auto it = o.find(key);
  if (it == o.end() || it->is_null()) return def;
  if (!it->is_string()) bad_type(key, *it, "a string");
  return it->get<std::string>();
}

std::vector<int32_t> token_array(const json& a, const std::string& param, int32_t n_vocab) {
  std::vector<int32_t> out;
  out.reserve(a.size());
  for (const auto& t : a) {
    if (!t.is_number_integer()) bad_type(param, t, "an array of token ids (integers)");
    const int64_t id = exact_int64(t).value_or(-1);
    if (id < 0 || id >= n_vocab)
      bad(param, "token id " + t.dump() + " in '" + param + "' is out of range [0, " + std::to_string(n_vocab) + ")",
          "invalid_token");
    out.push_back(int32_t(id));
  }
  return out;
}

void check_fields(const json& body, const std::set<std::string>& known) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!known.count(it.key()))
      bad(it.key(), "unrecognized request argument supplied: " + it.key(), "unknown_parameter");
}

}  // namespace tandem::protocol::request_fields
