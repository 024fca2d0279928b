// The compiled form of a grammar: rules of alternatives of symbol sequences over Unicode code
// point classes, laid out flat so that a position in the grammar is one int. Built by the GBNF
// parser (grammar_gbnf.cpp); read by the matcher's state cache (grammar_state.cpp).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tandem::grammar {

// A set of code points: sorted, disjoint, non-adjacent inclusive ranges, with a bitmap for ASCII.
struct CharClass {
  std::vector<std::pair<uint32_t, uint32_t>> ranges;
  std::array<uint64_t, 2> ascii{};  // bit c set when code point c < 128 is in the class

  bool contains(uint32_t cp) const;
  bool intersects(uint32_t lo, uint32_t hi) const;  // some code point of [lo, hi] is in the class
  void finish();                                    // sorts, merges and fills ascii
};

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// One symbol of a sequence, or the end of an alternative.
struct Element {
  enum Kind : uint8_t { End, Rule, Class } kind = End;
  int32_t value = 0;  // Rule: rule index; Class: index into classes
};

// x{m,n} leaves n - m optional copies of x as a chain of rules o_k ::= x o_(k-1) | "" (o_1 ::=
// x | ""); a rule of such a chain knows its chain and k, so that the matcher can treat every
// o_k with more copies left than a token has bytes alike (grammar_state.cpp, saturate).
struct ChainLink {
  int32_t chain = -1;  // index into Rules::chains, -1: not part of a chain
  int32_t k = 0;
};

struct Rules {
  std::vector<Element> elements;          // every alternative's symbols followed by an End
  std::vector<std::vector<int32_t>> alts;  // per rule: the element index where each alternative starts
  std::vector<std::string> names;          // per rule, for messages (generated helpers: name-N)
  std::vector<CharClass> classes;
  int32_t root = -1;
  std::vector<ChainLink> links;              // per rule
  std::vector<std::vector<int32_t>> chains;  // per chain: its rules, chains[c][k - 1] is o_k
  std::vector<int32_t> rule_of;              // per element: the rule it belongs to
};

}  // namespace tandem::grammar
