// The per-step token mask: a walk of the vocabulary's byte trie from the matcher's state, with
// memoized byte transitions, skipping every subtree whose prefix the grammar rejects. Masks are
// cached per state, so the steps that come back to a state (inside a string, between array
// items) cost a copy of the bitset.
#include <bit>
#include <limits>

#include "engine/grammar.h"
#include "engine/grammar_state.h"
#include "engine/vocab.h"
#include "format/error.h"

namespace tandem {

int32_t TokenBitset::count() const {
  int32_t n = 0;
  for (uint64_t w : words_) n += std::popcount(w);
  return n;
}

int32_t TokenBitset::first() const {
  for (size_t i = 0; i < words_.size(); ++i)
    if (words_[i]) return int32_t(i * 64) + std::countr_zero(words_[i]);
  return -1;
}

void mask_logits(const TokenBitset& allowed, float* logits) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const auto& w = allowed.words();
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i] == ~uint64_t(0)) continue;
    const int32_t base = int32_t(i * 64);
    const int32_t end = std::min(base + 64, allowed.size());
    for (int32_t t = base; t < end; ++t)
      if (!((w[i] >> (t - base)) & 1)) logits[t] = kNegInf;
  }
}

namespace {

// Insertion into a pointer trie, then flattening into preorder.
struct BuildNode {
  std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  std::vector<int32_t> tokens;
};

int32_t child_of(std::vector<BuildNode>& nodes, int32_t n, uint8_t b) {
  auto& ch = nodes[size_t(n)].children;
  auto it = std::lower_bound(ch.begin(), ch.end(), b, [](const auto& p, uint8_t v) { return p.first < v; });
  if (it != ch.end() && it->first == b) return it->second;
  const int32_t id = int32_t(nodes.size());
  ch.insert(it, {b, id});
  nodes.emplace_back();  // invalidates ch
  return id;
}

}  // namespace

std::shared_ptr<const GrammarVocab> GrammarVocab::build(const Vocab& vocab) {
  auto gv = std::make_shared<GrammarVocab>();
  gv->n_tokens_ = vocab.n_tokens();
  gv->pieces_.resize(size_t(vocab.n_tokens()));
  std::vector<BuildNode> nodes(1);
  for (int32_t t = 0; t < vocab.n_tokens(); ++t) {
    gv->pieces_[size_t(t)] = std::string(vocab.piece(t));
    if (vocab.is_eog(t)) {
      gv->eog_.push_back(t);
      continue;
    }
    const std::string& p = gv->pieces_[size_t(t)];
    if (p.empty() || p.size() > 0xFFFF) continue;  // control tokens: never part of grammar text
    int32_t n = 0;
    for (unsigned char c : p) n = child_of(nodes, n, c);
    nodes[size_t(n)].tokens.push_back(t);
  }
  // Preorder flattening with an explicit stack of (node, depth).
  std::vector<std::pair<int32_t, uint16_t>> stack;
  std::vector<int32_t> open;  // flattened indices whose subtree_end is pending, by depth
  for (auto it = nodes[0].children.rbegin(); it != nodes[0].children.rend(); ++it) stack.push_back({it->second, 1});
  std::vector<uint8_t> byte_of(nodes.size());
  for (const auto& n : nodes)
    for (const auto& [b, c] : n.children) byte_of[size_t(c)] = b;
  while (!stack.empty()) {
    auto [n, d] = stack.back();
    stack.pop_back();
    while (open.size() >= d) {  // close the subtrees this node is not under
      gv->subtree_end_[size_t(open.back())] = int32_t(gv->byte_.size());
      open.pop_back();
    }
    open.push_back(int32_t(gv->byte_.size()));
    gv->byte_.push_back(byte_of[size_t(n)]);
    gv->depth_.push_back(d);
    gv->subtree_end_.push_back(0);
    gv->tok_begin_.push_back(int32_t(gv->tokens_.size()));
    for (int32_t t : nodes[size_t(n)].tokens) gv->tokens_.push_back(t);
    gv->max_depth_ = std::max(gv->max_depth_, d);
    const auto& ch = nodes[size_t(n)].children;
    for (auto it = ch.rbegin(); it != ch.rend(); ++it) stack.push_back({it->second, uint16_t(d + 1)});
  }
  for (int32_t i : open) gv->subtree_end_[size_t(i)] = int32_t(gv->byte_.size());
  gv->tok_begin_.push_back(int32_t(gv->tokens_.size()));
  return gv;
}

GrammarMatcher::GrammarMatcher(const Grammar& g, std::shared_ptr<const GrammarVocab> vocab)
    : cache_(g.cache_), vocab_(std::move(vocab)) {
  if (!cache_) throw Error("grammar matcher: the grammar is empty");
  if (!vocab_) throw Error("grammar matcher: no vocabulary");
  state_ = grammar::Cursor{cache_->initial(), 0, 0};
}

void GrammarMatcher::fill_mask(TokenBitset& allowed) {
  const GrammarVocab& v = *vocab_;
  if (allowed.size() != v.n_tokens_) allowed = TokenBitset(v.n_tokens_);
  std::lock_guard<std::mutex> lock(cache_->mutex());
  const grammar::Cursor key{cache_->saturate(state_.state, v.max_depth_), state_.partial, state_.remaining};
  if (const TokenBitset* m = cache_->cached_mask(key); m && m->size() == v.n_tokens_) {
    allowed = *m;
    return;
  }
  allowed.clear();
  std::vector<grammar::Cursor> at(size_t(v.max_depth_) + 1);
  at[0] = key;
  const size_t n = v.byte_.size();
  for (size_t i = 0; i < n;) {
    const uint16_t d = v.depth_[i];
    at[d] = at[d - 1];
    if (!cache_->step(at[d], v.byte_[i])) {
      i = size_t(v.subtree_end_[i]);
      continue;
    }
    for (int32_t k = v.tok_begin_[i]; k < v.tok_begin_[i + 1]; ++k) allowed.set(v.tokens_[size_t(k)]);
    ++i;
  }
  if (cache_->can_end(state_))
    for (int32_t t : v.eog_) allowed.set(t);
  cache_->store_mask(key, allowed);
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  std::lock_guard<std::mutex> lock(cache_->mutex());
  grammar::Cursor c = state_;
  for (unsigned char b : bytes)
    if (!cache_->step(c, b)) return false;
  state_ = c;
  return true;
}

bool GrammarMatcher::accept(int32_t token) {
  if (token < 0 || token >= vocab_->n_tokens_) return false;
  const std::string& p = vocab_->pieces_[size_t(token)];
  if (std::binary_search(vocab_->eog_.begin(), vocab_->eog_.end(), token)) return can_end();
  if (p.empty()) return false;
  return accept_bytes(p);
}

bool GrammarMatcher::can_end() const {
  std::lock_guard<std::mutex> lock(cache_->mutex());
  return cache_->can_end(state_);
}

bool GrammarMatcher::is_finished() const {
  std::lock_guard<std::mutex> lock(cache_->mutex());
  return cache_->only_end(state_);
}

int32_t GrammarMatcher::forced_token(const TokenBitset& allowed) const {
  const int32_t first = allowed.first();
  if (first < 0) return -1;
  const std::string& text = vocab_->pieces_[size_t(first)];
  int32_t chosen = first, n = 0;
  const auto& w = allowed.words();
  for (size_t i = 0; i < w.size(); ++i)
    for (uint64_t bits = w[i]; bits; bits &= bits - 1) {
      const int32_t t = int32_t(i * 64) + std::countr_zero(bits);
      if (++n > 4 || vocab_->pieces_[size_t(t)] != text) return -1;
      chosen = t;  // the highest id: SentencePiece's <0xXX> byte tokens come before the others
    }
  return chosen;
}

}  // namespace tandem
