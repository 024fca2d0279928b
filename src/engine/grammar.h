// Grammar-constrained decoding: which tokens keep the output inside a grammar, step by step.
//
//   Grammar g = Grammar::from_json_schema(schema_text);        // or from_gbnf, any_json_object
//   auto gv = GrammarVocab::build(vocab);                        // once per vocabulary
//   GrammarMatcher m(g, gv);                                     // once per sequence
//   m.fill_mask(allowed); ...sample among allowed...; m.accept(token);
//
// The grammar works on bytes: a token is allowed when its bytes (Vocab::piece: SentencePiece byte
// fallback tokens are their byte, byte-level BPE texts are decoded) continue some derivation of
// the grammar, also when they end inside a multi-byte UTF-8 character or span several grammar
// symbols. End-of-generation tokens are allowed exactly where the grammar may end; other tokens
// with no text (control tokens) never are.
//
// A matcher's state is a few integers into its grammar's state cache, so copying a matcher (or
// checkpoint() / rollback()) costs nothing: speculative decoding can advance a copy over draft
// tokens and drop it. Matchers of one Grammar (and its copies) share the cache; it is locked per
// call, so they may be used on different threads. See docs/structured-outputs.md.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

class Vocab;

namespace grammar {
class StateCache;
}

// Where a matcher is: a state of its grammar, plus the part of a UTF-8 character read so far.
struct GrammarCursor {
  int32_t state = 0;
  uint32_t partial = 0;   // bits of the character so far
  uint8_t remaining = 0;  // continuation bytes it still needs
  bool operator==(const GrammarCursor&) const = default;
};

// A set of token ids as a bitset.
class TokenBitset {
 public:
  TokenBitset() = default;
  explicit TokenBitset(int32_t n) : n_(n), words_(size_t(n + 63) / 64, 0) {}
  int32_t size() const { return n_; }
  bool test(int32_t i) const { return (words_[size_t(i) >> 6] >> (i & 63)) & 1; }
  void set(int32_t i) { words_[size_t(i) >> 6] |= uint64_t(1) << (i & 63); }
  void reset(int32_t i) { words_[size_t(i) >> 6] &= ~(uint64_t(1) << (i & 63)); }
  void clear() { std::fill(words_.begin(), words_.end(), 0); }
  int32_t count() const;
  int32_t first() const;  // the lowest id in the set, or -1
  std::vector<uint64_t>& words() { return words_; }
  const std::vector<uint64_t>& words() const { return words_; }

 private:
  int32_t n_ = 0;
  std::vector<uint64_t> words_;
};

// Sets logits[i] = -inf for every token not in allowed (n = allowed.size() logits).
void mask_logits(const TokenBitset& allowed, float* logits);

// The per-vocabulary structures a matcher walks: every token's bytes in a trie (laid out in
// depth-first order so that a rejected prefix skips its whole subtree), built once.
class GrammarVocab {
 public:
  static std::shared_ptr<const GrammarVocab> build(const Vocab& vocab);

  int32_t n_tokens() const { return n_tokens_; }
  size_t n_nodes() const { return byte_.size(); }
  int32_t max_token_bytes() const { return max_depth_; }
  const std::vector<int32_t>& eog_tokens() const { return eog_; }
  const std::string& piece(int32_t token) const { return pieces_[size_t(token)]; }

 private:
  friend class GrammarMatcher;
  int32_t n_tokens_ = 0;
  std::vector<std::string> pieces_;
  // Trie nodes in preorder (the root is implicit): the byte on the edge into the node, its depth
  // (1 for the root's children), the index just past its subtree, and the tokens spelled
  // exactly by the path to it (tokens_[tok_begin_[i], tok_begin_[i + 1])).
  std::vector<uint8_t> byte_;
  std::vector<uint16_t> depth_;
  std::vector<int32_t> subtree_end_;
  std::vector<int32_t> tok_begin_;
  std::vector<int32_t> tokens_;
  std::vector<int32_t> eog_;
  uint16_t max_depth_ = 0;
};

// A compiled grammar. Copies share the compiled rules and the state cache.
class Grammar {
 public:
  // GBNF as llama.cpp reads it (docs/structured-outputs.md lists what is supported). Throws
  // Error with line and column for a syntax error, an undefined rule, left recursion, or a
  // grammar whose root can never finish.
  static Grammar from_gbnf(std::string_view text, std::string_view root = "root");
  // The supported JSON Schema subset; throws Error naming the JSON pointer of an unsupported
  // keyword or invalid schema. The output is compact JSON with properties in schema order.
  static Grammar from_json_schema(std::string_view schema_json);
  // Any JSON object (response_format json_object), in the same compact form.
  static Grammar any_json_object();
  // The JSON Schema as GBNF text (what from_json_schema compiles). Throws like from_json_schema.
  static std::string json_schema_to_gbnf(std::string_view schema_json);

  const std::string& gbnf() const { return *gbnf_; }

 private:
  friend class GrammarMatcher;
  std::shared_ptr<grammar::StateCache> cache_;
  std::shared_ptr<const std::string> gbnf_;
};

class GrammarMatcher {
 public:
  using Checkpoint = GrammarCursor;

  GrammarMatcher(const Grammar& g, std::shared_ptr<const GrammarVocab> vocab);

  // allowed (resized to the vocabulary) := the tokens that may come next.
  void fill_mask(TokenBitset& allowed);
  // Advances over token; false (state unchanged) when the grammar does not allow it.
  bool accept(int32_t token);
  // Advances over raw bytes (text that was already sent); false (state unchanged) if not allowed.
  bool accept_bytes(std::string_view bytes);
  // Whether the output so far is a complete sentence of the grammar.
  bool can_end() const;
  // Complete, and nothing may follow (the only allowed tokens are end-of-generation ones).
  bool is_finished() const;
  // When allowed holds one token, or only tokens of identical text (SentencePiece "{" and
  // <0x7B>), that token (the highest id of them); else -1. End-of-generation tokens count.
  int32_t forced_token(const TokenBitset& allowed) const;

  Checkpoint checkpoint() const { return state_; }
  void rollback(Checkpoint c) { state_ = c; }
  const GrammarVocab& vocab() const { return *vocab_; }

 private:
  std::shared_ptr<grammar::StateCache> cache_;
  std::shared_ptr<const GrammarVocab> vocab_;
  GrammarCursor state_;
};

}  // namespace tandem
