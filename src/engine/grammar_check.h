// What the GBNF parser hands over (rules as lists of alternatives, with where each was written),
// and the checks that turn it into flat Rules.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/grammar_rules.h"

namespace tandem::grammar {

struct ParsedGrammar {
  Rules rules;  // names, classes and root; elements and alts are filled by check_and_flatten
  std::vector<std::vector<std::vector<Element>>> defs;  // per rule: its alternatives
  std::vector<size_t> def_at;     // text offset of each rule's definition (helpers: their rule's)
  std::vector<size_t> first_use;  // text offset of the first reference to each rule
  std::vector<bool> defined;
};

// "line L, column C" of a byte offset in text.
std::string location(std::string_view text, size_t offset);

// Throws Error (with the location in text) for a rule used but not defined, left recursion (a
// rule that can reach itself before reading a character), or a rule reachable from the root that
// can never finish; otherwise lays the rules out flat.
Rules check_and_flatten(ParsedGrammar g, std::string_view text);

// GBNF text -> checked Rules.
Rules parse_gbnf(std::string_view text, std::string_view root);

}  // namespace tandem::grammar
