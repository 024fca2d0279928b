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

void FlatMap::insert(uint64_t key, int32_t value) {
  if (2 * (size_ + 1) > keys_.size()) {  // grow to keep the load under one half
    std::vector<uint64_t> old_keys = std::move(keys_);
    std::vector<int32_t> old_values = std::move(values_);
    const size_t cap = std::max<size_t>(1024, old_keys.size() * 2);
    keys_.assign(cap, kEmpty);
    values_.assign(cap, 0);
    mask_ = cap - 1;
    size_ = 0;
    for (size_t i = 0; i < old_keys.size(); ++i)
      if (old_keys[i] != kEmpty) insert(old_keys[i], old_values[i]);
  }
  size_t i = mix(key) & mask_;
  while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask_;
  if (keys_[i] == kEmpty) ++size_;
  keys_[i] = key;
  values_[i] = value;
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

// The next state depends only on which stack tops' classes hold cp: the transition is
// memoized by that set, so the thousands of code points a vocabulary has that behave alike
// (every CJK character inside a JSON string) cost one expansion.
int32_t StateCache::advance_code_point(int32_t s, uint32_t cp) {
  const size_t n = states_[size_t(s)].leaves.size();
  if (n <= 64) {  // the common case: the set fits one word, looked up without allocating
    uint64_t sig = 0;
    for (size_t i = 0; i < n; ++i) {
      const int32_t pos = frame_pos_[size_t(states_[size_t(s)].leaves[i])];
      if (rules_.classes[size_t(rules_.elements[size_t(pos)].value)].contains(cp)) sig |= uint64_t(1) << i;
    }
    if (sig == 0) return kDead;
    for (const auto& [known, t] : states_[size_t(s)].by_classes)
      if (known == sig) return t;
    const int32_t t = expand_matched(s, [sig](size_t i) { return (sig >> i) & 1; });
    states_[size_t(s)].by_classes.push_back({sig, t});
    return t;
  }
  std::vector<uint64_t> sig((n + 63) / 64 + 1, 0);
  sig.back() = uint64_t(uint32_t(s));
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    const int32_t pos = frame_pos_[size_t(states_[size_t(s)].leaves[i])];
    if (rules_.classes[size_t(rules_.elements[size_t(pos)].value)].contains(cp)) {
      sig[i / 64] |= uint64_t(1) << (i % 64);
      any = true;
    }
  }
  if (!any) return kDead;
  const std::string key(reinterpret_cast<const char*>(sig.data()), sig.size() * sizeof(uint64_t));
  if (auto it = by_classes_.find(key); it != by_classes_.end()) return it->second;
  const int32_t t = expand_matched(s, [&sig](size_t i) { return (sig[i / 64] >> (i % 64)) & 1; });
  by_classes_.emplace(key, t);
  return t;
}

// The state after the stack tops of s that `matched` selects read their character.
template <class Matched>
int32_t StateCache::expand_matched(int32_t s, Matched matched) {
  const std::vector<int32_t> from = states_[size_t(s)].leaves;  // copy: interning may move states_
  std::vector<int32_t> leaves, seen;
  bool accept = false;
  for (size_t i = 0; i < from.size(); ++i) {
    if (!matched(i)) continue;
    const int32_t pos = frame_pos_[size_t(from[i])];
    expand(normalize(pos + 1, frame_parent_[size_t(from[i])]), leaves, accept, seen);
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
      const int32_t* known = wide_next_.find(key);
      const int32_t t = known ? *known : advance_code_point(c.state, n.partial);
      if (!known) wide_next_.insert(key, t);
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
  if (const int32_t* known = viable_.find(key)) return *known != 0;
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};  // the smallest character of each length
  const uint32_t lo = std::max(c.partial << (6 * c.remaining), kMin[c.remaining]);
  const uint32_t hi = std::min((c.partial << (6 * c.remaining)) | ((uint32_t(1) << (6 * c.remaining)) - 1), kMaxCodePoint);
  bool ok = false;
  if (lo <= hi)
    for (int32_t f : states_[size_t(c.state)].leaves)
      ok = ok || rules_.classes[size_t(rules_.elements[size_t(frame_pos_[size_t(f)])].value)].intersects(lo, hi);
  viable_.insert(key, ok);
  return ok;
}

static uint64_t cursor_key(const Cursor& c) {
  return (uint64_t(uint32_t(c.state)) << 24) | (uint64_t(c.remaining) << 21) | c.partial;
}

int32_t StateCache::saturate_frame(int32_t f, int32_t max_len) {
  if (f < 0) return f;
  const uint64_t key = (uint64_t(1) << 62) | (uint64_t(uint32_t(f)) << 16) | uint32_t(max_len);
  if (const int32_t* known = saturated_.find(key)) return *known;
  const int32_t parent = saturate_frame(frame_parent_[size_t(f)], max_len);
  int32_t pos = frame_pos_[size_t(f)];
  const int32_t rule = rules_.rule_of[size_t(pos)];
  const ChainLink link = rules_.links[size_t(rule)];
  if (link.chain >= 0 && link.k > max_len + 1) {  // the same offset in o_(max_len + 1)
    const int32_t to = rules_.chains[size_t(link.chain)][size_t(max_len)];
    pos = rules_.alts[size_t(to)][0] + (pos - rules_.alts[size_t(rule)][0]);
  }
  const int32_t out = frame(pos, parent);
  saturated_.insert(key, out);
  return out;
}

int32_t StateCache::saturate(int32_t s, int32_t max_len) {
  if (rules_.chains.empty()) return s;
  const uint64_t key = (uint64_t(uint32_t(s)) << 16) | uint32_t(max_len);
  if (const int32_t* known = saturated_.find(key)) return *known;
  std::vector<int32_t> leaves;
  for (int32_t f : states_[size_t(s)].leaves) leaves.push_back(saturate_frame(f, max_len));
  std::sort(leaves.begin(), leaves.end());
  leaves.erase(std::unique(leaves.begin(), leaves.end()), leaves.end());
  const int32_t out = intern(std::move(leaves), states_[size_t(s)].accept);
  saturated_.insert(key, out);
  return out;
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
