// GBNF read as llama.cpp reads it: for every (grammar, string) pair of
// tests/data/grammar/llamacpp-verdicts.tsv — llama.cpp's example grammars (grammars/ and its
// README), small grammars for escapes, classes and empty alternatives, and broken ones — tandem's
// GrammarMatcher (accept_bytes, then can_end) gives the verdict llama.cpp's own validator
// (tests/test-gbnf-validator.cpp, run by scripts/gbnf-reference.sh) gave: accept, reject, or
// error when the grammar does not compile. The few differences by design are listed below.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "engine/grammar.h"
#include "format/error.h"
#include "test_util.h"

namespace tandem {
namespace {

std::string data(const std::string& name) { return test::source_dir() + "/tests/data/grammar/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Verdict {
  std::string grammar, input, verdict;
};

std::vector<Verdict> load_verdicts() {
  std::ifstream in(data("llamacpp-verdicts.tsv"), std::ios::binary);
  std::vector<Verdict> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t a = line.find('\t'), b = line.rfind('\t');
    if (a == std::string::npos || a == b) {
      ADD_FAILURE() << "malformed line: " << line;
      continue;
    }
    out.push_back({line.substr(0, a), nlohmann::json::parse(line.substr(a + 1, b - a - 1)).get<std::string>(),
                   line.substr(b + 1)});
  }
  return out;
}

// Where tandem's verdict differs from llama.cpp's on purpose: the grammar, the input, tandem's
// verdict, and why.
struct Difference {
  const char* grammar;
  const char* input;
  const char* ours;
  const char* why;
};
const Difference kDifferences[] = {
    {"never-ends.gbnf", "aaa", "error",
     "a grammar that can never finish is refused when compiled (llama.cpp compiles it and rejects every input)"},
    {"never-ends.gbnf", "", "error",
     "a grammar that can never finish is refused when compiled (llama.cpp compiles it and rejects every input)"},
};

const Difference* listed_difference(const Verdict& v) {
  for (const Difference& d : kDifferences)
    if (v.grammar == d.grammar && v.input == d.input) return &d;
  return nullptr;
}

// Our verdict: "error" when the grammar does not compile, else whether the whole input is a
// sentence of it.
std::string our_verdict(const std::optional<Grammar>& g, const std::string& input) {
  if (!g) return "error";
  GrammarMatcher m(*g, std::make_shared<GrammarVocab>());
  return m.accept_bytes(input) && m.can_end() ? "accept" : "reject";
}

TEST(GrammarLlamaCpp, SameVerdictsAsLlamaCppsValidator) {
  const std::vector<Verdict> verdicts = load_verdicts();
  ASSERT_GE(verdicts.size(), 100u);
  std::map<std::string, std::optional<Grammar>> grammars;
  std::map<std::string, int> counts;
  for (const Verdict& v : verdicts) {
    auto [it, fresh] = grammars.try_emplace(v.grammar);
    if (fresh) {
      try {
        it->second = Grammar::from_gbnf(slurp(data(v.grammar)));
      } catch (const Error&) {
      }
    }
    const std::string ours = our_verdict(it->second, v.input);
    ++counts[v.verdict];
    SCOPED_TRACE(v.grammar + " " + nlohmann::json(v.input).dump());
    if (const Difference* d = listed_difference(v)) {
      EXPECT_EQ(ours, d->ours) << "a listed difference changed (" << d->why << "); llama.cpp: " << v.verdict;
      EXPECT_NE(v.verdict, d->ours) << "listed as a difference, but the verdicts agree";
    } else {
      EXPECT_EQ(ours, v.verdict);
    }
  }
  // Both kinds of verdict, over many grammars.
  EXPECT_GE(counts["accept"], 40);
  EXPECT_GE(counts["reject"], 40);
  EXPECT_GE(counts["error"], 3);
  EXPECT_GE(grammars.size(), 15u);
}

// Each grammar of the verdicts that llama.cpp refused is refused here with the problem's location.
TEST(GrammarLlamaCpp, RefusedGrammarsNameTheProblem) {
  const std::pair<const char*, const char*> cases[] = {
      {"syntax-error.gbnf", "line 1, column 14"},
      {"undefined-rule.gbnf", "rule 'b' is not defined"},
      {"left-recursion.gbnf", "left recursion: rule 'expr'"},
      {"never-ends.gbnf", "line 1, column 1: the grammar can never end"},
  };
  for (const auto& [file, message] : cases) {
    std::string what;
    try {
      Grammar::from_gbnf(slurp(data(file)));
    } catch (const Error& e) {
      what = e.what();
    }
    EXPECT_NE(what.find(message), std::string::npos) << file << ": " << what;
  }
}

}  // namespace
}  // namespace tandem
