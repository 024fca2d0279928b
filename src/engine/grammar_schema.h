// Pieces the JSON Schema converter (grammar_schema.cpp) shares with its helpers: GBNF literals,
// integer and number ranges (grammar_numbers.cpp), regular expressions and string formats
// (grammar_regex.cpp).
#pragma once
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::grammar {

// A GBNF string literal that matches exactly the bytes of s.
std::string gbnf_literal(std::string_view s);

// GBNF for the integers in [lo, hi] (nullopt: unbounded) in canonical form (no leading zeros,
// no "-0"), at most kMaxDigits digits.
constexpr int kMaxDigits = 16;
std::string integer_range(std::optional<int64_t> lo, std::optional<int64_t> hi);

// A plain decimal bound (no exponent): sign, whole part, fraction digits without trailing zeros.
struct Decimal {
  bool negative = false;
  int64_t whole = 0;
  std::string frac;
  static Decimal parse(const std::string& text);  // "-1.50" -> {true, 1, "5"}; throws Error
};

// GBNF for JSON numbers x with lo < x (or <=) and x < hi (or <=), without an exponent. Throws
// Error when the range is empty or both bounds have the same whole part and a fraction.
std::string number_range(const std::optional<Decimal>& lo, bool lo_inclusive, const std::optional<Decimal>& hi,
                         bool hi_inclusive);

// GBNF for the content (between the quotes) of a JSON string whose value matches the regular
// expression (ECMA-262 subset; unanchored patterns may have anything before and after). The
// helper rule `char` (one JSON string character) must exist. Throws Error naming the part of
// the pattern that is not supported.
std::string regex_to_gbnf(std::string_view pattern);

// GBNF for the content of a string in one of the supported formats, or "" when unknown.
std::string format_to_gbnf(std::string_view format);

// The canonical JSON text of a value, as the converted grammars write it: compact, object
// members in their stored order, whole numbers without a fraction (1.0 is 1).
std::string canonical_json(const nlohmann::ordered_json& v);

// A parsed schema as GBNF text; throws Error naming the JSON pointer of the problem.
std::string json_schema_gbnf(const nlohmann::ordered_json& schema);
// Any JSON object, in the canonical form.
std::string any_json_object_gbnf();

}  // namespace tandem::grammar
