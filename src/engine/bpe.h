// Byte-level BPE (GPT-2 style) as llama.cpp runs it: the text of a GGUF "gpt2" vocabulary spells
// every byte as a printable code point (GPT-2's bytes_to_unicode: 'Ġ' U+0120 is the space byte),
// and tokenizer.ggml.merges lists "left right" pairs, earliest first. A word (from
// engine/bpe_pretokenizer.h) starts as one symbol per byte; the adjacent pair with the earliest
// merge is joined (ties: leftmost) until no listed pair remains.
//
// We merge bytes rather than their printable spellings and look pairs up by token id: every
// merge's parts and result are tokens (checked when the vocabulary loads), so this is the same
// computation as llama.cpp's text-keyed one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// GPT-2's code point for byte b (below U+0144), and its UTF-8 spelling appended to `out`.
uint32_t gpt2_byte_codepoint(uint8_t b);
void gpt2_encode(std::string_view bytes, std::string& out);
// Token text -> bytes. Code points that do not stand for a byte are kept as they are (llama.cpp
// writes "[UNK_BYTE_0x...]" for them; no real vocabulary has such normal tokens).
std::string gpt2_decode(std::string_view text);

// Merge ranks keyed by the token ids of a pair: an open-addressing table, built once.
class BpeMerges {
 public:
  explicit BpeMerges(size_t n_merges = 0);
  // Records that left + right -> result at `rank`; a pair seen before keeps its earlier rank, as
  // in llama.cpp. Returns false for such a repeat.
  bool insert(int32_t left, int32_t right, int32_t result, int32_t rank);
  // The rank of the pair, or -1.
  int32_t rank(int32_t left, int32_t right) const;
  int32_t result(int32_t rank) const { return results_[size_t(rank)]; }
  size_t size() const { return n_; }

 private:
  static uint64_t key(int32_t l, int32_t r) { return (uint64_t(uint32_t(l)) << 32) | uint32_t(r); }
  size_t slot(uint64_t k) const { return size_t((k * 0x9E3779B97F4A7C15ull) >> shift_); }
  std::vector<uint64_t> keys_;   // kEmpty where free
  std::vector<int32_t> ranks_;   // per slot
  std::vector<int32_t> results_; // per rank (-1 for repeats)
  uint64_t mask_ = 0;
  int shift_ = 64;
  size_t n_ = 0;
};

// Merges words; holds the working buffers so that a tokenize call allocates them once.
class BpeWordMerger {
 public:
  // Appends the tokens of `word` (raw bytes, non-empty) to `out`. byte_tokens[b] is the token of
  // the one-byte symbol b, or -1; such a byte cannot merge and is appended as -1 - b, for the
  // caller to resolve.
  void merge(std::string_view word, const int32_t* byte_tokens, const BpeMerges& merges, std::vector<int32_t>& out);

  struct Pair {
    int32_t rank, left, right;
    uint32_t n;  // bytes of left + right when queued (a later size means the entry is stale)
  };

 private:
  struct Sym {
    int32_t prev, next, id;
    uint32_t n;  // bytes; 0 once merged into its left neighbour
  };
  void push(int32_t left, int32_t right, const BpeMerges& merges, bool heapify);
  std::vector<Sym> syms_;
  std::vector<Pair> heap_;
};

}  // namespace tandem
