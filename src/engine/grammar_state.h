// The matcher's states, interned. A parse is a set of stacks (one per live derivation, as in
// llama.cpp); each stack is a persistent linked list of frames (grammar position, parent frame),
// hash-consed so that equal stacks are one frame id. A state is the sorted set of top frames (each
// at a character class), whether the input may end here, and the part of a UTF-8 character read
// so far. States and their byte transitions are computed once and memoized, so after warm-up a
// step over a byte is one table lookup and a matcher's whole state is one int.
#pragma once
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

class StateCache {
 public:
  explicit StateCache(Rules rules);

  std::mutex& mutex() { return mu_; }
  const Rules& rules() const { return rules_; }
  int32_t initial() const { return initial_; }

  // The state after byte b, or kDead. Caller holds the mutex.
  int32_t next(int32_t s, uint8_t b) {
    const int32_t t = states_[size_t(s)].trans[b];
    return t != kUnknown ? t : compute_next(s, b);
  }
  bool can_end(int32_t s) const { return states_[size_t(s)].accept; }
  // Nothing but the end may follow.
  bool only_end(int32_t s) const { return states_[size_t(s)].accept && states_[size_t(s)].leaves.empty(); }
  bool mid_character(int32_t s) const { return states_[size_t(s)].remaining > 0; }

  // Masks computed before, by state (cleared wholesale past kMaskCacheBytes).
  const TokenBitset* cached_mask(int32_t s) const;
  void store_mask(int32_t s, const TokenBitset& m);

 private:
  struct State {
    std::vector<int32_t> leaves;  // frames whose position is a character class
    bool accept = false;
    uint32_t partial = 0;   // bits of the UTF-8 character read so far
    uint8_t remaining = 0;  // continuation bytes it still needs
    std::unique_ptr<int32_t[]> trans;  // 256 next states (kUnknown until computed)
  };

  int32_t frame(int32_t pos, int32_t parent);
  int32_t normalize(int32_t pos, int32_t parent);
  void expand(int32_t f, std::vector<int32_t>& leaves, bool& accept, std::vector<int32_t>& seen);
  int32_t intern(std::vector<int32_t> leaves, bool accept, uint32_t partial, uint8_t remaining);
  int32_t compute_next(int32_t s, uint8_t b);
  int32_t advance_code_point(int32_t s, uint32_t cp);

  Rules rules_;
  std::mutex mu_;
  std::vector<int32_t> frame_pos_, frame_parent_;
  std::unordered_map<uint64_t, int32_t> frame_ids_;
  std::vector<State> states_;
  std::unordered_map<std::string, int32_t> state_ids_;
  std::unordered_map<int32_t, TokenBitset> masks_;
  size_t mask_bytes_ = 0;
  int32_t initial_ = 0;
};

}  // namespace tandem::grammar
