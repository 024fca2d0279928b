// Hostile and broken GGUF files: each must be refused with an Error that names the problem,
// never a crash or an out-of-bounds read (the sanitizer build checks the latter).
#include <cstring>
#include <random>

#include "format/error.h"
#include "format/gguf.h"
#include "model/llama_model.h"
#include "test_util.h"

using namespace tandem;

namespace {

// Writes GGUF fields byte by byte, so tests can say exactly what is wrong.
struct Bytes {
  std::vector<uint8_t> b;
  template <typename T>
  Bytes& put(T v) {
    uint8_t tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    b.insert(b.end(), tmp, tmp + sizeof(T));
    return *this;
  }
  Bytes& str(const std::string& s) {
    put<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return put(version).put(n_tensors).put(n_kv);
  }
  Bytes& kv_u32(const std::string& k, uint32_t v) { return str(k).put<uint32_t>(4).put(v); }
  Bytes& tensor(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).put<uint32_t>(uint32_t(ne.size()));
    for (auto n : ne) put(n);
    return put(type).put(offset);
  }
  Bytes& pad_to(size_t align) {
    while (b.size() % align) b.push_back(0);
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

// A small valid file: two metadata values, one f32 tensor [8, 2] and one q4_0 tensor [32].
Bytes valid_file() {
  Bytes f;
  f.header(3, 2, 2).kv_u32("general.alignment", 32);
  f.str("general.name").put<uint32_t>(8).str("tiny");
  f.tensor("a", {8, 2}, 0, 0).tensor("b", {32}, 2, 64);
  f.pad_to(32).zeros(64 + 18);
  return f;
}

std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    GgufFile::parse(bytes.data(), bytes.size());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_REFUSED(bytes, fragment)                                   \
  do {                                                                    \
    std::string msg = parse_error(bytes);                                 \
    EXPECT_NE(msg, "") << "accepted a bad file";                          \
    EXPECT_NE(msg.find(fragment), std::string::npos) << "message: " << msg; \
  } while (0)

}  // namespace

TEST(GgufBadFiles, ValidTinyFileParses) {
  Bytes f = valid_file();
  GgufFile g = GgufFile::parse(f.b.data(), f.b.size());
  EXPECT_EQ(g.tensors().size(), 2u);
  EXPECT_EQ(g.get_string("general.name"), "tiny");
  EXPECT_EQ(g.find_tensor("b")->nbytes, 18u);
}

TEST(GgufBadFiles, EveryTruncationIsRefused) {
  Bytes f = valid_file();
  for (size_t n = 0; n < f.b.size(); ++n) {
    std::vector<uint8_t> cut(f.b.begin(), f.b.begin() + long(n));
    EXPECT_NE(parse_error(cut), "") << "accepted a file truncated to " << n << " bytes";
  }
}

TEST(GgufBadFiles, HeaderProblemsAreNamed) {
  EXPECT_REFUSED(std::vector<uint8_t>{}, "truncated while reading magic");
  EXPECT_REFUSED((std::vector<uint8_t>{'G', 'G', 'M', 'L', 3, 0, 0, 0}), "bad magic");
  EXPECT_REFUSED(Bytes().header(1, 0, 0).b, "version 1");
  EXPECT_REFUSED(Bytes().header(99, 0, 0).b, "unsupported GGUF version 99");
  EXPECT_REFUSED(Bytes().header(3, 0, uint64_t(1) << 60).b, "metadata count");
  EXPECT_REFUSED(Bytes().header(3, uint64_t(1) << 60, 0).b, "tensor count");
}

TEST(GgufBadFiles, MetadataProblemsAreNamed) {
  EXPECT_REFUSED(Bytes().header(3, 0, 1).put<uint64_t>(uint64_t(1) << 62).zeros(16).b, "absurd");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).str("k").put<uint32_t>(77).b, "unknown value type 77");
  EXPECT_REFUSED(Bytes().header(3, 0, 2).kv_u32("k", 1).kv_u32("k", 2).b, "duplicate metadata key 'k'");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).str("k").put<uint32_t>(7).put<uint8_t>(2).b, "bool");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(9).put<uint64_t>(1).b, "nested");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(4).put<uint64_t>(uint64_t(1) << 61).b,
                 "runs past the end");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).str("k").put<uint32_t>(9).put<uint32_t>(8).put<uint64_t>(uint64_t(1) << 40).b,
                 "more than the file can hold");
  EXPECT_REFUSED(Bytes().header(3, 0, 1).kv_u32("general.alignment", 48).b, "not a power of two");
}

TEST(GgufBadFiles, TensorProblemsAreNamed) {
  auto one_tensor = [](std::vector<uint64_t> ne, uint32_t type, uint64_t offset, size_t data) {
    Bytes f;
    f.header(3, 1, 0).tensor("t", ne, type, offset).pad_to(32).zeros(data);
    return f.b;
  };
  EXPECT_REFUSED(one_tensor({}, 0, 0, 64), "0 dimensions");
  EXPECT_REFUSED(one_tensor({1, 1, 1, 1, 1}, 0, 0, 64), "5 dimensions");
  EXPECT_REFUSED(one_tensor({0}, 0, 0, 64), "dimension 0 is 0");
  EXPECT_REFUSED(one_tensor({4}, 999, 0, 64), "unknown type 999");
  EXPECT_REFUSED(one_tensor({33}, 2, 0, 64), "not a multiple of its block size");
  EXPECT_REFUSED(one_tensor({4}, 0, 8, 64), "not aligned");
  EXPECT_REFUSED(one_tensor({64}, 0, 0, 100), "runs past the end of the file");
  EXPECT_REFUSED(one_tensor({uint64_t(1) << 40, uint64_t(1) << 40}, 0, 0, 64), "too many elements");
  Bytes overlap;
  overlap.header(3, 2, 0).tensor("a", {16}, 0, 0).tensor("b", {16}, 0, 32).pad_to(32).zeros(128);
  EXPECT_REFUSED(overlap.b, "overlap");
  Bytes dup;
  dup.header(3, 2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad_to(32).zeros(64);
  EXPECT_REFUSED(dup.b, "duplicate tensor 'a'");
}

// A real model with random bytes of its header changed must load or be refused, never crash.
TEST(GgufBadFiles, RandomlyCorruptedModelNeverCrashes) {
  const std::string path = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(path);
  const std::vector<uint8_t> good = test::read_file(path);
  const size_t header = GgufFile::parse(good.data(), good.size()).data_offset();
  std::mt19937_64 rng(7);
  int refused = 0;
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<uint8_t> bad = good;
    const int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) bad[rng() % header] = uint8_t(rng());
    if (iter % 3 == 0) bad.resize(rng() % bad.size());  // and sometimes truncate
    try {
      auto m = LlamaModel::from_gguf(GgufFile::parse(bad.data(), bad.size()));
      (void)m->weight_bytes_per_token();
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 100);
}

TEST(GgufBadFiles, ModelWithWrongShapeIsRefused) {
  const std::string path = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(path);
  std::vector<uint8_t> bytes = test::read_file(path);
  const std::string key = "llama.embedding_length";
  auto it = std::search(bytes.begin(), bytes.end(), key.begin(), key.end());
  ASSERT_NE(it, bytes.end());
  const size_t value_at = size_t(it - bytes.begin()) + key.size() + 4;  // after the u32 type tag
  uint32_t v;
  std::memcpy(&v, &bytes[value_at], 4);
  ASSERT_EQ(v, 64u);
  v = 72;
  std::memcpy(&bytes[value_at], &v, 4);
  try {
    LlamaModel::from_gguf(GgufFile::parse(bytes.data(), bytes.size()));
    FAIL() << "loaded a model whose tensors disagree with its metadata";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("token_embd.weight"), std::string::npos) << e.what();
  }
}

TEST(GgufBadFiles, MissingFileIsNamed) {
  try {
    GgufFile::open("/nonexistent/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
  }
}
