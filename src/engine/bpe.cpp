#include "engine/bpe.h"

#include <algorithm>
#include <array>
#include <limits>

#include "format/error.h"

namespace tandem {

namespace {

constexpr uint64_t kEmpty = ~uint64_t(0);

// bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 take the code
// points from U+0100 on, in byte order.
struct Gpt2Tables {
  std::array<uint16_t, 256> byte_cp{};
  std::array<int16_t, 512> cp_byte{};  // -1: not a byte's code point
  std::array<char, 512> utf8{};        // byte b's UTF-8 spelling at [2b, 2b+2), length in len
  std::array<uint8_t, 256> len{};
  Gpt2Tables() {
    cp_byte.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool direct = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      uint16_t cp = direct ? uint16_t(b) : uint16_t(256 + n++);
      byte_cp[size_t(b)] = cp;
      cp_byte[cp] = int16_t(b);
      if (cp < 0x80) {
        utf8[size_t(2 * b)] = char(cp);
        len[size_t(b)] = 1;
      } else {
        utf8[size_t(2 * b)] = char(0xC0 | (cp >> 6));
        utf8[size_t(2 * b + 1)] = char(0x80 | (cp & 0x3F));
        len[size_t(b)] = 2;
      }
    }
  }
};

const Gpt2Tables& gpt2_tables() {
  static const Gpt2Tables t;
  return t;
}

// Decodes one well-formed UTF-8 code point at s[i] (advancing i); -1 if malformed (i advances by
// one byte).
int32_t next_codepoint(std::string_view s, size_t& i) {
  uint8_t c = uint8_t(s[i]);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return -1;
  }
  int32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    uint8_t d = uint8_t(s[i + k]);
    if ((d & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += len;
  return cp;
}

}  // namespace

uint32_t gpt2_byte_codepoint(uint8_t b) { return gpt2_tables().byte_cp[b]; }

void gpt2_encode(std::string_view bytes, std::string& out) {
  const Gpt2Tables& t = gpt2_tables();
  for (char c : bytes) {
    const auto b = size_t(uint8_t(c));
    out.append(&t.utf8[2 * b], t.len[b]);
  }
}

std::string gpt2_decode(std::string_view text) {
  const Gpt2Tables& t = gpt2_tables();
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    int32_t cp = next_codepoint(text, i);
    if (cp >= 0 && cp < int32_t(t.cp_byte.size()) && t.cp_byte[size_t(cp)] >= 0) out += char(t.cp_byte[size_t(cp)]);
    else out.append(text.substr(start, i - start));  // not a byte's code point: keep as is
  }
  return out;
}

BpeMerges::BpeMerges(size_t n_merges) {
  size_t cap = 16;
  int bits = 4;
  while (cap < n_merges + n_merges / 2) {  // load factor at most 2/3
    cap *= 2;
    ++bits;
  }
  keys_.assign(cap, kEmpty);
  ranks_.assign(cap, -1);
  results_.reserve(n_merges);
  mask_ = cap - 1;
  shift_ = 64 - bits;
}

bool BpeMerges::insert(int32_t left, int32_t right, int32_t result, int32_t rank) {
  if (rank != int32_t(results_.size())) throw Error("BPE merges must be inserted in rank order");
  if ((n_ + 1) * 3 > keys_.size() * 2) throw Error("BPE merge table is full");
  const uint64_t k = key(left, right);
  size_t j = slot(k);
  while (keys_[j] != kEmpty) {
    if (keys_[j] == k) {
      results_.push_back(-1);
      return false;
    }
    j = (j + 1) & mask_;
  }
  keys_[j] = k;
  ranks_[j] = rank;
  results_.push_back(result);
  ++n_;
  return true;
}

int32_t BpeMerges::rank(int32_t left, int32_t right) const {
  const uint64_t k = key(left, right);
  size_t j = slot(k);
  while (true) {
    const uint64_t s = keys_[j];
    if (s == k) return ranks_[j];
    if (s == kEmpty) return -1;
    j = (j + 1) & mask_;
  }
}

namespace {
// Heap order: the pair to merge next (earliest rank, then leftmost, as llama.cpp) on top.
bool merges_later(const BpeWordMerger::Pair& a, const BpeWordMerger::Pair& b) {
  return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
}
}  // namespace

void BpeWordMerger::push(int32_t left, int32_t right, const BpeMerges& merges, bool heapify) {
  if (left < 0 || right < 0) return;
  const Sym& l = syms_[size_t(left)];
  const Sym& r = syms_[size_t(right)];
  if (l.id < 0 || r.id < 0) return;
  const int32_t rank = merges.rank(l.id, r.id);
  if (rank < 0) return;
  heap_.push_back({rank, left, right, l.n + r.n});
  if (heapify) std::push_heap(heap_.begin(), heap_.end(), merges_later);
}

void BpeWordMerger::merge(std::string_view word, const int32_t* byte_tokens, const BpeMerges& merges,
                          std::vector<int32_t>& out) {
  if (word.size() >= size_t(std::numeric_limits<int32_t>::max()))
    throw Error("a pre-tokenized word of " + std::to_string(word.size()) + " bytes is too long for BPE");
  if (word.size() == 1) {  // the common one-byte word: nothing to merge
    const uint8_t b = uint8_t(word[0]);
    out.push_back(byte_tokens[b] >= 0 ? byte_tokens[b] : -1 - int32_t(b));
    return;
  }
  const int32_t n = int32_t(word.size());
  syms_.resize(size_t(n));
  for (int32_t i = 0; i < n; ++i) syms_[size_t(i)] = {i - 1, i + 1 < n ? i + 1 : -1, byte_tokens[uint8_t(word[size_t(i)])], 1};
  heap_.clear();
  for (int32_t i = 1; i < n; ++i) push(i - 1, i, merges, false);
  std::make_heap(heap_.begin(), heap_.end(), merges_later);  // O(n), for long words

  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), merges_later);
    const Pair p = heap_.back();
    heap_.pop_back();
    Sym& l = syms_[size_t(p.left)];
    Sym& r = syms_[size_t(p.right)];
    // Stale: a side was merged away, or grew (symbols only grow, from fixed starts, so an
    // unchanged total size means both sides are unchanged and still adjacent).
    if (l.n == 0 || r.n == 0 || l.n + r.n != p.n) continue;
    l.n += r.n;
    l.id = merges.result(p.rank);
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms_[size_t(r.next)].prev = p.left;
    push(l.prev, p.left, merges, true);
    push(p.left, l.next, merges, true);
  }

  for (int32_t i = 0; i != -1; i = syms_[size_t(i)].next) {
    const Sym& s = syms_[size_t(i)];
    // A symbol without a token is a single byte (every merge result is a token).
    out.push_back(s.id >= 0 ? s.id : -1 - int32_t(uint8_t(word[size_t(i)])));
  }
}

}  // namespace tandem
