// Helpers shared by the tokenizer tests: llama.cpp's tokenizer test files, a byte-level GGUF
// writer for crafted vocabularies, and expectation helpers.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/vocab.h"
#include "format/error.h"
#include "format/gguf.h"
#include "test_util.h"

namespace tandem::test {

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline std::string vocab_ref(const std::string& name) { return shared_dir() + "/reference/vocab/" + name; }

// Inputs of llama.cpp's tokenizer tests: each input is followed by "\n__ggml_vocab_test__\n"
// (the separator line plus the newline ending the input before it), so an input may be empty
// or consist of newlines only, and the file ends with a separator.
inline std::vector<std::string> read_inputs(const std::string& path) {
  const std::string text = read_text(path);
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t m = text.find(sep, pos);
    if (m == std::string::npos) {
      ADD_FAILURE() << "trailing text without a separator in " << path;
      break;
    }
    out.push_back(text.substr(pos, m - pos));
    pos = m + sep.size();
  }
  return out;
}

inline std::vector<std::vector<int32_t>> read_outputs(const std::string& path) {
  std::istringstream in(read_text(path));
  std::vector<std::vector<int32_t>> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ls >> id) ids.push_back(id);
    out.push_back(ids);
  }
  return out;
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

inline void check_reference_cases(const std::string& gguf_name) {
  const std::string g = vocab_ref(gguf_name);
  TANDEM_REQUIRE_FILE(g);
  GgufFile f = GgufFile::open(g);
  Vocab v = Vocab::from_gguf(f);
  auto inputs = read_inputs(g + ".inp");
  auto outputs = read_outputs(g + ".out");
  ASSERT_EQ(inputs.size(), 46u);
  ASSERT_EQ(inputs.size(), outputs.size());
  int failed = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto got = v.tokenize(inputs[i], false);
    if (got != outputs[i]) {
      ++failed;
      ADD_FAILURE() << gguf_name << " case " << i << " input '" << inputs[i] << "'\n expected" << ids_str(outputs[i])
                    << "\n got     " << ids_str(got);
    }
    // llama.cpp's detokenizer gives the input back (no special tokens in these inputs).
    EXPECT_EQ(v.detokenize(got, true), inputs[i]) << "case " << i;
  }
  EXPECT_EQ(failed, 0);
}

// A GGUF file of metadata only, written byte by byte as the spec says.
class GgufBuilder {
 public:
  void str(const std::string& key, const std::string& v) { head(key, 8); s(v); }
  void u32(const std::string& key, uint32_t v) { head(key, 4); put(v); }
  void i32(const std::string& key, int32_t v) { head(key, 5); put(v); }
  void boolean(const std::string& key, bool v) { head(key, 7); buf_.push_back(v ? 1 : 0); }
  void strs(const std::string& key, const std::vector<std::string>& v) {
    head(key, 9); put(uint32_t(8)); put(uint64_t(v.size()));
    for (const auto& x : v) s(x);
  }
  void f32s(const std::string& key, const std::vector<float>& v) {
    head(key, 9); put(uint32_t(6)); put(uint64_t(v.size()));
    for (float x : v) put(x);
  }
  void i32s(const std::string& key, const std::vector<int32_t>& v) {
    head(key, 9); put(uint32_t(5)); put(uint64_t(v.size()));
    for (int32_t x : v) put(x);
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
    auto app = [&](auto x) {
      uint8_t b[sizeof x];
      std::memcpy(b, &x, sizeof x);
      out.insert(out.end(), b, b + sizeof x);
    };
    app(uint32_t(3));
    app(uint64_t(0));
    app(uint64_t(n_));
    out.insert(out.end(), buf_.begin(), buf_.end());
    return out;
  }

 private:
  template <class T>
  void put(T x) {
    uint8_t b[sizeof x];
    std::memcpy(b, &x, sizeof x);
    buf_.insert(buf_.end(), b, b + sizeof x);
  }
  void s(const std::string& x) {
    put(uint64_t(x.size()));
    buf_.insert(buf_.end(), x.begin(), x.end());
  }
  void head(const std::string& key, uint32_t type) {
    ++n_;
    s(key);
    put(type);
  }
  std::vector<uint8_t> buf_;
  uint64_t n_ = 0;
};

inline Vocab vocab_from(const GgufBuilder& b) {
  auto bytes = b.bytes();
  GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  return Vocab::from_gguf(f);  // the Vocab owns its data: the bytes may go
}

inline void expect_error(const GgufBuilder& b, const std::string& needle) {
  auto bytes = b.bytes();
  try {
    GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
    Vocab::from_gguf(f);
    ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// Deterministic varied text, one line per call: ASCII words and punctuation, digits, runs of
// spaces and tabs, accented Latin (precomposed and combining), Cyrillic, Greek, Arabic, Hebrew,
// Devanagari, CJK, Hangul, emoji (with ZWJ sequences, skin tones, flags), and mixtures.
class VariedText {
 public:
  explicit VariedText(uint64_t seed) : state_(seed) {}
  uint32_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state_ >> 33);
  }
  std::string line() {
    static const std::vector<std::vector<std::string>> pools = {
        {"the", "Hello", "world", "tokenizer", "I'm", "don't", "we'll", "they've", "She'd", "IT'S", "you're",
         "HTTP", "camelCase", "snake_case", "x", "a", "Zebra", "quickly"},
        {".", ",", "!", "?", "...", "--", "(", ")", "[", "]", "{", "}", "\"", "'", ";", ":", "-", "+", "=",
         "*", "/", "<", ">", "&", "|", "~", "`", "@", "#", "$", "%", "^", "_"},
        {"0", "7", "42", "314", "2024", "1234567", "3.14159", "1,000", "0x1F", "99.9%", "١٢٣", "٣"},
        {" ", "  ", "   ", "\t", "\t\t", " \t ", "    ", "\xC2\xA0", "\xE3\x80\x80"},
        {"caf\xC3\xA9", "na\xC3\xAFve", "\xC3\x84pfel", "Stra\xC3\x9F" "e", "cre\xCC\x81me",  // é, ï, Ä, ß, e+◌́
         "\xC3\xA5ngstr\xC3\xB6m", "Cử" "a Việt", "\xC5\x81\xC3\xB3" "d\xC5\xBA", "fa\xC3\xA7" "ade"},
        {"\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", "\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0",
         "\xCE\xB1\xCE\xB2\xCE\xB3", "\xCE\x9A\xCF\x8C\xCF\x83\xCE\xBC\xCE\xB5"},
        {"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7", "\xD8\xA7\xD9\x84\xD8\xB9\xD8\xB1\xD8\xA8\xD9\x8A\xD8\xA9",
         "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87"},
        {"\xE4\xBD\xA0\xE5\xA5\xBD", "\xE6\x88\x91\xE6\x83\xB3\xE5\x9C\xA8", "\xE4\xB8\x96\xE7\x95\x8C",
         "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF", "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A",
         "\xEC\x95\x88\xEB\x85\x95", "\xEF\xBC\x81", "\xE3\x80\x82"},
        {"\xF0\x9F\x98\x80", "\xF0\x9F\xA6\x99", "\xF0\x9F\x9A\x80", "\xE2\x9C\x85",
         "\xF0\x9F\x98\xB6\xE2\x80\x8D\xF0\x9F\x8C\xAB\xEF\xB8\x8F", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
         "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", "\xE2\x9D\xA4\xEF\xB8\x8F"},
    };
    std::string out;
    const uint32_t mode = next() % 10;  // 0..8: mostly one script; 9: anything
    const size_t n = 1 + next() % 14;
    for (size_t i = 0; i < n; ++i) {
      size_t pool = mode < 9 && next() % 3 != 0 ? mode : next() % pools.size();
      const auto& p = pools[pool];
      out += p[next() % p.size()];
      uint32_t sep = next() % 10;
      if (sep < 6) out += ' ';
      else if (sep == 6) out += "  ";
      else if (sep == 7) out += '\t';
    }
    if (next() % 8 == 0) out = "   " + out;  // leading whitespace
    if (next() % 8 == 0) out += "\n\n";    // trailing newlines
    return out;
  }

 private:
  uint64_t state_;
};

}  // namespace tandem::test
