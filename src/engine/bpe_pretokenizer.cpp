#include "engine/bpe_pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <limits>

#include "format/error.h"
#include "engine/utf8.h"

namespace tandem {

namespace {

// Unicode White_Space, the set llama.cpp's splitter calls whitespace, for use inside [...].
#define TANDEM_WS "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

// GPT-2's expression; llama.cpp's copy lacks the final |\s+, which changes nothing (unmatched
// text becomes a word of its own anyway).
constexpr const char* kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" TANDEM_WS "\\p{L}\\p{N}]+"
    "|[" TANDEM_WS "]+(?![^" TANDEM_WS "])|[" TANDEM_WS "]+";

// Llama 3 and Qwen2 differ only in how many digits make a word. The case-insensitive
// contractions are spelled out as llama.cpp does ((?i:) would let 'ſ' match 's' under UCP).
#define TANDEM_LLAMA3_LIKE(DIGITS)                                                                 \
  "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" DIGITS \
  "| ?[^" TANDEM_WS "\\p{L}\\p{N}]+[\\r\\n]*|[" TANDEM_WS "]*[\\r\\n]+|[" TANDEM_WS "]+(?![^" TANDEM_WS \
  "])|[" TANDEM_WS "]+"
constexpr const char* kLlama3 = TANDEM_LLAMA3_LIKE("{1,3}");
constexpr const char* kQwen2 = TANDEM_LLAMA3_LIKE("");
#undef TANDEM_LLAMA3_LIKE
#undef TANDEM_WS

struct PreName {
  std::string_view name;
  BpePreInfo info;
};
// llama.cpp's names for the rules above (llama-vocab.cpp), with its defaults per name.
constexpr PreName kPreNames[] = {
    {"", {BpePreKind::Default, false, false}},
    {"default", {BpePreKind::Default, false, false}},
    {"llama3", {BpePreKind::Llama3, true, true}},
    {"llama-v3", {BpePreKind::Llama3, true, true}},
    {"llama-bpe", {BpePreKind::Llama3, true, true}},
    {"falcon3", {BpePreKind::Llama3, true, true}},
    {"falcon-h1", {BpePreKind::Llama3, true, true}},
    {"pixtral", {BpePreKind::Llama3, true, true}},
    {"midm-2.0", {BpePreKind::Llama3, true, true}},
    {"lfm2", {BpePreKind::Llama3, true, true}},
    {"dbrx", {BpePreKind::Llama3, false, false}},
    {"smaug-bpe", {BpePreKind::Llama3, false, false}},
    {"gpt-2", {BpePreKind::Gpt2, false, false}},
    {"phi-2", {BpePreKind::Gpt2, false, false}},
    {"jina-es", {BpePreKind::Gpt2, false, false}},
    {"jina-de", {BpePreKind::Gpt2, false, false}},
    {"jina-v2-es", {BpePreKind::Gpt2, false, false}},
    {"jina-v2-de", {BpePreKind::Gpt2, false, false}},
    {"gigachat", {BpePreKind::Gpt2, false, false}},
    {"a.x-4.0", {BpePreKind::Gpt2, false, false}},
    {"mellum", {BpePreKind::Gpt2, false, false}},
    {"exaone4", {BpePreKind::Gpt2, false, false}},
    {"mpt", {BpePreKind::Gpt2, false, false}},
    {"olmo", {BpePreKind::Gpt2, false, false}},
    {"jais", {BpePreKind::Gpt2, false, false}},
    {"trillion", {BpePreKind::Gpt2, false, false}},
    {"granite-docling", {BpePreKind::Gpt2, false, false}},
    {"qwen2", {BpePreKind::Qwen2, false, false}},
    {"deepseek-r1-qwen", {BpePreKind::Qwen2, false, false}},
    {"megrez", {BpePreKind::Qwen2, false, false}},
    {"stablelm2", {BpePreKind::Qwen2, false, false}},
    {"starcoder", {BpePreKind::Starcoder, false, false}},
    {"smollm", {BpePreKind::Starcoder, false, false}},
    {"refact", {BpePreKind::Starcoder, false, false}},
    {"command-r", {BpePreKind::Starcoder, false, false}},
    {"codeshell", {BpePreKind::Starcoder, false, false}},
    {"exaone", {BpePreKind::Starcoder, false, false}},
    {"minerva-7b", {BpePreKind::Starcoder, false, false}},
};

// The expressions applied in turn: each one splits every word of the previous one.
std::vector<const char*> expressions(BpePreKind kind) {
  switch (kind) {
    case BpePreKind::Gpt2: return {kGpt2};
    case BpePreKind::Llama3: return {kLlama3};
    case BpePreKind::Qwen2: return {kQwen2};
    case BpePreKind::Starcoder: return {"\\p{N}", kGpt2};
    case BpePreKind::Default: return {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"};
  }
  return {};
}

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}

// Length of the UTF-8 sequence starting with lead byte c (the text is valid UTF-8 here).
inline size_t seq_len(uint8_t c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

// Strict UTF-8 (what PCRE2 accepts): shortest forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Fast path over ASCII, 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t w;
      __builtin_memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= n) break;
    const uint8_t c = p[i];
    if (c < 0x80) { ++i; continue; }
    auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
    if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(1)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(1) || !cont(2)) return false;
      if (c == 0xE0 && p[i + 1] < 0xA0) return false;  // overlong
      if (c == 0xED && p[i + 1] > 0x9F) return false;  // surrogate
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return false;
      if (c == 0xF0 && p[i + 1] < 0x90) return false;  // overlong
      if (c == 0xF4 && p[i + 1] > 0x8F) return false;  // above U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<BpePreInfo> bpe_pre_info(std::string_view pre) {
  for (const PreName& p : kPreNames)
    if (p.name == pre) return p.info;
  return std::nullopt;
}

std::string bpe_supported_pres() {
  std::string out;
  for (const PreName& p : kPreNames) {
    if (p.name.empty()) continue;
    if (!out.empty()) out += ", ";
    out += p.name;
  }
  return out;
}

struct BpePreTokenizer::Compiled {
  std::vector<pcre2_code*> codes;
  pcre2_match_context* mctx = nullptr;
  Compiled() = default;
  Compiled(const Compiled&) = delete;
  Compiled& operator=(const Compiled&) = delete;
  ~Compiled() {
    for (pcre2_code* c : codes) pcre2_code_free(c);
    pcre2_match_context_free(mctx);
  }
};

BpePreTokenizer::BpePreTokenizer(BpePreKind kind) : kind_(kind) {
  auto re = std::make_shared<Compiled>();
  for (const char* pattern : expressions(kind)) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF | PCRE2_UCP, &err, &err_off, nullptr);
    if (!code)
      throw Error("cannot compile the pre-tokenizer expression '" + std::string(pattern) + "' at offset " +
                  std::to_string(err_off) + ": " + pcre2_message(err));
    re->codes.push_back(code);
    // JIT makes splitting several times faster; without it (an unsupported CPU) the interpreter runs.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  }
  // The default backtracking limit (10 million) would fail on a run of millions of spaces, which
  // llama.cpp's splitter handles; every expression here backtracks at most linearly.
  re->mctx = pcre2_match_context_create(nullptr);
  if (!re->mctx) throw Error("out of memory creating a PCRE2 match context");
  pcre2_set_match_limit(re->mctx, std::numeric_limits<uint32_t>::max());
  re_ = std::move(re);
}

void BpePreTokenizer::split(std::string_view text, std::vector<TextSpan>& out, std::vector<TextSpan>& scratch) const {
  out.clear();
  if (text.empty()) return;
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create(1, nullptr), &pcre2_match_data_free);
  if (!md) throw Error("out of memory creating PCRE2 match data");

  // Each expression splits every word that the previous one produced; the unmatched text between
  // two matches is a word too (llama.cpp's unicode_regex_split).
  std::vector<TextSpan>* cur = &scratch;
  std::vector<TextSpan>* next = &out;
  const size_t n_codes = re_->codes.size();
  if (n_codes % 2 == 0) std::swap(cur, next);  // so that the last pass writes into `out`
  cur->assign(1, TextSpan{0, text.size()});
  for (pcre2_code* code : re_->codes) {
    next->clear();
    for (const TextSpan w : *cur) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + w.off);
      size_t pos = 0, prev = 0;
      while (pos < w.len) {
        int rc = pcre2_match(code, subject, w.len, pos, PCRE2_NO_UTF_CHECK, md.get(), re_->mctx);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) throw Error("the BPE pre-tokenizer failed on the text: " + pcre2_message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
        const size_t s = ov[0], e = ov[1];
        if (e == s) {  // an empty match (none of our expressions has one): step over a character
          pos = s + seq_len(uint8_t(text[w.off + s]));
          continue;
        }
        if (s > prev) next->push_back({w.off + prev, s - prev});
        next->push_back({w.off + s, e - s});
        prev = pos = e;
      }
      if (prev < w.len) next->push_back({w.off + prev, w.len - prev});
    }
    std::swap(cur, next);
  }
  // `cur` holds the last pass's words, and that is `out` by the choice of buffers above.
}

bool prepare_bpe_text(std::string_view text, std::string& norm, std::string& shadow) {
  if (valid_utf8(text)) return false;
  norm.clear();
  shadow.clear();
  norm.reserve(text.size() + 16);
  bool any_surrogate = false;
  const auto* p = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // llama.cpp's unicode_cpt_from_utf8: the lead byte's pattern gives the length; the
    // continuation bytes must be 10xxxxxx; nothing else is checked (overlong forms pass).
    const uint8_t c = p[i];
    size_t len = c < 0x80 ? 1 : c < 0xC0 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (!ok) {
      norm += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3Fu);
    i += len;
    if (cp > 0x10FFFF) cp = 0xFFFD;
    if (cp >= 0xD800 && cp <= 0xDFFF) any_surrogate = true;
    append_utf8(norm, cp);
  }
  if (any_surrogate) {
    shadow = norm;
    for (size_t k = 0; k + 2 < shadow.size(); ++k)
      if (uint8_t(shadow[k]) == 0xED && uint8_t(shadow[k + 1]) >= 0xA0) {
        shadow[k] = char(0xEE);
        shadow[k + 1] = char(0x80);
        shadow[k + 2] = char(0x80);
        k += 2;
      }
  } else {
    shadow.clear();
  }
  return true;
}

}  // namespace tandem
