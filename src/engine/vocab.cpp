#include "engine/vocab.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <queue>

#include "engine/bpe.h"
#include "engine/bpe_pretokenizer.h"
#include "format/error.h"
#include "format/gguf.h"

namespace tandem {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK, SPM's space

// Length of the UTF-8 sequence that starts with byte c, judged by the lead byte alone (as
// llama.cpp's unicode_len_utf8): stray continuation bytes count as one byte.
inline size_t utf8_len(char c) {
  static constexpr uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return lookup[uint8_t(c) >> 4];
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "<0xXX>" -> XX, else -1.
int parse_byte_token(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (true) {
    size_t m = s.find(from, pos);
    if (m == std::string_view::npos) break;
    out.append(s, pos, m - pos);
    out.append(to);
    pos = m + from.size();
  }
  out.append(s, pos, std::string_view::npos);
  return out;
}

TokenAttr attr_from_type(int32_t t) {
  switch (t) {
    case 0: return TokenAttr::Undefined;
    case 1: return TokenAttr::Normal;
    case 2: return TokenAttr::Unknown;
    case 3: return TokenAttr::Control;
    case 4: return TokenAttr::UserDefined;
    case 5: return TokenAttr::Unused;
    case 6: return TokenAttr::Byte;
    default: return TokenAttr::Undefined;
  }
}

// Texts that llama.cpp treats as end of generation (and as control tokens) wherever they are.
constexpr std::string_view kEogTexts[] = {"<|eot_id|>", "<|im_end|>",    "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<|eom_id|>", "<EOT>"};
constexpr std::string_view kEotTexts[] = {"<|eot_id|>",    "<|im_end|>", "<|end|>",
                                          "<end_of_turn>", "<|endoftext|>", "<EOT>",
                                          "<\xEF\xBD\x9C" "end\xE2\x96\x81" "of\xE2\x96\x81" "sentence\xEF\xBD\x9C>"};

}  // namespace

// The parts of a byte-level BPE vocabulary beyond its tokens (immutable once built).
struct Vocab::Bpe {
  BpePreInfo info;
  BpePreTokenizer pre;
  BpeMerges merges;
  int32_t byte_tokens[256];       // the token of each one-byte symbol, or -1
  int32_t byte_fallback[256][2];  // for a byte without a token: llama.cpp's stand-in tokens (or -1)
};

// Working buffers of one tokenize call.
struct Vocab::BpeScratch {
  std::string norm, shadow, spelled;
  std::vector<TextSpan> words, words_tmp;
  std::vector<int32_t> ids;
  BpeWordMerger merger;
};

const char* token_attr_name(TokenAttr a) {
  switch (a) {
    case TokenAttr::Normal: return "normal";
    case TokenAttr::Unknown: return "unknown";
    case TokenAttr::Control: return "control";
    case TokenAttr::UserDefined: return "user-defined";
    case TokenAttr::Unused: return "unused";
    case TokenAttr::Byte: return "byte";
    case TokenAttr::Undefined: return "undefined";
  }
  return "?";
}

Vocab Vocab::from_gguf(const GgufFile& f) { return load(f, false); }
Vocab Vocab::from_gguf_ids_only(const GgufFile& f) { return load(f, true); }

Vocab Vocab::load(const GgufFile& f, bool ids_only) {
  Vocab v;
  auto model = f.opt_string("tokenizer.ggml.model");
  if (!model) throw Error("the GGUF file has no tokenizer (tokenizer.ggml.model is missing)");
  v.model_name_ = std::string(*model);
  v.pre_name_ = std::string(f.opt_string("tokenizer.ggml.pre").value_or(""));
  if (*model == "llama") v.model_ = Model::Spm;
  else if (*model == "gpt2") v.model_ = Model::Gpt2Bpe;
  else v.model_ = Model::Other;
  if (v.model_ == Model::Other) {
    v.cannot_tokenize_ = "tokenizer model '" + v.model_name_ +
                         "' is not supported (tandem tokenizes SentencePiece 'llama' and byte-level BPE 'gpt2' "
                         "vocabularies)";
    if (!ids_only) throw Error(v.cannot_tokenize_ + "; the model can still run on token ids");
  }
  v.load_tokens(f);
  v.build_index();
  if (v.model_ == Model::Gpt2Bpe) {
    try {
      v.load_bpe(f);
    } catch (const Error& e) {
      if (!ids_only) throw;
      v.cannot_tokenize_ = e.what();  // the model still runs on ids; tokenize() says why not
    }
  }
  v.load_special_ids(f);
  v.load_flags(f);
  v.build_byte_and_special_tokens();
  v.build_pieces();
  return v;
}

// Tokens, scores, types.
void Vocab::load_tokens(const GgufFile& f) {
  const GgufValue& toks = f.get_array("tokenizer.ggml.tokens", GgufValueType::STRING);
  if (toks.count == 0) throw Error("tokenizer.ggml.tokens is empty");
  if (toks.count > uint64_t(std::numeric_limits<int32_t>::max()) || toks.strs.size() != toks.count)
    throw Error("tokenizer.ggml.tokens has an invalid count " + std::to_string(toks.count));
  const size_t n = size_t(toks.count);
  auto check_len = [&](const char* key, const GgufValue& a) {
    if (a.count != n)
      throw Error(std::string(key) + " has " + std::to_string(a.count) + " entries but tokenizer.ggml.tokens has " +
                  std::to_string(n));
  };
  texts_.resize(n);
  scores_.assign(n, 0.0f);
  attrs_.assign(n, TokenAttr::Normal);
  for (size_t i = 0; i < n; ++i) {
    texts_[i] = std::string(toks.strs[i]);
    // llama.cpp gives empty tokens a stand-in text, so that no token matches the empty string.
    if (texts_[i].empty()) texts_[i] = "[EMPTY_" + std::to_string(i) + "]";
    max_token_len_ = std::max(max_token_len_, texts_[i].size());
  }
  if (f.has("tokenizer.ggml.scores")) {
    const GgufValue& s = f.get_array("tokenizer.ggml.scores", GgufValueType::F32);
    check_len("tokenizer.ggml.scores", s);
    for (size_t i = 0; i < n; ++i) {
      float x = GgufFile::array_f32(s, i);
      if (std::isnan(x)) throw Error("tokenizer.ggml.scores[" + std::to_string(i) + "] is NaN");
      scores_[i] = x;
    }
  }
  if (f.has("tokenizer.ggml.token_type")) {
    const GgufValue& t = f.get_array("tokenizer.ggml.token_type", GgufValueType::I32);
    check_len("tokenizer.ggml.token_type", t);
    for (size_t i = 0; i < n; ++i) {
      int32_t x = GgufFile::array_i32(t, i);
      if (x < 0 || x > 6)
        throw Error("tokenizer.ggml.token_type[" + std::to_string(i) + "] = " + std::to_string(x) +
                    " is not a token type (0..6)");
      attrs_[i] = attr_from_type(x);
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (attrs_[i] == TokenAttr::Byte && parse_byte_token(texts_[i]) < 0 && model_ == Model::Spm)
      throw Error("token " + std::to_string(i) + " has type byte but its text '" + texts_[i] +
                  "' is not of the form <0xXX>");
}

// Special tokens. Every tokenizer.ggml.*_token_id is checked; 0xFFFFFFFF (or -1) means none.
void Vocab::load_special_ids(const GgufFile& f) {
  const size_t n = texts_.size();
  if (model_ == Model::Spm) {  // llama.cpp's defaults for SPM vocabularies
    bos_ = n > 1 ? 1 : -1;
    eos_ = n > 2 ? 2 : -1;
    unk_ = 0;
  } else if (model_ == Model::Gpt2Bpe && n > 11) {  // llama.cpp's (odd) defaults for BPE
    bos_ = 11;
    eos_ = 11;
  }
  int32_t fim_ids[3] = {-1, -1, -1};
  bool have_eot = false, have_eom = false;
  for (const std::string& key : f.keys()) {
    std::string_view k = key;
    if (!k.starts_with("tokenizer.ggml.") || !k.ends_with("_token_id")) continue;
    int64_t x = f.get_int(k);
    int32_t id;
    if (x == -1 || x == int64_t(0xFFFFFFFFu)) {
      id = -1;
    } else if (x < 0 || x >= int64_t(n)) {
      throw Error(key + " = " + std::to_string(x) + " is out of range (the vocabulary has " + std::to_string(n) +
                  " tokens)");
    } else {
      id = int32_t(x);
    }
    if (k == "tokenizer.ggml.bos_token_id") bos_ = id;
    else if (k == "tokenizer.ggml.eos_token_id") eos_ = id;
    else if (k == "tokenizer.ggml.unknown_token_id") unk_ = id;
    else if (k == "tokenizer.ggml.padding_token_id") pad_ = id;
    else if (k == "tokenizer.ggml.eot_token_id") { eot_ = id; have_eot = true; }
    else if (k == "tokenizer.ggml.eom_token_id") { eom_ = id; have_eom = true; }
    else if (k == "tokenizer.ggml.fim_pad_token_id") fim_ids[0] = id;
    else if (k == "tokenizer.ggml.fim_rep_token_id") fim_ids[1] = id;
    else if (k == "tokenizer.ggml.fim_sep_token_id") fim_ids[2] = id;
  }
  find_end_tokens(have_eot, have_eom, fim_ids);
}

// The end-of-generation set. Like llama.cpp, end-of-turn tokens are found by their text when the
// file does not name them.
void Vocab::find_end_tokens(bool have_eot, bool have_eom, const int32_t (&fim_ids)[3]) {
  if (!have_eot)
    for (std::string_view t : kEotTexts)
      if (int32_t id = find_token(t); id >= 0 && (eot_ < 0 || id < eot_)) eot_ = id;
  if (!have_eom) eom_ = find_token("<|eom_id|>");
  for (int32_t id : {eos_, eot_, eom_, fim_ids[0], fim_ids[1], fim_ids[2]})
    if (id >= 0) eog_.push_back(id);
  for (std::string_view t : kEogTexts)
    if (int32_t id = find_token(t); id >= 0) {
      eog_.push_back(id);
      attrs_[size_t(id)] = TokenAttr::Control;  // llama.cpp overrides the type of these
    }
  if (eot_ >= 0 && attrs_[size_t(eot_)] != TokenAttr::Control && !have_eot) attrs_[size_t(eot_)] = TokenAttr::Control;
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());
}

void Vocab::load_flags(const GgufFile& f) {
  const bool spm = model_ == Model::Spm;
  // BPE: BOS by default only for some pre-tokenizers (Llama 3), as llama.cpp.
  add_bos_ = f.opt_bool("tokenizer.ggml.add_bos_token").value_or(spm || (bpe_ && bpe_->info.add_bos));
  add_eos_ = f.opt_bool("tokenizer.ggml.add_eos_token").value_or(false);
  add_space_prefix_ = f.opt_bool("tokenizer.ggml.add_space_prefix").value_or(spm);
  if (can_tokenize() && add_bos_ && bos_ < 0)
    throw Error("tokenizer.ggml.add_bos_token is true but the vocabulary has no BOS token");
  if (can_tokenize() && add_eos_ && eos_ < 0)
    throw Error("tokenizer.ggml.add_eos_token is true but the vocabulary has no EOS token");
}

void Vocab::build_byte_and_special_tokens() {
  // Byte fallback tokens.
  static const char hex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    char buf[6] = {'<', '0', 'x', hex[b >> 4], hex[b & 15], '>'};
    int32_t id = find_token(std::string_view(buf, 6));
    const char one = char(b);
    if (id < 0) id = find_token(std::string_view(&one, 1));
    byte_token_[b] = id;
  }
  // Tokens matched verbatim before SPM, longest first (ties: lower id first).
  for (size_t i = 0; i < texts_.size(); ++i) {
    TokenAttr a = attrs_[i];
    if (a == TokenAttr::Control || a == TokenAttr::UserDefined || a == TokenAttr::Unknown)
      special_.push_back(int32_t(i));
  }
  std::stable_sort(special_.begin(), special_.end(),
                   [&](int32_t a, int32_t b) { return texts_[size_t(a)].size() > texts_[size_t(b)].size(); });
  for (int32_t id : special_)
    if (attrs_[size_t(id)] == TokenAttr::UserDefined) user_defined_.push_back(id);
}

void Vocab::build_index() {
  size_t cap = 16;
  while (cap < texts_.size() * 2) cap *= 2;
  slots_.assign(cap, -1);
  slot_mask_ = cap - 1;
  std::hash<std::string_view> h;
  for (size_t i = 0; i < texts_.size(); ++i) {
    uint64_t j = h(texts_[i]) & slot_mask_;
    while (slots_[j] >= 0 && texts_[size_t(slots_[j])] != texts_[i]) j = (j + 1) & slot_mask_;
    slots_[j] = int32_t(i);  // a repeated text maps to its last id, as in llama.cpp
  }
}

int32_t Vocab::find_token(std::string_view text) const {
  if (text.size() > max_token_len_ || slots_.empty()) return -1;
  uint64_t j = std::hash<std::string_view>{}(text) & slot_mask_;
  while (true) {
    int32_t id = slots_[j];
    if (id < 0) return -1;
    if (texts_[size_t(id)] == text) return id;
    j = (j + 1) & slot_mask_;
  }
}

void Vocab::build_pieces() {
  piece_off_.assign(texts_.size() + 1, 0);
  pieces_.clear();
  for (size_t i = 0; i < texts_.size(); ++i) {
    const std::string& t = texts_[i];
    switch (attrs_[i]) {
      case TokenAttr::Normal:
        if (model_ == Model::Gpt2Bpe) pieces_ += gpt2_decode(t);
        else pieces_ += replace_all(t, kSpace, " ");
        break;
      case TokenAttr::UserDefined: pieces_ += t; break;
      case TokenAttr::Byte:
        if (int b = parse_byte_token(t); b >= 0) pieces_ += char(b);
        break;
      default: break;  // control, unknown, unused, undefined: no text
    }
    if (pieces_.size() > std::numeric_limits<uint32_t>::max()) throw Error("vocabulary texts are too large");
    piece_off_[i + 1] = uint32_t(pieces_.size());
  }
}

void Vocab::check_id(int32_t id) const {
  if (!valid(id))
    throw Error("token id " + std::to_string(id) + " is out of range (the vocabulary has " +
                std::to_string(n_tokens()) + " tokens)");
}

std::string_view Vocab::piece(int32_t id) const {
  check_id(id);
  return std::string_view(pieces_).substr(piece_off_[size_t(id)], piece_off_[size_t(id) + 1] - piece_off_[size_t(id)]);
}

std::string_view Vocab::token_text(int32_t id) const {
  check_id(id);
  return texts_[size_t(id)];
}
float Vocab::score(int32_t id) const {
  check_id(id);
  return scores_[size_t(id)];
}
TokenAttr Vocab::attr(int32_t id) const {
  check_id(id);
  return attrs_[size_t(id)];
}

bool Vocab::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

std::string Vocab::detokenize(std::span<const int32_t> ids) const { return detokenize(ids, false); }

std::string Vocab::detokenize(std::span<const int32_t> ids, bool strip_space_prefix) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string_view p = piece(ids[i]);
    if (i == 0 && strip_space_prefix && add_space_prefix_ && !p.empty() && p[0] == ' ') p.remove_prefix(1);
    out += p;
  }
  return out;
}

std::vector<int32_t> Vocab::tokenize(std::string_view text, bool add_bos) const {
  return tokenize(text, add_bos, false);
}

size_t Vocab::n_merges() const { return bpe_ ? bpe_->merges.size() : 0; }

void Vocab::load_bpe(const GgufFile& f) {
  const auto info = bpe_pre_info(pre_name_);
  if (!info)
    throw Error("unknown BPE pre-tokenizer '" + pre_name_ + "' (tokenizer.ggml.pre); supported: " +
                bpe_supported_pres());
  if (!f.has("tokenizer.ggml.merges"))
    throw Error("tokenizer.ggml.merges is missing: a 'gpt2' (byte-level BPE) vocabulary needs its merges");
  const GgufValue& m = f.get_array("tokenizer.ggml.merges", GgufValueType::STRING);
  if (m.count > uint64_t(std::numeric_limits<int32_t>::max()) || m.strs.size() != m.count)
    throw Error("tokenizer.ggml.merges has an invalid count " + std::to_string(m.count));
  auto bpe = std::make_shared<Bpe>(Bpe{*info, BpePreTokenizer(info->kind), BpeMerges(size_t(m.count)), {}, {}});

  // "left right", split at the first space after the first byte (a part may start with one).
  // Each part and their concatenation must be tokens, as Hugging Face's BPE also requires.
  std::string joined;
  for (size_t i = 0; i < size_t(m.count); ++i) {
    const std::string_view e = m.strs[i];
    auto bad = [&](const std::string& why) {
      return Error("tokenizer.ggml.merges[" + std::to_string(i) + "] = '" + std::string(e.substr(0, 100)) + "' " + why);
    };
    const size_t sp = e.find(' ', 1);
    if (sp == std::string_view::npos || sp + 1 == e.size()) throw bad("is not two token texts separated by a space");
    const std::string_view left = e.substr(0, sp), right = e.substr(sp + 1);
    const int32_t l = find_token(left), r = find_token(right);
    if (l < 0) throw bad("names '" + std::string(left) + "', which is not a token");
    if (r < 0) throw bad("names '" + std::string(right) + "', which is not a token");
    joined.assign(left).append(right);
    const int32_t res = find_token(joined);
    if (res < 0) throw bad("merges into '" + joined + "', which is not a token");
    bpe->merges.insert(l, r, res, int32_t(i));
  }

  // Words start as one symbol per byte, spelled as GPT-2's printable code point. A byte whose
  // spelling is not a token cannot merge; llama.cpp then emits the tokens (if any) whose text is
  // a single byte of that spelling.
  std::string spelled;
  for (int b = 0; b < 256; ++b) {
    spelled.clear();
    const char byte = char(b);
    gpt2_encode(std::string_view(&byte, 1), spelled);
    bpe->byte_tokens[b] = find_token(spelled);
    bpe->byte_fallback[b][0] = bpe->byte_fallback[b][1] = -1;
    if (bpe->byte_tokens[b] >= 0) continue;
    int k = 0;
    for (char c : spelled)
      if (int32_t id = find_token(std::string_view(&c, 1)); id >= 0) bpe->byte_fallback[b][k++] = id;
  }
  bpe_ = std::move(bpe);
}

// One piece of raw text (no special tokens in it): pre-tokenize, then merge word by word.
void Vocab::bpe_tokenize(std::string_view text, std::vector<int32_t>& out, BpeScratch& sc) const {
  std::string_view norm = text, subject = text;
  if (prepare_bpe_text(text, sc.norm, sc.shadow)) {
    norm = sc.norm;
    subject = sc.shadow.empty() ? sc.norm : sc.shadow;
  }
  bpe_->pre.split(subject, sc.words, sc.words_tmp);
  for (const TextSpan w : sc.words) {
    const std::string_view word = norm.substr(w.off, w.len);
    if (bpe_->info.ignore_merges) {
      sc.spelled.clear();
      gpt2_encode(word, sc.spelled);
      if (int32_t id = find_token(sc.spelled); id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    sc.ids.clear();
    sc.merger.merge(word, bpe_->byte_tokens, bpe_->merges, sc.ids);
    for (int32_t id : sc.ids) {
      if (id >= 0) {
        out.push_back(id);
        continue;
      }
      for (int32_t fb : bpe_->byte_fallback[-1 - id])
        if (fb >= 0) out.push_back(fb);
    }
  }
}

std::vector<int32_t> Vocab::tokenize(std::string_view text, bool add_special, bool parse_special) const {
  if (!can_tokenize()) throw Error("cannot tokenize text: " + cannot_tokenize_);
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && add_bos_) out.push_back(bos_);

  // Split out the tokens that are matched verbatim (user-defined, and with parse_special control
  // and unknown ones), longest first, as llama.cpp's tokenizer_st_partition does.
  struct Frag {
    int32_t tok;  // -1: raw text
    size_t off, len;
  };
  std::vector<Frag> frags, next;
  if (!text.empty()) frags.push_back({-1, 0, text.size()});
  for (int32_t id : parse_special ? special_ : user_defined_) {
    std::string_view tt = texts_[size_t(id)];
    next.clear();
    bool any = false;
    for (const Frag& fr : frags) {
      if (fr.tok >= 0) {
        next.push_back(fr);
        continue;
      }
      size_t base = fr.off, end = fr.off + fr.len;
      while (base < end) {
        size_t m = text.substr(base, end - base).find(tt);
        if (m == std::string_view::npos) break;
        m += base;
        if (m > base) next.push_back({-1, base, m - base});
        next.push_back({id, 0, 0});
        any = true;
        base = m + tt.size();
      }
      if (base < end) next.push_back({-1, base, end - base});
    }
    if (any) frags.swap(next);
  }

  bool prev_special = true;  // the text's start counts as following a special token
  std::string piece_text;
  std::unique_ptr<BpeScratch> bpe_scratch;
  for (const Frag& fr : frags) {
    if (fr.tok >= 0) {
      out.push_back(fr.tok);
      prev_special = true;
      continue;
    }
    if (bpe_) {
      if (!bpe_scratch) bpe_scratch = std::make_unique<BpeScratch>();
      bpe_tokenize(text.substr(fr.off, fr.len), out, *bpe_scratch);
      continue;
    }
    piece_text.clear();
    if (add_space_prefix_ && prev_special) piece_text += ' ';
    piece_text.append(text.substr(fr.off, fr.len));
    spm_tokenize(piece_text, out);
    prev_special = false;
  }
  if (add_special && add_eos_) out.push_back(eos_);
  return out;
}

void Vocab::spm_byte_fallback(std::string_view s, std::vector<int32_t>& out) const {
  for (char c : s) {
    int32_t id = byte_token_[uint8_t(c)];
    if (id < 0) id = unk_;
    if (id < 0) {
      static const char hex[] = "0123456789ABCDEF";
      uint8_t b = uint8_t(c);
      throw Error(std::string("cannot tokenize byte 0x") + hex[b >> 4] + hex[b & 15] +
                  ": the vocabulary has no byte token for it and no unknown token");
    }
    out.push_back(id);
  }
}

// One piece of raw text (no special tokens in it): SPM bigram merging by vocabulary score.
void Vocab::spm_tokenize(std::string_view raw, std::vector<int32_t>& out) const {
  std::string text;
  text.reserve(raw.size() + raw.size() / 2);
  for (char c : raw) {
    if (c == ' ') text += kSpace;
    else text += c;
  }
  if (text.empty()) return;

  struct Sym {
    int32_t prev, next;
    uint32_t off, n;  // n == 0: merged into its left neighbour
  };
  std::vector<Sym> syms;
  syms.reserve(text.size());
  for (size_t off = 0; off < text.size();) {
    size_t len = std::min(utf8_len(text[off]), text.size() - off);
    int32_t idx = int32_t(syms.size());
    syms.push_back({idx - 1, off + len == text.size() ? -1 : idx + 1, uint32_t(off), uint32_t(len)});
    off += len;
  }

  struct Bigram {
    float score;
    int32_t left, right;
    uint32_t size;
  };
  // Highest score first; equal scores: leftmost first.
  auto lower = [](const Bigram& a, const Bigram& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::vector<Bigram> storage;
  storage.reserve(syms.size() + 8);
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(lower)> queue(lower, std::move(storage));

  auto try_add = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    size_t n = size_t(syms[size_t(l)].n) + syms[size_t(r)].n;
    if (n > max_token_len_) return;
    int32_t id = find_token(std::string_view(text).substr(syms[size_t(l)].off, n));
    if (id < 0) return;
    queue.push({scores_[size_t(id)], l, r, uint32_t(n)});
  };
  for (int32_t i = 1; i < int32_t(syms.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    Bigram b = queue.top();
    queue.pop();
    Sym& l = syms[size_t(b.left)];
    Sym& r = syms[size_t(b.right)];
    // Stale entry: one side was merged since (symbols only grow, so sizes tell).
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) syms[size_t(r.next)].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }

  // Every merged symbol is a token; a symbol that is not (a single character outside the
  // vocabulary) falls back to bytes.
  for (int32_t i = 0; i != -1; i = syms[size_t(i)].next) {
    std::string_view s = std::string_view(text).substr(syms[size_t(i)].off, syms[size_t(i)].n);
    int32_t id = find_token(s);
    if (id >= 0) out.push_back(id);
    else spm_byte_fallback(s, out);
  }
}

}  // namespace tandem
