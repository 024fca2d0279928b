// SPM tokenizer tests against references no one here wrote: llama.cpp's prompt tokens and
// detokenized text for the stories260K models, and llama.cpp's tokenizer test cases for the
// Llama 2 (llama-spm) and Phi-3 vocabularies.
#include <algorithm>
#include <chrono>
#include <limits>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "test_util.h"
#include "vocab_test_util.h"

using namespace tandem;
using nlohmann::json;
using namespace tandem::test;

namespace {

// U+2581 -> ' '
std::string spaces(const std::string& t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, "\xE2\x96\x81") == 0) {
      out += ' ';
      i += 2;
    } else {
      out += t[i];
    }
  }
  return out;
}

// A small SPM vocabulary: <unk> <s> </s>, optionally the 256 byte tokens, then `pieces` with
// their scores (type normal unless given).
struct MiniVocab {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  explicit MiniVocab(bool bytes = true) {
    if (bytes)
      for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        add(buf, 0, 6);
      }
  }
  int32_t add(const std::string& t, float score, int32_t type = 1) {
    tokens.push_back(t);
    scores.push_back(score);
    types.push_back(type);
    return int32_t(tokens.size() - 1);
  }
  GgufBuilder builder() const {
    GgufBuilder b;
    b.str("general.architecture", "llama");
    b.str("tokenizer.ggml.model", "llama");
    b.strs("tokenizer.ggml.tokens", tokens);
    b.f32s("tokenizer.ggml.scores", scores);
    b.i32s("tokenizer.ggml.token_type", types);
    return b;
  }
};

// Deterministic pseudo-random text: ASCII (with spaces, tabs, newlines), 2-, 3- and 4-byte
// UTF-8 characters. U+2581 is left out: it comes back as a space (see the test below).
std::string random_text(uint64_t& state, size_t n_chars) {
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) s += char(cp);
    else if (cp < 0x800) { s += char(0xC0 | (cp >> 6)); s += char(0x80 | (cp & 0x3F)); }
    else if (cp < 0x10000) { s += char(0xE0 | (cp >> 12)); s += char(0x80 | ((cp >> 6) & 0x3F)); s += char(0x80 | (cp & 0x3F)); }
    else { s += char(0xF0 | (cp >> 18)); s += char(0x80 | ((cp >> 12) & 0x3F)); s += char(0x80 | ((cp >> 6) & 0x3F)); s += char(0x80 | (cp & 0x3F)); }
    return s;
  };
  static const char* words[] = {"the", "Hello", "world", "tokenizer", "I'm", "don't", "3.14", "(x)", "  ", "\n\n"};
  std::string out;
  for (size_t i = 0; i < n_chars; ++i) {
    uint32_t r = next() % 100;
    uint32_t cp;
    if (r < 45) cp = 0x20 + next() % 95;               // printable ASCII
    else if (r < 55) cp = " \t\n"[next() % 3];          // whitespace
    else if (r < 65) { out += words[next() % 10]; continue; }
    else if (r < 78) cp = 0xA0 + next() % (0x800 - 0xA0);   // 2-byte
    else if (r < 92) {                                       // 3-byte, no surrogates, no U+2581
      do cp = 0x800 + next() % (0x10000 - 0x800); while ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2581);
    } else cp = 0x10000 + next() % (0x110000 - 0x10000);     // 4-byte
    out += utf8(cp);
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// References

TEST(VocabStories, MatchesLlamaCppPromptTokensAndText) {
  for (const char* type : {"f32", "f16", "q8_0", "q4_0"}) {
    SCOPED_TRACE(type);
    std::string model = test::model_path(std::string("stories260K-") + type + ".gguf");
    std::string ref = test::shared_dir() + "/reference/llamacpp/greedy-stories260K-" + type + ".jsonl";
    TANDEM_REQUIRE_FILE(model);
    TANDEM_REQUIRE_FILE(ref);
    GgufFile f = GgufFile::open(model);
    Vocab v = Vocab::from_gguf(f);
    EXPECT_EQ(v.n_tokens(), 512);
    EXPECT_EQ(v.bos(), 1);
    EXPECT_EQ(v.eos(), 2);
    EXPECT_EQ(v.unk(), 0);
    EXPECT_TRUE(v.add_bos());
    EXPECT_TRUE(v.add_space_prefix());
    std::ifstream in(ref);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json j = json::parse(line);
      std::string prompt = j["prompt"];
      auto expected = j["prompt_tokens"].get<std::vector<int32_t>>();
      EXPECT_EQ(v.tokenize(prompt, true), expected) << "prompt '" << prompt << "'";
      auto toks = j["tokens"].get<std::vector<int32_t>>();
      EXPECT_EQ(v.detokenize(toks), j["text"].get<std::string>()) << "prompt '" << prompt << "'";
      ++n;
    }
    EXPECT_EQ(n, 6);
  }
}

TEST(VocabLlamaSpm, MatchesLlamaCppTokenizerTests) { check_reference_cases("ggml-vocab-llama-spm.gguf"); }

// Phi-3 is also an SPM vocabulary (with user-defined tokens such as <|user|>); same cases.
TEST(VocabPhi3, MatchesLlamaCppTokenizerTests) { check_reference_cases("ggml-vocab-phi-3.gguf"); }

TEST(VocabLlamaSpm, PropertiesAndPieces) {
  const std::string g = vocab_ref("ggml-vocab-llama-spm.gguf");
  TANDEM_REQUIRE_FILE(g);
  Vocab v = Vocab::from_gguf(GgufFile::open(g));
  EXPECT_EQ(v.n_tokens(), 32000);
  EXPECT_EQ(v.bos(), 1);
  EXPECT_EQ(v.eos(), 2);
  EXPECT_EQ(v.unk(), 0);
  EXPECT_EQ(v.eot(), -1);
  EXPECT_TRUE(v.is_eog(2));
  EXPECT_FALSE(v.is_eog(1));
  EXPECT_EQ(v.attr(0), TokenAttr::Unknown);
  EXPECT_EQ(v.attr(1), TokenAttr::Control);
  EXPECT_EQ(v.attr(13), TokenAttr::Byte);
  EXPECT_EQ(v.attr(15043), TokenAttr::Normal);
  EXPECT_EQ(v.token_text(15043), "\xE2\x96\x81Hello");
  EXPECT_EQ(v.token_to_piece(15043), " Hello");
  EXPECT_EQ(v.token_to_piece(13), "\n");
  EXPECT_EQ(v.token_to_piece(0), "");  // unknown
  EXPECT_EQ(v.token_to_piece(1), "");  // control
  EXPECT_EQ(v.byte_token(0x0A), 13);
  EXPECT_EQ(v.find_token("\xE2\x96\x81Hello"), 15043);
  EXPECT_EQ(v.find_token("no such token"), -1);
  EXPECT_THROW(v.token_to_piece(32000), Error);
  EXPECT_THROW(v.token_to_piece(-1), Error);

  EXPECT_EQ(v.tokenize("", true), std::vector<int32_t>{1});
  EXPECT_TRUE(v.tokenize("", false).empty());
  EXPECT_EQ(v.tokenize("Hello world", true), (std::vector<int32_t>{1, 15043, 3186}));
  // Text that spells a control token is plain text unless parse_special.
  auto plain = v.tokenize("<s>", false);
  EXPECT_GT(plain.size(), 1u);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  EXPECT_EQ(v.detokenize(plain, true), "<s>");
  EXPECT_EQ(v.tokenize("<s>", false, true), (std::vector<int32_t>{1}));
  // After a special token the text gets the prefix space again.
  std::vector<int32_t> expected = v.tokenize("a", false);
  expected.push_back(2);
  for (int32_t id : v.tokenize("b", false)) expected.push_back(id);
  EXPECT_EQ(v.tokenize("a</s>b", false, true), expected);
  // With BOS: the BOS piece is empty and the prefix space stays, as with llama.cpp.
  auto ids = v.tokenize("Hello world", true);
  EXPECT_EQ(v.detokenize(ids), " Hello world");
  EXPECT_EQ(v.detokenize(ids, true), " Hello world");
  ids = v.tokenize("Hello world", false);
  EXPECT_EQ(v.detokenize(ids), " Hello world");
  EXPECT_EQ(v.detokenize(ids, true), "Hello world");
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(VocabLlamaSpm, RoundTripsRandomText) {
  const std::string g = vocab_ref("ggml-vocab-llama-spm.gguf");
  TANDEM_REQUIRE_FILE(g);
  Vocab v = Vocab::from_gguf(GgufFile::open(g));
  uint64_t state = 12345;
  for (int iter = 0; iter < 300; ++iter) {
    std::string s = random_text(state, 1 + iter % 97);
    auto ids = v.tokenize(s, false);
    for (int32_t id : ids) ASSERT_TRUE(v.valid(id));
    // Concatenated pieces: the prefix space llama.cpp adds is there; llama_detokenize drops it.
    ASSERT_EQ(v.detokenize(ids), " " + s) << "iteration " << iter;
    ASSERT_EQ(v.detokenize(ids, true), s) << "iteration " << iter;
    auto with_bos = v.tokenize(s, true);
    ASSERT_EQ(with_bos.size(), ids.size() + 1);
    EXPECT_EQ(with_bos[0], 1);
    EXPECT_EQ(v.detokenize(with_bos), " " + s);
  }
}

TEST(VocabLlamaSpm, RoundTripsInvalidUtf8Bytes) {
  const std::string g = vocab_ref("ggml-vocab-llama-spm.gguf");
  TANDEM_REQUIRE_FILE(g);
  Vocab v = Vocab::from_gguf(GgufFile::open(g));
  uint64_t state = 99;
  for (int iter = 0; iter < 200; ++iter) {
    std::string s;
    size_t n = 1 + iter % 40;
    for (size_t i = 0; i < n; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      s += char(state >> 56);
    }
    auto ids = v.tokenize(s, false);
    for (int32_t id : ids) ASSERT_TRUE(v.valid(id));
    // Every byte comes back, up to spaces vs U+2581: the space symbol is 3 bytes once escaped,
    // and an invalid lead byte just before it can swallow part of it (llama.cpp splits by lead
    // byte), so those bytes come back through byte tokens as U+2581 rather than as a space.
    ASSERT_EQ(spaces(v.detokenize(ids)), spaces(" " + s)) << "iteration " << iter;
  }
  // A truncated sequence takes the bytes that its lead byte announces (llama.cpp's rule), so the
  // 'A' after "\xE2\x96" is a byte token rather than the letter token.
  auto ids = v.tokenize("\xE2\x96" "A", false);
  EXPECT_EQ(ids, (std::vector<int32_t>{29871, v.byte_token(0xE2), v.byte_token(0x96), v.byte_token('A')}));
  // A stray continuation byte is one symbol.
  ids = v.tokenize("\x80" "A", false);
  EXPECT_EQ(ids, (std::vector<int32_t>{29871, v.byte_token(0x80), v.find_token("A")}));
  // An invalid lead byte before a space takes the first byte of the escaped space with it.
  ids = v.tokenize("\xC3 x", false);
  EXPECT_EQ(v.detokenize(ids), " \xC3\xE2\x96\x81x");
}

TEST(VocabLlamaSpm, LiteralSpaceSymbolBecomesSpace) {
  const std::string g = vocab_ref("ggml-vocab-llama-spm.gguf");
  TANDEM_REQUIRE_FILE(g);
  Vocab v = Vocab::from_gguf(GgufFile::open(g));
  EXPECT_EQ(v.tokenize("a\xE2\x96\x81" "b", false), v.tokenize("a b", false));
  EXPECT_EQ(v.detokenize(v.tokenize("a\xE2\x96\x81" "b", false), true), "a b");
}

TEST(VocabLlamaSpm, LongTextIsFastAndRoundTrips) {
  const std::string g = vocab_ref("ggml-vocab-llama-spm.gguf");
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  TANDEM_REQUIRE_FILE(g);
  TANDEM_REQUIRE_FILE(corpus);
  Vocab v = Vocab::from_gguf(GgufFile::open(g));
  std::string text = read_text(corpus);
  ASSERT_GT(text.size(), 10000u);
  std::string big;
  while (big.size() < 1000000) big += text;  // about 1 MB in one piece
  std::string one_word(200000, 'a');          // one long symbol chain, no spaces
  auto t0 = std::chrono::steady_clock::now();
  auto ids = v.tokenize(big, true);
  auto ids2 = v.tokenize(one_word, false);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, 20.0) << "tokenizing 1.2 MB took " << secs << " s";  // quadratic would take hours
  EXPECT_EQ(v.detokenize(ids), " " + big);
  EXPECT_EQ(v.detokenize(ids2, true), one_word);
  EXPECT_LT(ids.size(), big.size() / 2);
}

TEST(VocabStories, CorpusRoundTrips) {
  std::string model = test::model_path("stories260K-f32.gguf");
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  TANDEM_REQUIRE_FILE(model);
  TANDEM_REQUIRE_FILE(corpus);
  Vocab v = Vocab::from_gguf(GgufFile::open(model));
  std::string text = read_text(corpus);
  auto ids = v.tokenize(text, true);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(v.detokenize(ids), " " + text);
}

// ---------------------------------------------------------------------------------------------
// Merge rules on a crafted vocabulary

TEST(VocabMerges, HighestScoreFirstTiesLeftmost) {
  {
    MiniVocab m;
    int32_t a = m.add("a", -1), b = m.add("b", -1), c = m.add("c", -1);
    int32_t ab = m.add("ab", -2), bc = m.add("bc", -2);
    m.add("\xE2\x96\x81", -1);
    GgufBuilder gb = m.builder();
    gb.boolean("tokenizer.ggml.add_space_prefix", false);
    Vocab v = vocab_from(gb);
    EXPECT_FALSE(v.add_space_prefix());
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{ab, c}));  // equal scores: leftmost
    (void)a; (void)b; (void)bc;
  }
  {
    MiniVocab m;
    m.add("a", -1);
    m.add("b", -1);
    m.add("c", -1);
    m.add("ab", -3);
    int32_t a = 3 + 256, bc = m.add("bc", -2);
    GgufBuilder gb = m.builder();
    gb.boolean("tokenizer.ggml.add_space_prefix", false);
    Vocab v = vocab_from(gb);
    EXPECT_EQ(v.tokenize("abc", false), (std::vector<int32_t>{a, bc}));  // higher score wins
  }
  {
    // Only merges whose result is in the vocabulary; "abcd" needs "ab"+"cd" -> "abcd".
    MiniVocab m;
    for (const char* t : {"a", "b", "c", "d"}) m.add(t, -1);
    m.add("ab", -2);
    m.add("cd", -3);
    int32_t abcd = m.add("abcd", -10);
    m.add("bc", -1.5f);  // better than both, but "a"+"bc" and "bc"+"d" lead nowhere
    GgufBuilder gb = m.builder();
    gb.boolean("tokenizer.ggml.add_space_prefix", false);
    Vocab v = vocab_from(gb);
    // bc merges first (score -1.5), leaving a|bc|d: no "abc" or "bcd" token, so it stays.
    auto ids = v.tokenize("abcd", false);
    EXPECT_EQ(v.detokenize(ids), "abcd");
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_NE(ids[0], abcd);
  }
}

TEST(VocabMerges, UnknownCharactersFallBackToBytesOrUnk) {
  MiniVocab m;
  int32_t sp = m.add("\xE2\x96\x81", -1);
  int32_t x = m.add("x", -1);
  Vocab v = vocab_from(m.builder());
  // "é" is not a token: its two bytes.
  EXPECT_EQ(v.tokenize("x\xC3\xA9", false), (std::vector<int32_t>{sp, x, 3 + 0xC3, 3 + 0xA9}));

  // Without byte tokens, the one-character token or else <unk>.
  MiniVocab nb(false);
  int32_t sp2 = nb.add("\xE2\x96\x81", -1);
  int32_t x2 = nb.add("x", -1);
  int32_t tab = nb.add("\t", -1);  // a raw one-byte token serves as the byte's fallback
  Vocab v2 = vocab_from(nb.builder());
  EXPECT_EQ(v2.byte_token('\t'), tab);
  EXPECT_EQ(v2.byte_token(0xC3), -1);
  EXPECT_EQ(v2.tokenize("x\xC3\xA9", false), (std::vector<int32_t>{sp2, x2, 0, 0}));

  // And with no unknown token either: a clear error rather than a crash.
  GgufBuilder gb = nb.builder();
  gb.u32("tokenizer.ggml.unknown_token_id", 0xFFFFFFFFu);
  Vocab v3 = vocab_from(gb);
  EXPECT_EQ(v3.unk(), -1);
  EXPECT_EQ(v3.tokenize("x", false), (std::vector<int32_t>{sp2, x2}));
  try {
    v3.tokenize("x\xC3\xA9", false);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0xC3"), std::string::npos) << e.what();
  }
}

TEST(VocabMerges, UserDefinedTokensAreMatchedVerbatim) {
  MiniVocab m;
  int32_t sp = m.add("\xE2\x96\x81", -1);
  for (const char* t : {"h", "i", "t", "e", "r", "<", ">", "|", "u", "s"}) m.add(t, -1);
  m.add("\xE2\x96\x81h", -1.5f);
  int32_t hi = m.add("\xE2\x96\x81hi", -2);
  int32_t user = m.add("<|user|>", 0, 4);
  int32_t ctrl = m.add("<|ctl|>", 0, 3);
  Vocab v = vocab_from(m.builder());
  auto ids = v.tokenize("hi<|user|>hi", false);
  // After a special token the next text gets the prefix space again.
  EXPECT_EQ(ids, (std::vector<int32_t>{hi, user, hi}));
  EXPECT_EQ(v.detokenize(ids), " hi<|user|> hi");
  ids = v.tokenize("<|user|>", true);
  EXPECT_EQ(ids, (std::vector<int32_t>{1, user}));
  // Control tokens are only matched with parse_special.
  EXPECT_EQ(v.tokenize("<|ctl|>", false, true), (std::vector<int32_t>{ctrl}));
  EXPECT_NE(v.tokenize("<|ctl|>", false), (std::vector<int32_t>{ctrl}));
  (void)sp;
}

// ---------------------------------------------------------------------------------------------
// Bad metadata

TEST(VocabMetadata, RejectsMismatchedArrayLengths) {
  MiniVocab m;
  m.add("a", -1);
  {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "llama");
    b.strs("tokenizer.ggml.tokens", m.tokens);
    b.f32s("tokenizer.ggml.scores", std::vector<float>(m.scores.begin(), m.scores.end() - 1));
    b.i32s("tokenizer.ggml.token_type", m.types);
    expect_error(b, "tokenizer.ggml.scores has 259 entries but tokenizer.ggml.tokens has 260");
  }
  {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "llama");
    b.strs("tokenizer.ggml.tokens", m.tokens);
    b.f32s("tokenizer.ggml.scores", m.scores);
    auto types = m.types;
    types.push_back(1);
    b.i32s("tokenizer.ggml.token_type", types);
    expect_error(b, "tokenizer.ggml.token_type has 261 entries");
  }
  {
    GgufBuilder b;  // scores stored as integers
    b.str("tokenizer.ggml.model", "llama");
    b.strs("tokenizer.ggml.tokens", m.tokens);
    b.i32s("tokenizer.ggml.scores", m.types);
    expect_error(b, "tokenizer.ggml.scores");
  }
}

TEST(VocabMetadata, RejectsBadSpecialTokenIds) {
  MiniVocab m;
  {
    GgufBuilder b = m.builder();
    b.u32("tokenizer.ggml.bos_token_id", 259);
    expect_error(b, "tokenizer.ggml.bos_token_id = 259 is out of range");
  }
  {
    GgufBuilder b = m.builder();
    b.i32("tokenizer.ggml.eos_token_id", -7);
    expect_error(b, "tokenizer.ggml.eos_token_id = -7 is out of range");
  }
  {
    GgufBuilder b = m.builder();
    b.u32("tokenizer.ggml.unknown_token_id", 100000);
    expect_error(b, "unknown_token_id");
  }
  {
    GgufBuilder b = m.builder();
    b.str("tokenizer.ggml.bos_token_id", "1");
    expect_error(b, "bos_token_id");
  }
  {
    // 0xFFFFFFFF means "none"; BOS cannot be both absent and required.
    GgufBuilder b = m.builder();
    b.u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu);
    expect_error(b, "add_bos_token is true but the vocabulary has no BOS");
    b.boolean("tokenizer.ggml.add_bos_token", false);
    Vocab v = vocab_from(b);
    EXPECT_EQ(v.bos(), -1);
    EXPECT_FALSE(v.add_bos());
    EXPECT_TRUE(v.tokenize("", true).empty());
  }
  {
    // Defaults when the file names none: llama.cpp's SPM defaults 1, 2, 0.
    Vocab v = vocab_from(m.builder());
    EXPECT_EQ(v.bos(), 1);
    EXPECT_EQ(v.eos(), 2);
    EXPECT_EQ(v.unk(), 0);
  }
}

TEST(VocabMetadata, RejectsOtherBadData) {
  {
    MiniVocab m;
    m.types[5] = 9;
    expect_error(m.builder(), "tokenizer.ggml.token_type[5] = 9");
  }
  {
    MiniVocab m;
    m.tokens[4] = "<0xZZ>";
    expect_error(m.builder(), "not of the form <0xXX>");
  }
  {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "llama");
    expect_error(b, "tokenizer.ggml.tokens");
  }
  {
    GgufBuilder b;
    b.str("general.architecture", "llama");
    expect_error(b, "tokenizer.ggml.model is missing");
  }
  {
    GgufBuilder b;
    b.str("tokenizer.ggml.model", "llama");
    b.strs("tokenizer.ggml.tokens", {});
    expect_error(b, "empty");
  }
  {
    MiniVocab m;
    m.scores[7] = std::numeric_limits<float>::quiet_NaN();
    expect_error(m.builder(), "NaN");
  }
}

TEST(VocabMetadata, OtherTokenizerModelsLoadForIdsOnly) {
  GgufBuilder b;
  b.str("tokenizer.ggml.model", "bert");  // WordPiece: not supported
  b.strs("tokenizer.ggml.tokens", {"[PAD]", "hello", "##s", "[SEP]"});
  b.i32s("tokenizer.ggml.token_type", {3, 1, 1, 3});
  b.u32("tokenizer.ggml.eos_token_id", 3);
  auto bytes = b.bytes();
  GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  try {
    Vocab::from_gguf(f);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bert' is not supported"), std::string::npos) << e.what();
  }
  Vocab v = Vocab::from_gguf_ids_only(f);
  EXPECT_EQ(v.n_tokens(), 4);
  EXPECT_FALSE(v.can_tokenize());
  EXPECT_EQ(v.model(), Vocab::Model::Other);
  EXPECT_EQ(v.eos(), 3);
  EXPECT_TRUE(v.is_eog(3));
  EXPECT_EQ(v.detokenize(std::vector<int32_t>{1, 2, 3}), "hello##s");
  try {
    v.tokenize("hello", true);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bert' is not supported"), std::string::npos) << e.what();
  }
}
