// Readers for the fields of a JSON request body, shared by the OpenAI routes and /v1/verify:
// absent or null leaves the default; a wrong type or a value out of range is a 400 ApiError that
// names the field.
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "protocol/openai.h"

namespace tandem::protocol::request_fields {

[[noreturn]] void bad(const std::string& param, const std::string& message, const std::string& code = "invalid_value");
[[noreturn]] void bad_type(const std::string& param, const nlohmann::json& v, const char* want);

bool get_bool(const nlohmann::json& o, const char* key, bool def);
double get_number(const nlohmann::json& o, const char* key, double def, double lo, double hi);
int64_t get_int(const nlohmann::json& o, const char* key, int64_t def, int64_t lo, int64_t hi);
std::string get_string(const nlohmann::json& o, const char* key, const std::string& def = "");
// Token ids, each checked against [0, n_vocab).
std::vector<int32_t> token_array(const nlohmann::json& a, const std::string& param, int32_t n_vocab);
// Any top-level field not in `known` is a 400 naming it.
void check_fields(const nlohmann::json& body, const std::set<std::string>& known);

}  // namespace tandem::protocol::request_fields
