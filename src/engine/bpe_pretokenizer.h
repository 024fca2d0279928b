// Pre-tokenizers of byte-level BPE vocabularies (tokenizer.ggml.model == "gpt2"): the text is
// first cut into words by the regular expressions that llama.cpp uses for the file's
// tokenizer.ggml.pre, then BPE merges apply within each word (engine/bpe.h).
//
// The expressions run on PCRE2 in UTF + UCP mode (compiled once, JIT when available). Where
// llama.cpp's own splitter differs from the plain expression we follow llama.cpp:
//  - \s is the Unicode White_Space set (llama.cpp's whitespace table), written out as a class:
//    PCRE2 10.42's UCP \s also matches U+180E, which llama.cpp does not treat as a space.
//  - The text is read as code points the way llama.cpp reads it (prepare_bpe_text below), so
//    invalid UTF-8 becomes U+FFFD before splitting, as in llama.cpp.
// Letters/numbers (\p{L}, \p{N}) come from PCRE2's Unicode tables (Unicode 14 in Debian 12's
// PCRE2 10.42); llama.cpp's tables may be a newer Unicode version, so a character assigned
// after Unicode 14 may split differently.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

// The splitting rules (llama.cpp's LLAMA_VOCAB_PRE_TYPE_* that we support).
enum class BpePreKind : uint8_t {
  Default,    // missing or "default" tokenizer.ggml.pre: llama.cpp's fallback list of 4 expressions
  Gpt2,       // GPT-2: 's|'t|...| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,     // Llama 3: case-insensitive contractions, \p{N}{1,3}, newline runs kept together
  Qwen2,      // Qwen2: as Llama 3 but single digits
  Starcoder,  // StarCoder / SmolLM / Command-R: single digits first, then GPT-2
};

struct BpePreInfo {
  BpePreKind kind;
  bool ignore_merges;   // a word that is itself a token is taken whole, merges skipped (Llama 3)
  bool add_bos;         // llama.cpp's default for tokenizer.ggml.add_bos_token
};

// The rules for a tokenizer.ggml.pre value ("" when the key is missing); nullopt when unknown.
std::optional<BpePreInfo> bpe_pre_info(std::string_view pre);
// The supported tokenizer.ggml.pre values, comma-separated, for error messages.
std::string bpe_supported_pres();

// A byte range [off, off + len) of the text that was split.
struct TextSpan {
  size_t off, len;
};

class BpePreTokenizer {
 public:
  explicit BpePreTokenizer(BpePreKind kind);  // throws Error if PCRE2 rejects an expression
  BpePreKind kind() const { return kind_; }

  // Splits `text` (valid UTF-8, see prepare_bpe_text) into words, appending their spans to `out`
  // (cleared first). Every byte of the text belongs to exactly one word; empty text: no words.
  // `scratch` is reused between calls. Thread-safe (the compiled expressions are immutable).
  void split(std::string_view text, std::vector<TextSpan>& out, std::vector<TextSpan>& scratch) const;

 private:
  struct Compiled;
  BpePreKind kind_;
  std::shared_ptr<const Compiled> re_;  // shared by copies of a Vocab
};

// Reads `text` as code points the way llama.cpp does for BPE (unicode_cpts_from_utf8) and
// returns the bytes that tokenization works on:
//  - valid UTF-8: `text` itself (nothing is copied; returns false);
//  - otherwise (returns true) `norm` receives the text re-encoded: every byte that does not start
//    a well-formed sequence becomes U+FFFD (EF BF BD), overlong forms are re-encoded shortest,
//    and code points above U+10FFFF (where llama.cpp throws) become U+FFFD. Surrogates
//    (ED A0..BF xx) are kept, as llama.cpp keeps them; since PCRE2 cannot read them, `shadow`
//    receives the same bytes with each surrogate replaced by U+E000 (also 3 bytes, and like a
//    surrogate neither space, letter nor number), for the splitter to read instead.
bool prepare_bpe_text(std::string_view text, std::string& norm, std::string& shadow);

}  // namespace tandem
