// tandem synth --shape NAME --type TYPE -o FILE [--seed S] [--vocab GGUF] [--layers N]: a GGUF
// model of a real model's shape (its architecture, llama or qwen2, with llama.cpp's tensor names
// and metadata keys) with seeded random weights and a real vocabulary, for speed work at
// realistic sizes. Speed depends on shapes and types, not on the values; the output is gibberish
// by construction. Llama 3 shapes carry rope_freqs.weight computed from the published rope
// scaling parameters; qwen2 shapes carry Q/K/V biases.
//
// Weights are generated row by row from a counter-based seed (seed, tensor, row), so the file is
// the same whatever the thread count, and written tensor by tensor in chunks: a 1.1B-parameter
// model needs a few tens of megabytes of memory, not gigabytes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "format/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "kernels/quantize.h"
#include "kernels/thread_pool.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/quant_types.h"

namespace tandem::tools {


namespace {

// Llama 3's "llama3" rope scaling (config.json rope_scaling), turned into rope_freqs.weight.
struct Llama3Rope {
  float factor, low_freq_factor, high_freq_factor;
  int64_t original_ctx;
};

struct Shape {
  const char* name;
  const char* model;  // general.name
  const char* arch;   // general.architecture: "llama" or "qwen2" (qwen2: Q/K/V biases)
  int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
  float rope_base, rms_eps;
  bool tied;          // no output.weight: the output projection is token_embd.weight
  const char* vocab;  // default vocabulary, relative to the shared directory
  Llama3Rope llama3_rope = {0, 0, 0, 0};  // factor 0: none
};

// Hyperparameters from each model's published config. stories* are Karpathy's llama2.c
// TinyStories checkpoints: stories260K as the shared llama.cpp conversion lays it out (with an
// output.weight, so synth files match ../shared/models tensor for tensor); stories110M with its
// classifier tied to the embedding as trained (110M parameters, as its name counts them).
constexpr Shape kShapes[] = {
    {"stories260K", "stories260K", "llama", 64, 5, 8, 4, 172, 512, 512, 10000.f, 1e-5f, false,
     "models/stories260K-f32.gguf"},
    {"stories110M", "stories110M", "llama", 768, 12, 12, 12, 2048, 32000, 1024, 10000.f, 1e-5f, true,
     "reference/vocab/ggml-vocab-llama-spm.gguf"},
    {"smollm2-135m", "SmolLM2-135M", "llama", 576, 30, 9, 3, 1536, 49152, 8192, 100000.f, 1e-5f, true,
     "reference/vocab/ggml-vocab-gpt-2.gguf"},
    {"tinyllama-1.1b", "TinyLlama-1.1B", "llama", 2048, 22, 32, 4, 5632, 32000, 2048, 10000.f, 1e-5f, false,
     "reference/vocab/ggml-vocab-llama-spm.gguf"},
    {"llama-3.2-1b", "Llama-3.2-1B", "llama", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.f, 1e-5f, true,
     "reference/vocab/ggml-vocab-llama-bpe.gguf", {32.f, 1.f, 4.f, 8192}},
    {"qwen2.5-0.5b", "Qwen2.5-0.5B", "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.f, 1e-6f, true,
     "reference/vocab/ggml-vocab-qwen2.gguf"},
    {"qwen2.5-1.5b", "Qwen2.5-1.5B", "qwen2", 1536, 28, 12, 2, 8960, 151936, 32768, 1000000.f, 1e-6f, true,
     "reference/vocab/ggml-vocab-qwen2.gguf"},
};

// Llama 3's per-frequency rope factors (as its reference code and llama.cpp's converter compute
// them): high frequencies unscaled, low frequencies divided by `factor`, a smooth ramp between.
std::vector<float> llama3_rope_factors(const Llama3Rope& r, float base, int64_t n_rot) {
  std::vector<float> f;
  const double low_wavelen = double(r.original_ctx) / r.low_freq_factor;
  const double high_wavelen = double(r.original_ctx) / r.high_freq_factor;
  for (int64_t i = 0; i < n_rot; i += 2) {
    const double freq = 1.0 / std::pow(double(base), double(i) / double(n_rot));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      f.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      f.push_back(r.factor);
    } else {
      const double smooth = (double(r.original_ctx) / wavelen - r.low_freq_factor) /
                            (r.high_freq_factor - r.low_freq_factor);
      f.push_back(float(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return f;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string shape_names() {
  std::string s;
  for (const auto& sh : kShapes) s += (s.empty() ? "" : ", ") + std::string(sh.name);
  return s;
}

std::string with_commas(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(size_t(i), ",");
  return s;
}

// Where the shared models and references live: $TANDEM_SHARED, ./shared, ../shared, and beside
// the build tree of this executable.
std::vector<std::string> shared_roots() {
  std::vector<std::string> roots;
  if (const char* e = std::getenv("TANDEM_SHARED"); e && *e) roots.push_back(e);
  roots.push_back("./shared");
  roots.push_back("../shared");
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    roots.push_back((dir / "../shared").lexically_normal().string());
    roots.push_back((dir / "../../shared").lexically_normal().string());
  }
  return roots;
}

std::string find_vocab(const Shape& sh) {
  std::string looked;
  for (const auto& root : shared_roots()) {
    std::string p = root + "/" + sh.vocab;
    if (std::filesystem::is_regular_file(p)) return p;
    looked += "\n  " + p;
  }
  throw Error(std::string("no vocabulary for shape ") + sh.name + "; looked for:" + looked +
              "\nset TANDEM_SHARED to the shared directory or pass --vocab FILE.gguf");
}

// splitmix64: a counter-based generator, good enough for weights and fast.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Fills x[0, n) with approximately N(mean, sigma) values: the sum of four 16-bit uniforms
// (Irwin-Hall), scaled to unit variance.
void fill_row(float* x, size_t n, uint64_t seed, float mean, float sigma) {
  constexpr double kCenter = 2.0 * 65535.0;
  const double sd = 65536.0 / std::sqrt(3.0);  // std of the sum of four 16-bit uniforms
  const float scale = float(sigma / sd);
  uint64_t s = seed;
  for (size_t i = 0; i < n; ++i) {
    s += 0x9e3779b97f4a7c15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    const double sum = double(z & 0xffff) + double((z >> 16) & 0xffff) + double((z >> 32) & 0xffff) + double(z >> 48);
    x[i] = mean + float(sum - kCenter) * scale;
  }
}

struct PlannedTensor {
  std::string name;
  TensorType type;
  std::vector<int64_t> shape;
  float mean = 0, sigma = 0.02f;
  std::vector<float> values = {};  // fixed contents (rope_freqs) instead of random ones
};

const Shape& find_shape(const std::string& name) {
  for (const auto& s : kShapes)
    if (lower(s.name) == lower(name)) return s;
  throw Error("unknown shape '" + name + "' (known: " + shape_names() + ")");
}

// The vocabulary file's token count (its tokenizer.* keys go into the model as they are).
int64_t vocab_size(const GgufFile& vocab, const std::string& vocab_path, const Shape& sh) {
  const GgufValue* tokens = vocab.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufValueType::ARRAY || tokens->elem_type != GgufValueType::STRING)
    throw Error(vocab_path + " has no tokenizer.ggml.tokens string array; not a vocabulary");
  const int64_t n_vocab = int64_t(tokens->count);
  if (n_vocab != sh.n_vocab)
    std::fprintf(stderr,
                 "tandem synth: note: %s has %lld tokens, shape %s has %lld; the model uses %lld "
                 "(token_embd/output rows follow the vocabulary)\n",
                 vocab_path.c_str(), (long long)n_vocab, sh.name, (long long)sh.n_vocab, (long long)n_vocab);
  return n_vocab;
}

void write_metadata(GgufWriter& w, const Shape& sh, int64_t n_layer, int64_t n_vocab, uint64_t seed,
                    const QuantTarget& target, const GgufFile& vocab) {
  const std::string arch = sh.arch, pre = arch + ".";
  const int64_t head_dim = sh.n_embd / sh.n_head;
  w.set_string("general.architecture", arch);
  w.set_string("general.name", std::string(sh.model) + " (synthetic)");
  w.set_string("general.description",
               "tandem synth: random weights of the " + std::string(sh.name) + " shape" +
                   (n_layer != sh.n_layer ? " cut to " + std::to_string(n_layer) + " layers" : "") + ", seed " +
                   std::to_string(seed) + "; not a trained model");
  w.set_u32(pre + "context_length", uint32_t(sh.n_ctx));
  w.set_u32(pre + "embedding_length", uint32_t(sh.n_embd));
  w.set_u32(pre + "block_count", uint32_t(n_layer));
  w.set_u32(pre + "feed_forward_length", uint32_t(sh.n_ff));
  w.set_u32(pre + "attention.head_count", uint32_t(sh.n_head));
  w.set_u32(pre + "attention.head_count_kv", uint32_t(sh.n_head_kv));
  w.set_f32(pre + "rope.freq_base", sh.rope_base);
  w.set_f32(pre + "attention.layer_norm_rms_epsilon", sh.rms_eps);
  if (arch == "llama") {  // llama.cpp's converter writes these for llama, not for qwen2
    w.set_u32(pre + "rope.dimension_count", uint32_t(head_dim));
    w.set_u32(pre + "vocab_size", uint32_t(n_vocab));
  }
  w.set_u32("general.file_type", target.ftype);
  if (traits(target.type).block_elems > 1) w.set_u32("general.quantization_version", 2);
  for (const auto& k : vocab.keys())
    if (k.rfind("tokenizer.", 0) == 0) w.copy(k, *vocab.find(k));
}

// The tensors, in the order of llama.cpp's files.
std::vector<PlannedTensor> plan_tensors(const Shape& sh, int64_t n_layer, int64_t n_vocab, const QuantTarget& target) {
  const int64_t head_dim = sh.n_embd / sh.n_head, n_embd_kv = head_dim * sh.n_head_kv;
  std::vector<PlannedTensor> plan;
  auto weight = [&](std::string name, int64_t ne0, int64_t ne1) {
    TensorType t = llama_quant_type(name, 2, ne0, TensorType::F32, target, !sh.tied, int(n_layer));
    plan.push_back({std::move(name), t, {ne0, ne1}, 0.0f, 0.02f});
  };
  auto norm = [&](std::string name) { plan.push_back({std::move(name), TensorType::F32, {sh.n_embd}, 1.0f, 0.01f}); };
  auto bias = [&](std::string name, int64_t n) { plan.push_back({std::move(name), TensorType::F32, {n}, 0.0f, 0.02f}); };
  weight("token_embd.weight", sh.n_embd, n_vocab);
  norm("output_norm.weight");
  if (!sh.tied) weight("output.weight", sh.n_embd, n_vocab);
  if (sh.llama3_rope.factor > 0) {
    PlannedTensor t{"rope_freqs.weight", TensorType::F32, {head_dim / 2}, 0.0f, 0.0f};
    t.values = llama3_rope_factors(sh.llama3_rope, sh.rope_base, head_dim);
    plan.push_back(std::move(t));
  }
  for (int64_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    weight(p + "attn_q.weight", sh.n_embd, sh.n_embd);
    weight(p + "attn_k.weight", sh.n_embd, n_embd_kv);
    weight(p + "attn_v.weight", sh.n_embd, n_embd_kv);
    if (std::string(sh.arch) == "qwen2") {
      bias(p + "attn_q.bias", sh.n_embd);
      bias(p + "attn_k.bias", n_embd_kv);
      bias(p + "attn_v.bias", n_embd_kv);
    }
    weight(p + "attn_output.weight", sh.n_embd, sh.n_embd);
    norm(p + "attn_norm.weight");
    weight(p + "ffn_gate.weight", sh.n_embd, sh.n_ff);
    weight(p + "ffn_down.weight", sh.n_ff, sh.n_embd);
    weight(p + "ffn_up.weight", sh.n_embd, sh.n_ff);
    norm(p + "ffn_norm.weight");
  }
  return plan;
}

// One tensor's seeded random rows (or its fixed values), quantized, in chunks of about 8 MiB.
void write_tensor(GgufWriter& w, ThreadPool& pool, const PlannedTensor& t, size_t ti, uint64_t seed,
                  std::vector<uint8_t>& buf) {
  constexpr size_t kChunkBytes = size_t(8) << 20;
  const size_t ne0 = size_t(t.shape[0]);
  const size_t n_rows = t.shape.size() > 1 ? size_t(t.shape[1]) : 1;
  const size_t out_row = row_bytes(t.type, ne0);
  const size_t rows_per_chunk = std::max<size_t>(1, kChunkBytes / std::max(out_row, ne0 * 4));
  const float mean = t.mean, sigma = t.sigma;
  const uint64_t tensor_seed = mix64(mix64(seed) ^ mix64(0x5eed0000ull + ti));
  for (size_t r0 = 0; r0 < n_rows; r0 += rows_per_chunk) {
    const size_t n = std::min(rows_per_chunk, n_rows - r0);
    buf.resize(n * out_row);
    pool.parallel_for(n, [&](size_t a, size_t b) {
      std::vector<float> row(ne0);
      for (size_t r = a; r < b; ++r) {
        if (!t.values.empty()) std::copy(t.values.begin(), t.values.end(), row.begin());  // 1-D: one row
        else fill_row(row.data(), ne0, mix64(tensor_seed ^ mix64(r0 + r)), mean, sigma);
        quantize_row(t.type, row.data(), buf.data() + r * out_row, ne0);
      }
    });
    w.write_tensor_part(ti, buf.data(), buf.size());
  }
}

}  // namespace

int cmd_synth(int argc, char** argv) {
  CLI::App app{"Write a GGUF model of a real model's shape with seeded random weights and a real\n"
               "vocabulary (llama architecture, loadable by llama.cpp). Shapes: " + shape_names(),
               argv[0]};
  std::string shape_name, type_str, out_path, vocab_path;
  uint64_t seed = 1;
  int n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--shape", shape_name, "model shape: " + shape_names())->required();
  app.add_option("--type", type_str, "weight type, as tandem quantize takes it: " + quant_target_names())->required();
  app.add_option("-o,--output", out_path, "output GGUF file")->required();
  app.add_option("--seed", seed, "random seed (the same seed gives the same file)");
  app.add_option("--vocab", vocab_path,
                 "GGUF file to take tokenizer.* from (default: the shape's vocabulary under "
                 "$TANDEM_SHARED, ./shared or ../shared)");
  app.add_option("-t,--threads", n_threads, "threads")->check(CLI::Range(1, 1024));
  int n_layer_override = 0;
  app.add_option("--layers", n_layer_override, "keep only this many layers (quick tests of a big shape)")
      ->check(CLI::Range(1, 1024));
  CLI11_PARSE(app, argc, argv);

  try {
    const auto t0 = std::chrono::steady_clock::now();
    const Shape& sh = find_shape(shape_name);
    QuantTarget target;
    if (!parse_quant_target(type_str, &target))
      throw Error("unknown or unsupported --type '" + type_str + "' (use " + quant_target_names() + ")");
    if (vocab_path.empty()) vocab_path = find_vocab(sh);
    const GgufFile vocab = GgufFile::open(vocab_path);
    const int64_t n_vocab = vocab_size(vocab, vocab_path, sh);
    const int64_t n_layer = n_layer_override > 0 ? n_layer_override : sh.n_layer;

    GgufWriter w;
    write_metadata(w, sh, n_layer, n_vocab, seed, target, vocab);
    const std::vector<PlannedTensor> plan = plan_tensors(sh, n_layer, n_vocab, target);
    uint64_t n_params = 0;
    for (const auto& t : plan) {
      w.add_tensor(t.name, t.type, t.shape);
      uint64_t n = 1;
      for (auto d : t.shape) n *= uint64_t(d);
      n_params += n;
    }

    ThreadPool pool(n_threads);
    w.open(out_path);
    const uint64_t total = w.file_size();
    Progress bar("tandem synth");
    // Progress: the share of the file's bytes written before tensor `next` (plan.size(): all).
    auto progress = [&](size_t next) {
      const uint64_t done = next < plan.size() ? w.data_offset() + w.tensor_offset(next) : total;
      bar.update(double(done) / double(total), next < plan.size() ? plan[next].name : "");
    };
    std::fprintf(stderr, "tandem synth: %s %s -> %s (%zu tensors, %s)\n", sh.name,
                 target.name, out_path.c_str(), plan.size(), human_bytes(total).c_str());
    std::vector<uint8_t> buf;
    for (size_t ti = 0; ti < plan.size(); ++ti) {
      progress(ti);
      write_tensor(w, pool, plan[ti], ti, seed, buf);
    }
    progress(plan.size());
    bar.done();
    w.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tandem synth: wrote %s: %s %s, %s params, %zu tensors, vocab %s (%lld tokens), %s (%llu bytes), %.1f s\n",
                out_path.c_str(), sh.name, target.name, with_commas(n_params).c_str(),
                plan.size(), std::filesystem::path(vocab_path).filename().string().c_str(), (long long)n_vocab,
                human_bytes(w.file_size()).c_str(), (unsigned long long)w.file_size(), secs);
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem synth: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem synth: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
