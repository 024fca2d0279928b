// `tandem quantize` and `tandem synth`, run as the built binary: per-tensor types and bytes
// against llama.cpp's own quantized files, bad arguments, and synthetic models of real shapes.
#include <cmath>
#include <cstring>
#include <filesystem>

#include "format/gguf.h"
#include "format/tensor_type.h"
#include "kernels/quantize.h"
#include "test_util.h"

using namespace tandem;

namespace {

std::string shq(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int tandem_cmd(const std::string& args, std::string* out) {
  return test::run_command(shq(test::tandem_binary()) + " " + args, out);
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// Removes a temp file (and a writer's leftover) when the test ends, pass or fail.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& stem) : path(test::temp_path(stem)) { clean(); }
  ~TempFile() { clean(); }
  void clean() const {
    std::filesystem::remove(path);
    std::filesystem::remove(path + ".tmp");
  }
};

// Compares every tensor of `ours` with the llama.cpp-produced `ref`: same names, types and
// shapes; counts identical 32-element blocks. Returns the fraction identical.
double compare_with_reference(const GgufFile& ours, const GgufFile& ref) {
  EXPECT_EQ(ours.tensors().size(), ref.tensors().size());
  uint64_t blocks = 0, same = 0;
  for (const auto& r : ref.tensors()) {
    const GgufTensorInfo* t = ours.find_tensor(r.name);
    if (!t) {
      ADD_FAILURE() << "missing tensor " << r.name;
      continue;
    }
    EXPECT_EQ(type_name(t->type), type_name(r.type)) << r.name;
    EXPECT_EQ(t->shape_string(), r.shape_string()) << r.name;
    if (t->type != r.type || t->nbytes != r.nbytes) continue;
    const auto& tr = traits(r.type);
    const size_t unit = size_t(tr.block_bytes) * (32 / tr.block_elems);  // bytes of 32 elements
    for (size_t off = 0; off < r.nbytes; off += unit) {
      const size_t n = std::min(unit, size_t(r.nbytes - off));
      ++blocks;
      same += std::memcmp(t->data + off, r.data + off, n) == 0;
    }
  }
  return blocks ? double(same) / double(blocks) : 0.0;
}

void check_quantize_matches_llamacpp(const std::string& type) {
  const std::string in = test::model_path("stories260K-f32.gguf");
  const std::string ref_path = test::model_path("stories260K-" + type + ".gguf");
  TANDEM_REQUIRE_FILE(in);
  TANDEM_REQUIRE_FILE(ref_path);
  TempFile out("quantize-" + type + ".gguf");
  std::string log;
  ASSERT_EQ(tandem_cmd("quantize " + shq(in) + " " + shq(out.path) + " --type " + type + " -t 2", &log), 0)
      << log;
  EXPECT_TRUE(contains(log, "blk.0.ffn_down.weight")) << log;  // progress per tensor
  EXPECT_TRUE(contains(log, "tandem quantize: wrote")) << log;
  GgufFile ours = GgufFile::open(out.path);
  GgufFile ref = GgufFile::open(ref_path);
  // Metadata: every key of llama.cpp's file, with the same type; file_type as llama.cpp's.
  for (const auto& k : ref.keys()) {
    const GgufValue* v = ours.find(k);
    ASSERT_NE(v, nullptr) << k;
    EXPECT_EQ(v->type, ref.find(k)->type) << k;
  }
  EXPECT_EQ(ours.get_int("general.file_type"), ref.get_int("general.file_type"));
  EXPECT_EQ(ours.keys().size(), ref.keys().size());
  const double frac = compare_with_reference(ours, ref);
  const bool identical = test::read_file(out.path) == test::read_file(ref_path);
  std::printf("quantize %s: %.4f%% of 32-element blocks identical to llama.cpp's; whole file %s\n", type.c_str(),
              100.0 * frac, identical ? "byte-identical" : "differs");
  EXPECT_GE(frac, 0.99);
}

}  // namespace

TEST(QuantizeTool, Q8_0MatchesLlamaCpp) { check_quantize_matches_llamacpp("q8_0"); }
TEST(QuantizeTool, Q4_0MatchesLlamaCpp) { check_quantize_matches_llamacpp("q4_0"); }
TEST(QuantizeTool, F16MatchesLlamaCpp) { check_quantize_matches_llamacpp("f16"); }

TEST(QuantizeTool, RequantizesAndDequantizes) {
  const std::string in = test::model_path("stories260K-q8_0.gguf");
  TANDEM_REQUIRE_FILE(in);
  TempFile q4("requant-q4.gguf"), f32("requant-f32.gguf");
  std::string log;
  ASSERT_EQ(tandem_cmd("quantize " + shq(in) + " " + shq(q4.path) + " --type Q4_0", &log), 0) << log;
  ASSERT_EQ(tandem_cmd("quantize " + shq(q4.path) + " " + shq(f32.path) + " --type f32 -t 1", &log), 0) << log;
  GgufFile a = GgufFile::open(q4.path), b = GgufFile::open(f32.path), src = GgufFile::open(in);
  EXPECT_EQ(a.get_int("general.file_type"), 2);
  EXPECT_EQ(b.get_int("general.file_type"), 0);
  EXPECT_EQ(a.find_tensor("output.weight")->type, TensorType::Q8_0);  // copied as it was
  EXPECT_EQ(std::memcmp(a.find_tensor("output.weight")->data, src.find_tensor("output.weight")->data,
                        src.find_tensor("output.weight")->nbytes), 0);
  EXPECT_EQ(a.find_tensor("blk.0.attn_q.weight")->type, TensorType::Q4_0);
  for (const auto& t : b.tensors()) EXPECT_EQ(t.type, TensorType::F32) << t.name;
  // Dequantized Q4_0 is close to the Q8_0 original.
  const auto* qt = src.find_tensor("blk.1.ffn_up.weight");
  const auto* ft = b.find_tensor("blk.1.ffn_up.weight");
  std::vector<float> x(size_t(qt->n_elements()));
  for (int64_t r = 0; r < qt->ne[1]; ++r)
    dequantize_row(qt->type, qt->data + r * row_bytes(qt->type, size_t(qt->ne[0])), x.data() + r * qt->ne[0],
                   size_t(qt->ne[0]));
  const float* y = reinterpret_cast<const float*>(ft->data);
  double err = 0, norm = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (x[i] - y[i]) * (x[i] - y[i]);
    norm += x[i] * x[i];
  }
  EXPECT_LT(std::sqrt(err / norm), 0.2);
}

TEST(QuantizeTool, BadArgumentsFailCleanly) {
  const std::string in = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(in);
  TempFile out("quantize-bad.gguf"), corrupt("quantize-corrupt.gguf"), garbage("quantize-garbage.gguf");
  std::string log;

  int rc = tandem_cmd("quantize /nonexistent/model.gguf " + shq(out.path) + " --type q8_0", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "tandem quantize: ")) << log;
  EXPECT_TRUE(contains(log, "/nonexistent/model.gguf")) << log;

  rc = tandem_cmd("quantize " + shq(in) + " " + shq(out.path) + " --type q3_k_m", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "unsupported --type 'q3_k_m'")) << log;
  rc = tandem_cmd("quantize " + shq(in) + " " + shq(out.path) + " --type banana", &log);
  EXPECT_EQ(rc, 1) << log;

  rc = tandem_cmd("quantize " + shq(in) + " " + shq(out.path), &log);  // no --type
  EXPECT_NE(rc, 0) << log;
  EXPECT_LT(rc, 128) << log;
  rc = tandem_cmd("quantize", &log);
  EXPECT_NE(rc, 0) << log;
  EXPECT_LT(rc, 128) << log;

  // A truncated model: the reader's message names the problem.
  auto bytes = test::read_file(in);
  bytes.resize(bytes.size() / 2);
  test::write_file(corrupt.path, bytes);
  rc = tandem_cmd("quantize " + shq(corrupt.path) + " " + shq(out.path) + " --type q4_0", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "invalid GGUF file")) << log;
  EXPECT_TRUE(contains(log, "truncated")) << log;

  std::vector<uint8_t> junk(4096);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = uint8_t(i * 131 + 7);
  test::write_file(garbage.path, junk);
  rc = tandem_cmd("quantize " + shq(garbage.path) + " " + shq(out.path) + " --type q8_0", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "not a GGUF file")) << log;

  // An unwritable output.
  rc = tandem_cmd("quantize " + shq(in) + " /nonexistent-dir/out.gguf --type q8_0", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "cannot create")) << log;

  EXPECT_FALSE(std::filesystem::exists(out.path));
  EXPECT_FALSE(std::filesystem::exists(out.path + ".tmp"));
}

// ------------------------------------------------------------------------------------ synth

// The over-quantization guard: the new file measured against its source on a calibration text;
// past --max-kld it is not kept (unless --force). llama.cpp measures stories260K Q4_0 against F32
// at a mean KLD of 0.066 and Q8_0 far below (../shared/models/README.md).
TEST(QuantizeTool, CalibrationRefusesAFilePastMaxKld) {
  const std::string f32 = test::model_path("stories260K-f32.gguf");
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  TANDEM_REQUIRE_FILE(f32);
  TempFile out("calib-q.gguf");
  const std::string calib = " --calibration " + shq(corpus) + " --max-kld 0.03";
  std::string log;
  EXPECT_NE(tandem_cmd("quantize " + shq(f32) + " " + shq(out.path) + " --type q4_0" + calib + " 2>&1", &log), 0);
  EXPECT_TRUE(contains(log, "is over --max-kld")) << log;
  EXPECT_TRUE(contains(log, "same top token")) << log;
  EXPECT_FALSE(std::filesystem::exists(out.path)) << "a refused file must not be left behind";

  ASSERT_EQ(tandem_cmd("quantize " + shq(f32) + " " + shq(out.path) + " --type q4_0" + calib + " --force 2>&1", &log), 0)
      << log;
  EXPECT_TRUE(contains(log, "kept anyway")) << log;
  EXPECT_TRUE(std::filesystem::exists(out.path));

  ASSERT_EQ(tandem_cmd("quantize " + shq(f32) + " " + shq(out.path) + " --type q8_0" + calib + " 2>&1", &log), 0) << log;
  const size_t at = log.find("mean KLD ");
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_LT(std::stod(log.substr(at + 9)), 0.005) << log;
  EXPECT_TRUE(std::filesystem::exists(out.path));

  EXPECT_NE(tandem_cmd("quantize " + shq(f32) + " " + shq(out.path) + " --type q8_0 --max-kld 0.1 2>&1", &log), 0);
  EXPECT_TRUE(contains(log, "--max-kld needs --calibration")) << log;
  EXPECT_NE(tandem_cmd("quantize " + shq(f32) + " " + shq(out.path) + " --type q8_0 --calibration /nonexistent.txt 2>&1",
                       &log),
            0);
  EXPECT_TRUE(contains(log, "cannot read calibration text")) << log;
}

TEST(SynthTool, Stories260KQ4_0MatchesTheRealFilesLayout) {
  const std::string vocab = test::model_path("stories260K-f32.gguf");
  const std::string ref_path = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(vocab);
  TANDEM_REQUIRE_FILE(ref_path);
  TempFile out("synth-260k.gguf"), again("synth-260k-again.gguf"), other("synth-260k-other.gguf");
  std::string log;
  ASSERT_EQ(tandem_cmd("synth --shape stories260K --type q4_0 -o " + shq(out.path) + " --vocab " + shq(vocab),
                       &log), 0) << log;
  EXPECT_TRUE(contains(log, "100%")) << log;
  EXPECT_TRUE(contains(log, "params")) << log;

  GgufFile f = GgufFile::open(out.path);
  GgufFile ref = GgufFile::open(ref_path);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("general.file_type"), 2);
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.get_int("llama.block_count"), 5);
  EXPECT_EQ(f.get_int("llama.feed_forward_length"), 172);
  EXPECT_EQ(f.get_int("llama.attention.head_count"), 8);
  EXPECT_EQ(f.get_int("llama.attention.head_count_kv"), 4);
  EXPECT_EQ(f.get_int("llama.rope.dimension_count"), 8);
  EXPECT_EQ(f.get_int("llama.context_length"), 512);
  EXPECT_EQ(f.get_int("llama.vocab_size"), 512);
  EXPECT_FLOAT_EQ(float(f.get_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_FLOAT_EQ(float(f.get_float("llama.rope.freq_base")), 10000.f);
  // The vocabulary is the real one.
  for (const auto& k : ref.keys()) {
    if (k.rfind("tokenizer.", 0) == 0) {
      EXPECT_TRUE(f.has(k)) << k;
    }
  }
  EXPECT_EQ(f.get_array("tokenizer.ggml.tokens", GgufValueType::STRING).strs[300],
            ref.get_array("tokenizer.ggml.tokens", GgufValueType::STRING).strs[300]);
  // Tensor for tensor, the names, shapes and types of llama.cpp's own Q4_0 file.
  ASSERT_EQ(f.tensors().size(), 48u);
  for (const auto& r : ref.tensors()) {
    const GgufTensorInfo* t = f.find_tensor(r.name);
    ASSERT_NE(t, nullptr) << r.name;
    EXPECT_EQ(t->shape_string(), r.shape_string()) << r.name;
    EXPECT_EQ(type_name(t->type), type_name(r.type)) << r.name;
  }
  // Weights look like N(0, 0.02), norms like 1.
  const auto* q = f.find_tensor("blk.2.ffn_gate.weight");
  std::vector<float> x(size_t(q->n_elements()));
  dequantize_row(q->type, q->data, x.data(), x.size());
  double s = 0, s2 = 0;
  for (float v : x) s += v, s2 += double(v) * v;
  const double mean = s / double(x.size()), sd = std::sqrt(s2 / double(x.size()) - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(sd, 0.02, 0.003);
  const auto* n = f.find_tensor("blk.3.attn_norm.weight");
  const float* nv = reinterpret_cast<const float*>(n->data);
  for (int i = 0; i < 64; ++i) EXPECT_NEAR(nv[i], 1.0f, 0.1f);

  // Deterministic: the same seed gives the same bytes whatever the thread count (and the
  // default vocabulary search finds the same file through TANDEM_SHARED); another seed differs.
  ASSERT_EQ(test::run_command("TANDEM_SHARED=" + shq(test::shared_dir()) + " " + shq(test::tandem_binary()) +
                                  " synth --shape STORIES260K --type q4_0 -t 1 -o " + shq(again.path),
                              &log), 0) << log;
  EXPECT_TRUE(test::read_file(out.path) == test::read_file(again.path));
  ASSERT_EQ(tandem_cmd("synth --shape stories260K --type q4_0 --seed 7 -o " + shq(other.path) + " --vocab " +
                           shq(vocab), &log), 0) << log;
  EXPECT_FALSE(test::read_file(out.path) == test::read_file(other.path));
}

TEST(SynthTool, Stories110MQ8_0HasAbout110MParams) {
  const std::string vocab = test::shared_dir() + "/reference/vocab/ggml-vocab-llama-spm.gguf";
  TANDEM_REQUIRE_FILE(vocab);
  TempFile out("synth-110m.gguf");
  std::string log;
  ASSERT_EQ(tandem_cmd("synth --shape stories110M --type q8_0 -o " + shq(out.path) + " --vocab " + shq(vocab),
                       &log), 0) << log;
  GgufFile f = GgufFile::open(out.path);
  uint64_t params = 0;
  for (const auto& t : f.tensors()) params += uint64_t(t.n_elements());
  EXPECT_GT(params, 105'000'000u);
  EXPECT_LT(params, 115'000'000u);
  EXPECT_EQ(f.tensors().size(), 2u + 12 * 9);  // token_embd, output_norm (tied), 9 per block
  EXPECT_EQ(f.find_tensor("output.weight"), nullptr);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("token_embd.weight")->shape_string(), "[768, 32000]");
  EXPECT_EQ(f.find_tensor("blk.11.attn_k.weight")->shape_string(), "[768, 768]");
  EXPECT_EQ(f.find_tensor("blk.11.ffn_down.weight")->shape_string(), "[2048, 768]");
  EXPECT_EQ(f.find_tensor("blk.11.ffn_down.weight")->type, TensorType::Q8_0);
  EXPECT_EQ(f.find_tensor("blk.11.ffn_norm.weight")->type, TensorType::F32);
  EXPECT_EQ(f.get_int("general.file_type"), 7);
  EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(f.get_array("tokenizer.ggml.tokens", GgufValueType::STRING).count, 32000u);
  std::printf("stories110M q8_0: %llu params, %zu bytes\n", (unsigned long long)params, f.file_size());
}

TEST(SynthTool, BadArgumentsFailCleanly) {
  TempFile out("synth-bad.gguf");
  std::string log;
  int rc = tandem_cmd("synth --shape gpt-5 --type q8_0 -o " + shq(out.path), &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "tandem synth: unknown shape 'gpt-5'")) << log;
  EXPECT_TRUE(contains(log, "tinyllama-1.1b")) << log;
  rc = tandem_cmd("synth --shape stories260K --type q2_k -o " + shq(out.path), &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "unsupported --type 'q2_k'")) << log;
  rc = tandem_cmd("synth --shape stories260K --type q8_0 -o " + shq(out.path) + " --vocab /nonexistent.gguf", &log);
  EXPECT_EQ(rc, 1) << log;
  EXPECT_TRUE(contains(log, "/nonexistent.gguf")) << log;
  rc = tandem_cmd("synth --type q8_0 -o " + shq(out.path), &log);  // no --shape
  EXPECT_NE(rc, 0) << log;
  EXPECT_LT(rc, 128) << log;
  // A GGUF without a vocabulary.
  {
    TempFile novocab("synth-novocab.gguf");
    std::vector<uint8_t> bytes;  // an empty GGUF: header only
    auto put = [&](const void* p, size_t n) {
      const auto* b = static_cast<const uint8_t*>(p);
      bytes.insert(bytes.end(), b, b + n);
    };
    const uint32_t magic = 0x46554747u, version = 3;
    const uint64_t n_tensors = 0, n_kv = 0;
    put(&magic, 4), put(&version, 4), put(&n_tensors, 8), put(&n_kv, 8);
    test::write_file(novocab.path, bytes);
    rc = tandem_cmd("synth --shape stories260K --type q8_0 -o " + shq(out.path) + " --vocab " +
                        shq(novocab.path), &log);
    EXPECT_EQ(rc, 1) << log;
    EXPECT_TRUE(contains(log, "no tokenizer.ggml.tokens")) << log;
  }
  EXPECT_FALSE(std::filesystem::exists(out.path));
}
