#include "engine/grammar_state.h"

#include <algorithm>
#include <cstring>

#include "format/error.h"

namespace tandem::grammar {

bool CharClass::contains(uint32_t cp) const {
  if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](uint32_t v, const std::pair<uint32_t, uint32_t>& r) { return v < r.first; });
  return it != ranges.begin() && cp <= std::prev(it)->second;
}

bool CharClass::intersects(uint32_t lo, uint32_t hi) const {
  for (const auto& r : ranges)
    if (r.first <= hi && lo <= r.second) return true;
  return false;
}

void CharClass::finish() {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1)
      merged.back().second = std::max(merged.back().second, r.second);
    else
      merged.push_back(r);
  }
  ranges = std::move(merged);
  ascii = {0, 0};
  for (const auto& r : ranges)
    for (uint32_t c = r.first; c <= r.second && c < 128; ++c) ascii[c >> 6] |= uint64_t(1) << (c & 63);
}

StateCache::StateCache(Rules rules) : rules_(std::move(rules)) {
  std::vector<int32_t> leaves, seen;
  bool accept = false;
  for (int32_t a : rules_.alts[size_t(rules_.root)]) expand(normalize(a, -1), leaves, accept, seen);
  std::sort(leaves.begin(), leaves.end());
  leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
  initial_ = intern(std::move(leaves), accept);
}

int32_t StateCache::frame(int32_t pos, int32_t parent) {
  const uint64_t key = (uint64_t(uint32_t(pos)) << 32) | uint32_t(parent + 1);
  auto [it, inserted] = frame_ids_.try_emplace(key, int32_t(frame_pos_.size()));
  if (inserted) {
    if (frame_pos_.size() >= kMaxFrames)
      throw Error("the grammar needs more than " + std::to_string(kMaxFrames) + " parser frames (nesting too deep)");
    frame_pos_.push_back(pos);
    frame_parent_.push_back(parent);
  }
  return it->second;
}

// A position at the end of an alternative is its parent's continuation (-1: the root is done),
// so that right recursion (x* is r ::= x r | "") does not grow the stack.
int32_t StateCache::normalize(int32_t pos, int32_t parent) {
  if (rules_.elements[size_t(pos)].kind == Element::End) return parent;
  return frame(pos, parent);
}

// Adds to leaves every top frame reachable from frame f without reading input.
void StateCache::expand(int32_t f, std::vector<int32_t>& leaves, bool& accept, std::vector<int32_t>& seen) {
  if (f < 0) {
    accept = true;
    return;
  }
  if (std::find(seen.begin(), seen.end(), f) != seen.end()) return;  // a nullable loop: nothing new
  seen.push_back(f);
  const int32_t pos = frame_pos_[size_t(f)];
  const Element e = rules_.elements[size_t(pos)];
  if (e.kind == Element::Class) {
    leaves.push_back(f);
    return;
  }
  const int32_t cont = normalize(pos + 1, frame_parent_[size_t(f)]);
  for (int32_t a : rules_.alts[size_t(e.value)]) expand(normalize(a, cont), leaves, accept, seen);
}

int32_t StateCache::intern(std::vector<int32_t> leaves, bool accept) {
  if (leaves.empty() && !accept) return kDead;
  std::string key(leaves.size() * sizeof(int32_t) + 1, '\0');
  if (!leaves.empty()) std::memcpy(key.data(), leaves.data(), leaves.size() * sizeof(int32_t));
  key.back() = char(accept);
  auto [it, inserted] = state_ids_.try_emplace(std::move(key), int32_t(states_.size()));
  if (!inserted) return it->second;
  if (states_.size() >= kMaxStates) {
    state_ids_.erase(it);
    throw Error("the grammar needs more than " + std::to_string(kMaxStates) + " matcher states (too ambiguous)");
  }
  State st;
  st.leaves = std::move(leaves);
  st.accept = accept;
  st.ascii.fill(kUnknown);
  states_.push_back(std::move(st));
  return it->second;
}

int32_t StateCache::advance_code_point(int32_t s, uint32_t cp) {
  const std::vector<int32_t> from = states_[size_t(s)].leaves;  // copy: interning may move states_
  std::vector<int32_t> leaves, seen;
  bool accept = false;
  for (int32_t f : from) {
    const int32_t pos = frame_pos_[size_t(f)];
    if (!rules_.classes[size_t(rules_.elements[size_t(pos)].value)].contains(cp)) continue;
    expand(normalize(pos + 1, frame_parent_[size_t(f)]), leaves, accept, seen);
  }
  std::sort(leaves.begin(), leaves.end());
  leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
  return intern(std::move(leaves), accept);
}

// The second byte of a sequence decides what the lead byte could not: E0 and F0 need a large
// enough value (else the character fits a shorter sequence), F4 a small one (<= U+10FFFF), ED
// one below the UTF-16 surrogates. Only these leads leave partial and remaining as checked.
static bool overlong_or_surrogate(uint32_t partial, uint8_t remaining, uint8_t b) {
  if (remaining == 2 && partial == 0x0) return b < 0xA0;   // E0
  if (remaining == 2 && partial == 0xD) return b >= 0xA0;  // ED
  if (remaining == 3 && partial == 0x0) return b < 0x90;   // F0
  if (remaining == 3 && partial == 0x4) return b >= 0x90;  // F4
  return false;
}

// A lead byte or a continuation byte: the character completes (one memoized transition), or
// the cursor keeps its bytes while some stack's class has a character that starts with them.
bool StateCache::step_multibyte(Cursor& c, uint8_t b) {
  Cursor n = c;
  if (c.remaining == 0) {
    if (b >= 0xC2 && b <= 0xDF) {  // 0xC0, 0xC1: overlong
      n.partial = b & 0x1F, n.remaining = 1;
    } else if ((b & 0xF0) == 0xE0) {
      n.partial = b & 0x0F, n.remaining = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {  // beyond 0xF4: above U+10FFFF
      n.partial = b & 0x07, n.remaining = 3;
    } else {
      return false;
    }
  } else {
    if ((b & 0xC0) != 0x80 || overlong_or_surrogate(c.partial, c.remaining, b)) return false;
    n.partial = (c.partial << 6) | (b & 0x3F);
    if (--n.remaining == 0) {
      const uint64_t key = (uint64_t(uint32_t(c.state)) << 21) | n.partial;
      auto it = wide_next_.find(key);
      const int32_t t = it != wide_next_.end() ? it->second : advance_code_point(c.state, n.partial);
      if (it == wide_next_.end()) wide_next_.emplace(key, t);
      if (t == kDead) return false;
      c = Cursor{t, 0, 0};
      return true;
    }
  }
  if (!may_complete(n)) return false;
  c = n;
  return true;
}

bool StateCache::may_complete(const Cursor& c) {
  const uint64_t key = (uint64_t(uint32_t(c.state)) << 24) | (uint64_t(c.remaining) << 21) | c.partial;
  if (auto it = viable_.find(key); it != viable_.end()) return it->second;
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};  // the smallest character of each length
  const uint32_t lo = std::max(c.partial << (6 * c.remaining), kMin[c.remaining]);
  const uint32_t hi = std::min((c.partial << (6 * c.remaining)) | ((uint32_t(1) << (6 * c.remaining)) - 1), kMaxCodePoint);
  bool ok = false;
  if (lo <= hi)
    for (int32_t f : states_[size_t(c.state)].leaves)
      ok = ok || rules_.classes[size_t(rules_.elements[size_t(frame_pos_[size_t(f)])].value)].intersects(lo, hi);
  viable_.emplace(key, ok);
  return ok;
}

static uint64_t cursor_key(const Cursor& c) {
  return (uint64_t(uint32_t(c.state)) << 24) | (uint64_t(c.remaining) << 21) | c.partial;
}

const TokenBitset* StateCache::cached_mask(const Cursor& c) const {
  auto it = masks_.find(cursor_key(c));
  return it == masks_.end() ? nullptr : &it->second;
}

void StateCache::store_mask(const Cursor& c, const TokenBitset& m) {
  const size_t bytes = m.words().size() * sizeof(uint64_t) + 64;
  if (mask_bytes_ + bytes > kMaskCacheBytes) {
    masks_.clear();
    mask_bytes_ = 0;
  }
  masks_[cursor_key(c)] = m;
  mask_bytes_ += bytes;
}

}  // namespace tandem::grammar
