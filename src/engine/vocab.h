// The tokenizer vocabulary of a GGUF model, and tokenization that reproduces llama.cpp's
// `llama_tokenize` / `llama_token_to_piece` for two tokenizer models:
//  - SentencePiece-style (SPM), tokenizer.ggml.model == "llama" (Llama 1/2, Mistral v0.1,
//    TinyLlama, Phi-3, the llama2.c "stories" models, ...);
//  - byte-level BPE, tokenizer.ggml.model == "gpt2" (GPT-2, Llama 3, Qwen2, SmolLM, ...), with
//    the pre-tokenizer named by tokenizer.ggml.pre (engine/bpe_pretokenizer.h) and the merges of
//    tokenizer.ggml.merges (engine/bpe.h).
//
// Everything read from the file is validated when the Vocab is built (array lengths and types,
// special token ids, token types, byte-token texts, merges); a bad file raises tandem::Error.
//
// Behaviour worth knowing (all of it as llama.cpp does it):
//  - tokenize(text, add_special): if the model asks for it (add_bos()), BOS first; user-defined
//    tokens (token type 4) found verbatim in the text become their own token (control tokens
//    only with parse_special); the text between them is tokenized piece by piece.
//  - SPM: each piece gets a leading space when add_space_prefix() and it starts the text or
//    follows a special token; spaces become U+2581 '▁'; then SPM merges. The empty text gives no
//    tokens (just BOS).
//  - SPM splits into characters by the UTF-8 lead byte only (0x00-0xBF: 1 byte, 0xC0-0xDF: 2,
//    0xE0-0xEF: 3, 0xF0-0xFF: 4, cut at the end of the text); a character that is not a token
//    is emitted as byte tokens <0xXX> (or the one-character token, or unk), so any byte string
//    round-trips through detokenize.
//  - BPE: no space prefix; the pre-tokenizer splits each piece into words, each word is merged
//    by rank (Llama 3: a word that is itself a token is taken whole). Invalid UTF-8 is read as
//    U+FFFD, so unlike SPM only valid UTF-8 round-trips.
//  - token_to_piece: SPM '▁' becomes ' ', byte tokens their byte; BPE texts are mapped back to
//    bytes; control / unknown / unused tokens "", user-defined tokens their text unchanged.
//  - A literal U+2581 in SPM input text is indistinguishable from a space after tokenizing, so
//    it comes back as ' '.
//  - detokenize concatenates pieces. llama_detokenize additionally "cleans" spaces for most BPE
//    vocabularies (drops the space in " ?", " ,", " 's", ...); we do not, so that detokenize
//    inverts tokenize.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

class GgufFile;

// tokenizer.ggml.token_type values 1..6 (0 and missing entries: see attr()).
enum class TokenAttr : uint8_t { Normal, Unknown, Control, UserDefined, Unused, Byte, Undefined };
const char* token_attr_name(TokenAttr a);

class Vocab {
 public:
  enum class Model : uint8_t { Spm, Gpt2Bpe, Other };

  // tokenizer.ggml.model "llama" (SPM) or "gpt2" (byte-level BPE with a known
  // tokenizer.ggml.pre). Any other tokenizer model, or a BPE vocabulary whose merges are missing
  // or bad or whose pre-tokenizer is unknown, throws Error naming the problem; use
  // from_gguf_ids_only for those.
  static Vocab from_gguf(const GgufFile& f);
  // Loads and validates the vocabulary of any tokenizer model so that a model can run on token
  // ids (benchmarks, perplexity on pre-tokenized data). token_to_piece/detokenize work (byte-level
  // BPE texts are decoded to bytes); tokenize() works when from_gguf would have succeeded and
  // otherwise throws Error with the reason.
  static Vocab from_gguf_ids_only(const GgufFile& f);

  int32_t n_tokens() const { return int32_t(texts_.size()); }
  int32_t bos() const { return bos_; }  // -1 when absent
  int32_t eos() const { return eos_; }
  int32_t unk() const { return unk_; }
  int32_t eot() const { return eot_; }
  int32_t pad() const { return pad_; }
  bool add_bos() const { return add_bos_; }                    // tokenizer.ggml.add_bos_token
  bool add_eos() const { return add_eos_; }                    // tokenizer.ggml.add_eos_token
  bool add_space_prefix() const { return add_space_prefix_; }  // tokenizer.ggml.add_space_prefix
  Model model() const { return model_; }
  const std::string& model_name() const { return model_name_; }  // tokenizer.ggml.model
  const std::string& pre_name() const { return pre_name_; }      // tokenizer.ggml.pre ("" if none)
  bool can_tokenize() const { return model_ == Model::Spm || bpe_ != nullptr; }
  size_t n_merges() const;  // BPE merge ranks (0 for SPM)

  // As llama_tokenize(text, add_special = add_bos, parse_special = false): add_bos adds BOS when
  // add_bos() (and EOS when add_eos()).
  std::vector<int32_t> tokenize(std::string_view text, bool add_bos) const;
  // parse_special: control and unknown token texts in `text` also become their tokens.
  std::vector<int32_t> tokenize(std::string_view text, bool add_bos, bool parse_special) const;

  // As llama_token_to_piece(id, lstrip = 0, special = false). Throws Error for an invalid id.
  std::string token_to_piece(int32_t id) const { return std::string(piece(id)); }
  std::string_view piece(int32_t id) const;  // same, without allocating
  // Concatenated pieces.
  std::string detokenize(std::span<const int32_t> ids) const;
  // As llama_detokenize(remove_special = false, unparse_special = false): like detokenize, but
  // when add_space_prefix() one leading space of the first token's piece is dropped, so that
  // detokenize(tokenize(s, false), true) == s.
  std::string detokenize(std::span<const int32_t> ids, bool strip_space_prefix) const;

  bool is_eog(int32_t id) const;  // end of generation: eos, eot, eom and known end-of-turn texts
  std::span<const int32_t> eog_ids() const { return eog_; }

  bool valid(int32_t id) const { return id >= 0 && id < n_tokens(); }
  std::string_view token_text(int32_t id) const;
  float score(int32_t id) const;
  TokenAttr attr(int32_t id) const;
  // The token for a text exactly as stored in the vocabulary, or -1.
  int32_t find_token(std::string_view text) const;
  // The token that byte fallback uses for byte b (<0xXX>, else the one-byte token), or -1.
  int32_t byte_token(uint8_t b) const { return byte_token_[b]; }

 private:
  static Vocab load(const GgufFile& f, bool ids_only);
  // load()'s steps, in order (build_index and load_bpe between the first two).
  void load_tokens(const GgufFile& f);
  void load_special_ids(const GgufFile& f);
  void find_end_tokens(bool have_eot, bool have_eom, const int32_t (&fim_ids)[3]);
  void load_flags(const GgufFile& f);
  void build_byte_and_special_tokens();
  void build_index();
  void build_pieces();
  void check_id(int32_t id) const;
  void spm_tokenize(std::string_view text, std::vector<int32_t>& out) const;
  void spm_byte_fallback(std::string_view s, std::vector<int32_t>& out) const;
  void load_bpe(const GgufFile& f);
  struct BpeScratch;
  void bpe_tokenize(std::string_view text, std::vector<int32_t>& out, BpeScratch& scratch) const;

  Model model_ = Model::Other;
  std::string model_name_, pre_name_;
  struct Bpe;                        // merges and pre-tokenizer of a gpt2 vocabulary (vocab.cpp)
  std::shared_ptr<const Bpe> bpe_;   // null unless BPE tokenization is available; immutable
  std::string cannot_tokenize_;      // why tokenize() is unavailable (ids-only loads)
  std::vector<std::string> texts_;
  std::vector<float> scores_;
  std::vector<TokenAttr> attrs_;
  size_t max_token_len_ = 0;

  // Open-addressing text -> id table (ids only, so copies of a Vocab stay valid).
  std::vector<int32_t> slots_;
  uint64_t slot_mask_ = 0;

  std::string pieces_;               // token_to_piece of every token, concatenated
  std::vector<uint32_t> piece_off_;  // n_tokens + 1 offsets into pieces_

  std::vector<int32_t> user_defined_;  // ids of user-defined tokens, longest text first
  std::vector<int32_t> special_;       // ids of control / unknown / user-defined, longest first
  int32_t byte_token_[256] = {};

  int32_t bos_ = -1, eos_ = -1, unk_ = -1, eot_ = -1, eom_ = -1, pad_ = -1;
  std::vector<int32_t> eog_;  // sorted
  bool add_bos_ = false, add_eos_ = false, add_space_prefix_ = false;
};

}  // namespace tandem
