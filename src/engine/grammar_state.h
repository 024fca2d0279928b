// The matcher's states, interned. A parse is a set of stacks (one per live derivation, as in
// llama.cpp); each stack is a persistent linked list of frames (grammar position, parent frame),
// hash-consed so that equal stacks are one frame id. A state is the sorted set of top frames (each
// at a character class) and whether the input may end there. States and their transitions over
// code points are computed once and memoized (ASCII in a table, the rest in a hash map), so after
// warm-up a step over an ASCII byte is one table lookup. A Cursor adds the bytes of a UTF-8
// character read so far; they are not interned, so that the many multi-byte prefixes of a large
// vocabulary do not multiply the states.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/grammar.h"
#include "engine/grammar_rules.h"

namespace tandem::grammar {

// Limits that keep a pathological grammar from exhausting memory (docs/structured-outputs.md).
constexpr size_t kMaxStates = 200000;
constexpr size_t kMaxFrames = 4000000;
constexpr size_t kMaskCacheBytes = size_t(64) << 20;

constexpr int32_t kDead = -1;
constexpr int32_t kUnknown = -2;

using Cursor = GrammarCursor;

// uint64 -> int32 with open addressing: the transition memos are looked up once per trie node of
// a mask walk, so they must not chase pointers or allocate per entry.
class FlatMap {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  const int32_t* find(uint64_t key) const {
    if (keys_.empty()) return nullptr;
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }
  void insert(uint64_t key, int32_t value);

 private:
  static size_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    return size_t(k ^ (k >> 29));
  }
  std::vector<uint64_t> keys_;
  std::vector<int32_t> values_;
  size_t mask_ = 0, size_ = 0;
};

class StateCache {
 public:
  explicit StateCache(Rules rules);

  std::mutex& mutex() { return mu_; }
  const Rules& rules() const { return rules_; }
  int32_t initial() const { return initial_; }

  // Advances c over byte b; false (c unchanged) when the grammar rejects it. Caller holds the mutex.
  bool step(Cursor& c, uint8_t b) {
    if (c.remaining == 0 && b < 0x80) {
      int32_t t = states_[size_t(c.state)].ascii[b];
      if (t == kUnknown) t = states_[size_t(c.state)].ascii[b] = advance_code_point(c.state, b);
      if (t == kDead) return false;
      c.state = t;
      return true;
    }
    return step_multibyte(c, b);
  }
  bool can_end(const Cursor& c) const { return c.remaining == 0 && states_[size_t(c.state)].accept; }
  // Nothing but the end may follow.
  bool only_end(const Cursor& c) const {
    return can_end(c) && states_[size_t(c.state)].leaves.empty();
  }

  // A state that every token of at most max_len bytes moves through exactly as through s: each
  // chain rule o_k with k > max_len in its stacks becomes o_(max_len + 1). States that differ
  // only in such counts (a string with 500 or 400 characters left) share one mask.
  int32_t saturate(int32_t s, int32_t max_len);

  // Masks computed before, by state (cleared wholesale past kMaskCacheBytes).
  const TokenBitset* cached_mask(const Cursor& c) const;
  void store_mask(const Cursor& c, const TokenBitset& m);

 private:
  struct State {
    std::vector<int32_t> leaves;  // frames whose position is a character class
    bool accept = false;
    std::array<int32_t, 128> ascii;  // next state per ASCII code point (kUnknown until computed)
    std::vector<std::pair<uint64_t, int32_t>> by_classes;  // (stack tops matched, up to 64) -> next
  };

  int32_t frame(int32_t pos, int32_t parent);
  int32_t saturate_frame(int32_t f, int32_t max_len);
  int32_t normalize(int32_t pos, int32_t parent);
  void expand(int32_t f, std::vector<int32_t>& leaves, bool& accept, std::vector<int32_t>& seen);
  int32_t intern(std::vector<int32_t> leaves, bool accept);
  bool step_multibyte(Cursor& c, uint8_t b);
  bool may_complete(const Cursor& c);
  int32_t advance_code_point(int32_t s, uint32_t cp);
  template <class Matched>
  int32_t expand_matched(int32_t s, Matched matched);

  Rules rules_;
  std::mutex mu_;
  std::vector<int32_t> frame_pos_, frame_parent_;
  std::unordered_map<uint64_t, int32_t> frame_ids_;
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;
  FlatMap wide_next_;  // (state, code point >= 128) -> state
  std::unordered_map<std::string, int32_t> by_classes_;  // (state, stack tops matched, > 64) -> state
  FlatMap viable_;     // (state, partial character) -> whether it may complete
  FlatMap saturated_;  // (state or frame, max_len) -> saturated state or frame
  std::unordered_map<uint64_t, TokenBitset> masks_;
  size_t mask_bytes_ = 0;
  int32_t initial_ = 0;
};

}  // namespace tandem::grammar
