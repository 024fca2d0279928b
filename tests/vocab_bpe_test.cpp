// Byte-level BPE tokenizer tests. References no one here wrote: llama.cpp's tokenizer test cases
// (inputs of its test-tokenizer-0 and the ids llama.cpp produced) for the GPT-2, Llama 3
// (llama-bpe) and Qwen2 vocabularies. The rest checks the rules on crafted vocabularies, the
// pre-tokenizers' splits where llama.cpp's splitter differs from the plain expressions, bad
// metadata, round trips and long inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/bpe.h"
#include "engine/bpe_pretokenizer.h"
#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "test_util.h"
#include "vocab_test_util.h"

using namespace tandem;
using namespace tandem::test;

namespace {

Vocab load_ref(const std::string& name) { return Vocab::from_gguf(GgufFile::open(vocab_ref(name))); }

const char* const kBpeVocabs[] = {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-bpe.gguf", "ggml-vocab-qwen2.gguf"};

std::string spelled(std::string_view bytes) {
  std::string s;
  gpt2_encode(bytes, s);
  return s;
}

// A crafted byte-level BPE vocabulary: the 256 one-byte tokens (GPT-2 spelling), then added ones.
struct MiniBpe {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;
  std::string pre = "gpt-2";
  MiniBpe() {
    for (int b = 0; b < 256; ++b) {
      char c = char(b);
      add(std::string(1, c));
    }
  }
  // `text` in raw bytes; stored spelled unless `raw`.
  int32_t add(const std::string& text, int32_t type = 1, bool raw = false) {
    tokens.push_back(raw ? text : spelled(text));
    types.push_back(type);
    return int32_t(tokens.size() - 1);
  }
  int32_t id(const std::string& text) const {
    auto it = std::find(tokens.begin(), tokens.end(), spelled(text));
    return it == tokens.end() ? -1 : int32_t(it - tokens.begin());
  }
  void merge(const std::string& l, const std::string& r) { merges.push_back(spelled(l) + " " + spelled(r)); }
  GgufBuilder builder(bool with_merges = true) const {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "gpt2");
    b.str("tokenizer.ggml.pre", pre);
    b.strs("tokenizer.ggml.tokens", tokens);
    b.i32s("tokenizer.ggml.token_type", types);
    if (with_merges) b.strs("tokenizer.ggml.merges", merges);
    return b;
  }
};

std::vector<std::string> split(BpePreKind kind, const std::string& text) {
  BpePreTokenizer pre(kind);
  std::vector<TextSpan> words, scratch;
  pre.split(text, words, scratch);
  std::vector<std::string> out;
  size_t end = 0;
  for (const TextSpan& w : words) {
    EXPECT_EQ(w.off, end) << "words must tile the text";
    end = w.off + w.len;
    out.push_back(text.substr(w.off, w.len));
  }
  EXPECT_EQ(end, text.size());
  return out;
}

using Words = std::vector<std::string>;

// Random valid UTF-8: code points from every plane (no surrogates), weighted towards ASCII.
std::string random_utf8(uint64_t& state, size_t n) {
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    uint32_t r = next() % 100, cp;
    if (r < 50) cp = 0x09 + next() % (0x7F - 0x09);
    else if (r < 65) cp = 0x80 + next() % 0x780;
    else if (r < 90) do cp = 0x800 + next() % 0xF800; while (cp >= 0xD800 && cp <= 0xDFFF);
    else cp = 0x10000 + next() % 0x100000;
    if (cp < 0x80) out += char(cp);
    else if (cp < 0x800) { out += char(0xC0 | (cp >> 6)); out += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { out += char(0xE0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
    else { out += char(0xF0 | (cp >> 18)); out += char(0x80 | ((cp >> 12) & 0x3F)); out += char(0x80 | ((cp >> 6) & 0x3F)); out += char(0x80 | (cp & 0x3F)); }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// References: every case of llama.cpp's tokenizer tests, ids and round trip

TEST(VocabBpeReference, Gpt2MatchesLlamaCpp) { check_reference_cases("ggml-vocab-gpt-2.gguf"); }
TEST(VocabBpeReference, Llama3MatchesLlamaCpp) { check_reference_cases("ggml-vocab-llama-bpe.gguf"); }
TEST(VocabBpeReference, Qwen2MatchesLlamaCpp) { check_reference_cases("ggml-vocab-qwen2.gguf"); }

TEST(VocabBpeReference, PropertiesOfTheRealVocabularies) {
  for (const char* name : kBpeVocabs) TANDEM_REQUIRE_FILE(vocab_ref(name));
  {
    Vocab v = load_ref("ggml-vocab-llama-bpe.gguf");
    EXPECT_EQ(v.model(), Vocab::Model::Gpt2Bpe);
    EXPECT_TRUE(v.can_tokenize());
    EXPECT_EQ(v.pre_name(), "llama-bpe");
    EXPECT_EQ(v.n_tokens(), 128256);
    EXPECT_EQ(v.n_merges(), 280147u);
    EXPECT_EQ(v.bos(), 128000);
    EXPECT_EQ(v.eos(), 128001);
    EXPECT_TRUE(v.add_bos());  // llama.cpp's default for Llama 3, the file has no add_bos_token
    EXPECT_FALSE(v.add_space_prefix());
    EXPECT_TRUE(v.is_eog(v.find_token("<|eot_id|>")));
    auto plain = v.tokenize("Hello world", false);
    auto with_bos = v.tokenize("Hello world", true);
    ASSERT_EQ(with_bos.size(), plain.size() + 1);
    EXPECT_EQ(with_bos[0], 128000);
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), with_bos.begin() + 1));
    EXPECT_EQ(v.detokenize(with_bos), "Hello world");  // BOS is a control token: no text
    EXPECT_EQ(v.token_to_piece(plain[1]), " world");
    EXPECT_EQ(v.token_text(plain[1]), "\xC4\xA0world");  // 'Ġ' spells the space byte
    // Control tokens: verbatim only with parse_special.
    EXPECT_EQ(v.tokenize("<|eot_id|>", false, true), (std::vector<int32_t>{v.find_token("<|eot_id|>")}));
    auto text = v.tokenize("<|eot_id|>", false);
    EXPECT_GT(text.size(), 1u);
    EXPECT_EQ(v.detokenize(text), "<|eot_id|>");
  }
  {
    Vocab v = load_ref("ggml-vocab-gpt-2.gguf");
    EXPECT_EQ(v.pre_name(), "gpt-2");
    EXPECT_EQ(v.n_merges(), 50000u);
    EXPECT_EQ(v.bos(), 50256);
    EXPECT_FALSE(v.add_bos());
    EXPECT_EQ(v.tokenize("Hi", true), v.tokenize("Hi", false));
    EXPECT_EQ(v.tokenize("a<|endoftext|>b", false, true),
              (std::vector<int32_t>{v.find_token("a"), 50256, v.find_token("b")}));
  }
  {
    Vocab v = load_ref("ggml-vocab-qwen2.gguf");
    EXPECT_EQ(v.pre_name(), "qwen2");
    EXPECT_FALSE(v.add_bos());
    // User-defined tokens are split out even without parse_special; control ones only with it.
    const int32_t pad = v.find_token("[PAD151646]");
    ASSERT_EQ(pad, 151646);
    EXPECT_EQ(v.attr(pad), TokenAttr::UserDefined);
    auto ids = v.tokenize("x[PAD151646]y", false);
    EXPECT_EQ(ids, (std::vector<int32_t>{v.find_token("x"), pad, v.find_token("y")}));
    EXPECT_EQ(v.detokenize(ids), "x[PAD151646]y");
    EXPECT_EQ(v.tokenize("<|im_start|>user", false, true),
              (std::vector<int32_t>{151644, v.find_token("user")}));
    // Single digits (Llama 3 would group three).
    EXPECT_EQ(v.tokenize("2024", false).size(), 4u);
  }
}

TEST(VocabBpeReference, IdsOnlyLoadsTokenizeToo) {
  for (const char* name : kBpeVocabs) {
    const std::string g = vocab_ref(name);
    TANDEM_REQUIRE_FILE(g);
    GgufFile f = GgufFile::open(g);
    Vocab a = Vocab::from_gguf(f);
    Vocab b = Vocab::from_gguf_ids_only(f);
    EXPECT_TRUE(b.can_tokenize()) << name;
    EXPECT_EQ(a.tokenize("Hello, world! 123", true), b.tokenize("Hello, world! 123", true)) << name;
    Vocab c = a;  // copies share the compiled pre-tokenizer
    EXPECT_EQ(c.tokenize("copy me", false), a.tokenize("copy me", false)) << name;
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(VocabBpeRoundTrip, VariedAndRandomText) {
  for (const char* name : kBpeVocabs) {
    SCOPED_TRACE(name);
    TANDEM_REQUIRE_FILE(vocab_ref(name));
    Vocab v = load_ref(name);
    VariedText gen(7);
    uint64_t state = 11;
    for (int i = 0; i < 1500; ++i) {
      std::string s = i % 3 == 2 ? random_utf8(state, 1 + size_t(i) % 60) : gen.line();
      auto ids = v.tokenize(s, false);
      for (int32_t id : ids) ASSERT_TRUE(v.valid(id));
      ASSERT_EQ(v.detokenize(ids), s) << "line " << i;
      ASSERT_EQ(v.detokenize(ids, true), s) << "line " << i;
    }
  }
}

TEST(VocabBpeRoundTrip, InvalidUtf8IsReadAsReplacementCharacters) {
  TANDEM_REQUIRE_FILE(vocab_ref("ggml-vocab-llama-bpe.gguf"));
  Vocab v = load_ref("ggml-vocab-llama-bpe.gguf");
  const std::string fffd = "\xEF\xBF\xBD";
  // A stray byte, a truncated sequence, a bad lead byte: U+FFFD each, as llama.cpp.
  EXPECT_EQ(v.tokenize("a\xFF" "b", false), v.tokenize("a" + fffd + "b", false));
  EXPECT_EQ(v.detokenize(v.tokenize("x\xE2\x96", false)), "x" + fffd + fffd);
  EXPECT_EQ(v.detokenize(v.tokenize("\x80\x80 hi", false)), fffd + fffd + " hi");
  // Overlong forms are read as their code point (llama.cpp's decoder does not reject them).
  EXPECT_EQ(v.tokenize("\xC1\x81", false), v.tokenize("A", false));
  // Surrogates are kept as their bytes.
  EXPECT_EQ(v.detokenize(v.tokenize("a\xED\xA0\x80z", false)), "a\xED\xA0\x80z");
  // Above U+10FFFF (llama.cpp throws there): U+FFFD.
  EXPECT_EQ(v.detokenize(v.tokenize("\xF4\x90\x80\x80", false)), fffd);
  // Any bytes tokenize to valid ids.
  uint64_t state = 5;
  for (int i = 0; i < 300; ++i) {
    std::string s;
    for (int k = 0; k < 1 + i % 30; ++k) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      s += char(state >> 56);
    }
    for (int32_t id : v.tokenize(s, false)) ASSERT_TRUE(v.valid(id));
  }
}

TEST(VocabBpeRoundTrip, PrepareTextNormalizesLikeLlamaCpp) {
  std::string norm, shadow;
  EXPECT_FALSE(prepare_bpe_text("plain \xC3\xA9 \xF0\x9F\xA6\x99", norm, shadow));  // valid: used as is
  ASSERT_TRUE(prepare_bpe_text("a\xC3", norm, shadow));
  EXPECT_EQ(norm, "a\xEF\xBF\xBD");
  EXPECT_TRUE(shadow.empty());
  ASSERT_TRUE(prepare_bpe_text("\xE0\x80\xAF|\xED\xBF\xBF", norm, shadow));
  EXPECT_EQ(norm, "/|\xED\xBF\xBF");        // overlong '/' re-encoded; surrogate kept
  EXPECT_EQ(shadow, "/|\xEE\x80\x80");      // the splitter reads a private-use stand-in
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers (the splits follow llama.cpp's splitter, see bpe_pretokenizer.h)

TEST(VocabBpePreTokenizer, Gpt2) {
  EXPECT_EQ(split(BpePreKind::Gpt2, "Hello world  foo\t\tbar 123 !!x's"),
            (Words{"Hello", " world", " ", " foo", "\t", "\t", "bar", " 123", " !!", "x", "'s"}));
  EXPECT_EQ(split(BpePreKind::Gpt2, "I'M here"), (Words{"I", "'", "M", " here"}));  // case-sensitive
  EXPECT_EQ(split(BpePreKind::Gpt2, "end   "), (Words{"end", "   "}));
  EXPECT_TRUE(split(BpePreKind::Gpt2, "").empty());
}

TEST(VocabBpePreTokenizer, Llama3AndQwen2) {
  const std::string text = "Hello world  foo\t\tbar 12345 !!\n\n x's I'M";
  EXPECT_EQ(split(BpePreKind::Llama3, text), (Words{"Hello", " world", " ", " foo", "\t", "\tbar", " ", "123", "45",
                                                    " !!\n\n", " x", "'s", " I", "'M"}));
  EXPECT_EQ(split(BpePreKind::Qwen2, text), (Words{"Hello", " world", " ", " foo", "\t", "\tbar", " ", "1", "2", "3",
                                                   "4", "5", " !!\n\n", " x", "'s", " I", "'M"}));
  // Newlines with the spaces around them: the run up to the last newline is one word.
  EXPECT_EQ(split(BpePreKind::Llama3, "a \n \n  b"), (Words{"a", " \n \n", " ", " b"}));
}

TEST(VocabBpePreTokenizer, StarcoderAndDefault) {
  EXPECT_EQ(split(BpePreKind::Starcoder, "abc123 def"), (Words{"abc", "1", "2", "3", " def"}));
  EXPECT_EQ(split(BpePreKind::Default, "Hello, world! 1234"), (Words{"Hello", ",", " world", "!", " ", "123", "4"}));
}

TEST(VocabBpePreTokenizer, WhitespaceIsUnicodeWhiteSpaceAsInLlamaCpp) {
  // U+0085 (NEL) is whitespace: " " then NEL on its own.
  EXPECT_EQ(split(BpePreKind::Gpt2, "a \xC2\x85" "b"), (Words{"a", " ", "\xC2\x85", "b"}));
  // U+180E (Mongolian vowel separator) is not, although PCRE2 10.42's \s matches it.
  EXPECT_EQ(split(BpePreKind::Gpt2, "a \xE1\xA0\x8E" "b"), (Words{"a", " \xE1\xA0\x8E", "b"}));
  // Nor are the ASCII separators 0x1C-0x1F.
  EXPECT_EQ(split(BpePreKind::Gpt2, "a \x1C" "b"), (Words{"a", " \x1C", "b"}));
  // U+3000 is; only ' ' joins the next word.
  EXPECT_EQ(split(BpePreKind::Gpt2, "a\xE3\x80\x80\xE3\x80\x80" "b"), (Words{"a", "\xE3\x80\x80", "\xE3\x80\x80", "b"}));
  EXPECT_EQ(split(BpePreKind::Llama3, "a\xE3\x80\x80\xE3\x80\x80" "b"), (Words{"a", "\xE3\x80\x80", "\xE3\x80\x80" "b"}));
}

TEST(VocabBpePreTokenizer, KnownNames) {
  EXPECT_EQ(bpe_pre_info("llama-bpe")->kind, BpePreKind::Llama3);
  EXPECT_TRUE(bpe_pre_info("llama-bpe")->ignore_merges);
  EXPECT_TRUE(bpe_pre_info("llama3")->add_bos);
  EXPECT_FALSE(bpe_pre_info("dbrx")->ignore_merges);
  EXPECT_EQ(bpe_pre_info("qwen2")->kind, BpePreKind::Qwen2);
  EXPECT_EQ(bpe_pre_info("gpt-2")->kind, BpePreKind::Gpt2);
  EXPECT_EQ(bpe_pre_info("smollm")->kind, BpePreKind::Starcoder);
  EXPECT_EQ(bpe_pre_info("default")->kind, BpePreKind::Default);
  EXPECT_EQ(bpe_pre_info("")->kind, BpePreKind::Default);
  EXPECT_FALSE(bpe_pre_info("no-such-pre").has_value());
  EXPECT_NE(bpe_supported_pres().find("llama-bpe"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Merge rules on crafted vocabularies

TEST(VocabBpeMerges, EarliestMergeFirstTiesLeftmost) {
  {
    MiniBpe m;
    int32_t a = m.id("a"), bc = m.add("bc");
    m.add("ab");
    m.merge("b", "c");  // rank 0 wins although "a b" is further left
    m.merge("a", "b");
    Vocab v = vocab_from(m.builder());
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{a, bc}));
    EXPECT_EQ(v.n_merges(), 2u);
  }
  {
    MiniBpe m;
    int32_t ab = m.add("ab"), c = m.id("c");
    m.add("bc");
    m.merge("a", "b");
    m.merge("b", "c");
    Vocab v = vocab_from(m.builder());
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{ab, c}));
  }
  {
    MiniBpe m;
    int32_t a = m.id("a"), aa = m.add("aa");
    m.merge("a", "a");
    Vocab v = vocab_from(m.builder());
    EXPECT_EQ(v.tokenize("aaa", false), (std::vector<int32_t>{aa, a}));  // leftmost pair first
    int32_t aaaa = m.add("aaaa");
    m.merge("aa", "aa");
    Vocab v2 = vocab_from(m.builder());
    EXPECT_EQ(v2.tokenize("aaaaa", false), (std::vector<int32_t>{aaaa, a}));
  }
  {
    // A repeated pair keeps its first rank: "b c" (rank 1) still beats the repeat of "a b".
    MiniBpe m;
    int32_t a = m.id("a"), bc = m.add("bc");
    m.add("ab");
    m.merge("x", "y");
    m.add("xy");
    m.merge("b", "c");
    m.merge("a", "b");
    m.merge("b", "c");
    Vocab v = vocab_from(m.builder());
    EXPECT_EQ(v.n_merges(), 3u);
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{a, bc}));
  }
}

TEST(VocabBpeMerges, WordsAreMergedSeparately) {
  MiniBpe m;
  int32_t sp_a = m.add(" a"), ab = m.add("ab"), b = m.id("b");
  m.merge(" ", "a");
  m.merge("a", "b");
  Vocab v = vocab_from(m.builder());
  // " ab" is one GPT-2 word: " a" (rank 0) then 'b' stays. "b ab": "b", " ab" the same way.
  EXPECT_EQ(v.tokenize(" ab", false), (std::vector<int32_t>{sp_a, b}));
  EXPECT_EQ(v.tokenize("ab", false), (std::vector<int32_t>{ab}));
  EXPECT_EQ(v.tokenize("b ab", false), (std::vector<int32_t>{b, sp_a, b}));
}

TEST(VocabBpeMerges, Llama3TakesWholeWordsThatAreTokens) {
  MiniBpe m;
  int32_t abc = m.add("abc"), ab = m.add("ab"), c = m.id("c");
  m.merge("a", "b");  // no merge leads to "abc"
  m.add("<|begin|>", 3, true);
  {
    Vocab v = vocab_from(m.builder());  // gpt-2: merges only
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{ab, c}));
  }
  m.pre = "llama-bpe";
  GgufBuilder b = m.builder();
  b.u32("tokenizer.ggml.bos_token_id", uint32_t(m.tokens.size() - 1));
  Vocab v = vocab_from(b);
  EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{abc}));
  EXPECT_TRUE(v.add_bos());  // Llama 3's default
  EXPECT_EQ(v.tokenize("abc", true), (std::vector<int32_t>{v.bos(), abc}));
  b.boolean("tokenizer.ggml.add_bos_token", false);  // the file's flag wins
  EXPECT_FALSE(vocab_from(b).add_bos());
}

TEST(VocabBpeMerges, ByteWithoutATokenIsDroppedAsInLlamaCpp) {
  MiniBpe m;
  m.tokens[size_t('z')] = "[NOT z]";  // the vocabulary lacks 'z'
  Vocab v = vocab_from(m.builder());
  // llama.cpp looks up the single bytes of the missing symbol's spelling ("z"): nothing, so the
  // byte produces no token at all.
  EXPECT_EQ(v.tokenize("aza", false), (std::vector<int32_t>{m.id("a"), m.id("a")}));
}

TEST(VocabBpeMerges, SpecialAndUserDefinedTokens) {
  MiniBpe m;
  int32_t ctl = m.add("<|ctl|>", 3, true);
  int32_t user = m.add("<us er>", 4, true);  // user-defined texts are raw, spaces and all
  int32_t sp_h = m.add(" h");
  m.merge(" ", "h");
  Vocab v = vocab_from(m.builder());
  EXPECT_EQ(v.tokenize("a<us er> h", false), (std::vector<int32_t>{m.id("a"), user, sp_h}));
  EXPECT_EQ(v.detokenize(v.tokenize("a<us er> h", false)), "a<us er> h");
  EXPECT_EQ(v.tokenize("<|ctl|>", false, true), (std::vector<int32_t>{ctl}));
  auto plain = v.tokenize("<|ctl|>", false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), ctl), 0);
  EXPECT_EQ(v.detokenize(plain), "<|ctl|>");
  EXPECT_EQ(v.token_to_piece(ctl), "");
  EXPECT_EQ(v.token_to_piece(user), "<us er>");
}

TEST(VocabBpeMerges, DefaultSpecialTokensAreLlamaCpps) {
  MiniBpe m;
  Vocab v = vocab_from(m.builder());
  EXPECT_EQ(v.bos(), 11);  // llama.cpp's defaults for BPE when the file names none
  EXPECT_EQ(v.eos(), 11);
  EXPECT_EQ(v.unk(), -1);
  EXPECT_FALSE(v.add_bos());
}

// ---------------------------------------------------------------------------------------------
// Bad metadata

TEST(VocabBpeMetadata, RejectsBadMerges) {
  {
    MiniBpe m;
    expect_error(m.builder(false), "tokenizer.ggml.merges is missing");
  }
  {
    MiniBpe m;
    m.merges = {"ab"};
    expect_error(m.builder(), "tokenizer.ggml.merges[0] = 'ab' is not two token texts separated by a space");
  }
  {
    MiniBpe m;
    m.merges = {"a "};
    expect_error(m.builder(), "is not two token texts");
  }
  {
    MiniBpe m;
    m.add("ab");
    m.merges = {"a b", "a qq"};
    expect_error(m.builder(), "tokenizer.ggml.merges[1] = 'a qq' names 'qq', which is not a token");
  }
  {
    MiniBpe m;
    m.merges = {"a c"};
    expect_error(m.builder(), "merges into 'ac', which is not a token");
  }
  {
    MiniBpe m;
    GgufBuilder b = m.builder(false);
    b.i32s("tokenizer.ggml.merges", {1, 2});
    expect_error(b, "tokenizer.ggml.merges");
  }
  {
    MiniBpe m;
    m.pre = "no-such-pre";
    expect_error(m.builder(), "unknown BPE pre-tokenizer 'no-such-pre' (tokenizer.ggml.pre)");
  }
}

TEST(VocabBpeMetadata, IdsOnlyLoadsDespiteBadMerges) {
  MiniBpe m;
  m.merges = {"a zz"};
  auto bytes = m.builder().bytes();
  GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_THROW(Vocab::from_gguf(f), Error);
  Vocab v = Vocab::from_gguf_ids_only(f);
  EXPECT_FALSE(v.can_tokenize());
  EXPECT_EQ(v.detokenize(std::vector<int32_t>{m.id("h"), m.id("i")}), "hi");
  try {
    v.tokenize("hi", false);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'zz', which is not a token"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Long inputs

TEST(VocabBpeLong, MegabyteOfTextAndPathologicalRuns) {
  const std::string corpus = shared_dir() + "/reference/corpus/stories260K-samples.txt";
  TANDEM_REQUIRE_FILE(corpus);
  std::string big;
  {
    const std::string text = read_text(corpus);
    VariedText gen(3);
    while (big.size() < 1000000) {
      big += text;
      for (int i = 0; i < 200; ++i) big += gen.line() + "\n";
    }
  }
  const std::vector<std::string> runs = {std::string(1000000, ' '), std::string(300000, 'a'),
                                         std::string(100000, '7'), std::string(100000, '!'),
                                         std::string(200000, '\n')};
  std::string cjk;
  for (int i = 0; i < 50000; ++i) cjk += (i % 2) ? "\xE4\xBD\xA0" : "\xE5\xA5\xBD";  // one long \p{L}+ word
  for (const char* name : kBpeVocabs) {
    SCOPED_TRACE(name);
    TANDEM_REQUIRE_FILE(vocab_ref(name));
    Vocab v = load_ref(name);
    auto t0 = std::chrono::steady_clock::now();
    auto ids = v.tokenize(big, false);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %.2f MB in %.3f s (%zu tokens)\n", name, big.size() / 1e6, secs, ids.size());
    EXPECT_LT(secs, 20.0);  // a generous bound: quadratic behaviour would take far longer
    EXPECT_EQ(v.detokenize(ids), big);
    for (const std::string& s : {runs[0], runs[1], runs[2], runs[3], runs[4], cjk}) {
      t0 = std::chrono::steady_clock::now();
      auto r = v.tokenize(s, false);
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_LT(secs, 20.0) << s.substr(0, 3);
      EXPECT_EQ(v.detokenize(r), s);
    }
  }
}

// The fuzz seed with a BPE vocabulary (fuzz/make_seeds.py) must load as one, so that the fuzzer
// reaches the BPE tokenizer.
TEST(VocabBpeMetadata, FuzzSeedReachesBpe) {
  const std::string seed = source_dir() + "/fuzz/corpus/gguf/tiny-bpe-q8_0.gguf";
  TANDEM_REQUIRE_FILE(seed);
  GgufFile f = GgufFile::open(seed);
  Vocab v = Vocab::from_gguf(f);
  EXPECT_EQ(v.model(), Vocab::Model::Gpt2Bpe);
  EXPECT_EQ(v.pre_name(), "llama-bpe");
  EXPECT_EQ(v.n_merges(), 16u);  // 11 listed pairs and 5 that build the multi-byte characters
  const std::string text(*f.opt_string("fuzz.text"));
  auto ids = v.tokenize(text, false);
  EXPECT_LT(ids.size(), text.size());  // some merges apply
  EXPECT_EQ(v.detokenize(ids), text);  // control tokens are plain text without parse_special
  auto special = v.tokenize(text, false, true);
  EXPECT_NE(std::find(special.begin(), special.end(), v.find_token("<|end|>")), special.end());
}
