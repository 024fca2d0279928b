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

}  // namespace tandem::test
