#include "engine/grammar_check.h"

#include "format/error.h"

namespace tandem::grammar {

std::string location(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((uint8_t(text[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

using Defs = std::vector<std::vector<std::vector<Element>>>;

// Rules that derive the empty string.
std::vector<bool> nullable_rules(const Defs& defs) {
  std::vector<bool> nullable(defs.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < defs.size(); ++r) {
      if (nullable[r]) continue;
      for (const auto& alt : defs[r]) {
        bool all = true;
        for (const Element& e : alt) all = all && e.kind == Element::Rule && nullable[size_t(e.value)];
        if (all) {
          nullable[r] = changed = true;
          break;
        }
      }
    }
  }
  return nullable;
}

// Rules that derive some finite string.
std::vector<bool> finishing_rules(const Defs& defs) {
  std::vector<bool> ok(defs.size(), false);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < defs.size(); ++r) {
      if (ok[r]) continue;
      for (const auto& alt : defs[r]) {
        bool all = true;
        for (const Element& e : alt) all = all && (e.kind != Element::Rule || ok[size_t(e.value)]);
        if (all) {
          ok[r] = changed = true;
          break;
        }
      }
    }
  }
  return ok;
}

// A rule that can reach itself through the leftmost symbols of its alternatives (skipping over
// nullable ones) with something after the recursive reference, or -1. A loop made only of
// references at the ends of alternatives (as (x*)* gives) is harmless: the matcher's frames
// collapse there, and llama.cpp accepts such grammars too.
int32_t left_recursive_rule(const Defs& defs) {
  const std::vector<bool> nullable = nullable_rules(defs);
  std::vector<std::vector<int32_t>> edges(defs.size());
  std::vector<std::pair<int32_t, int32_t>> inner;  // (from, to) with symbols after `to`
  for (size_t r = 0; r < defs.size(); ++r)
    for (const auto& alt : defs[r])
      for (size_t i = 0; i < alt.size(); ++i) {
        const Element& e = alt[i];
        if (e.kind != Element::Rule) break;
        edges[r].push_back(e.value);
        if (i + 1 < alt.size()) inner.push_back({int32_t(r), e.value});
        if (!nullable[size_t(e.value)]) break;
      }
  std::vector<int32_t> mark(defs.size(), -1);
  for (size_t k = 0; k < inner.size(); ++k) {
    const auto [from, to] = inner[k];
    std::vector<int32_t> pending{to};
    mark[size_t(to)] = int32_t(k);
    while (!pending.empty()) {
      const int32_t r = pending.back();
      pending.pop_back();
      if (r == from) return from;
      for (int32_t n : edges[size_t(r)])
        if (mark[size_t(n)] != int32_t(k)) {
          mark[size_t(n)] = int32_t(k);
          pending.push_back(n);
        }
    }
  }
  return -1;
}

}  // namespace

Rules check_and_flatten(ParsedGrammar g, std::string_view text) {
  const size_t n = g.defs.size();
  auto where = [&](size_t at) { return location(text, at); };
  for (size_t r = 0; r < n; ++r)
    if (!g.defined[r]) throw Error(where(g.first_use[r]) + ": rule '" + g.rules.names[r] + "' is not defined");
  if (const int32_t r = left_recursive_rule(g.defs); r >= 0)
    throw Error(where(g.def_at[size_t(r)]) + ": left recursion: rule '" + g.rules.names[size_t(r)] +
                "' can reach itself before reading a character");
  const std::vector<bool> finishes = finishing_rules(g.defs);
  std::vector<bool> reached(n, false);
  std::vector<int32_t> pending{g.rules.root};
  reached[size_t(g.rules.root)] = true;
  while (!pending.empty()) {
    const int32_t r = pending.back();
    pending.pop_back();
    if (!finishes[size_t(r)])
      throw Error(where(g.def_at[size_t(r)]) + ": the grammar can never end: rule '" + g.rules.names[size_t(r)] +
                  "' has no alternative that finishes (it always recurses)");
    for (const auto& alt : g.defs[size_t(r)])
      for (const Element& e : alt)
        if (e.kind == Element::Rule && !reached[size_t(e.value)]) {
          reached[size_t(e.value)] = true;
          pending.push_back(e.value);
        }
  }
  Rules& out = g.rules;
  out.alts.assign(n, {});
  out.links.resize(n);
  for (size_t r = 0; r < n; ++r)
    for (const auto& alt : g.defs[r]) {
      out.alts[r].push_back(int32_t(out.elements.size()));
      out.elements.insert(out.elements.end(), alt.begin(), alt.end());
      out.elements.push_back(Element{});
      out.rule_of.resize(out.elements.size(), int32_t(r));
    }
  return std::move(out);
}

}  // namespace tandem::grammar
