// tandem quantize IN OUT --type TYPE [-t N] [--calibration TEXT [--max-kld X [--force]]]: converts
// a GGUF model's weights, and can measure the new file against its source on a text and refuse
// one that strays too far (a model quantized until it hallucinates).
// Type choices follow llama.cpp's llama-quantize (tools/quant_types.h: the K-quant mixes, the
// output projection in Q6_K, the fallbacks for rows that do not fit 256-element blocks), so that
// our files have the same per-tensor types as llama.cpp's. Tensors are converted one at a time
// in row chunks, so memory stays small whatever the model size.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "format/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "kernels/quantize.h"
#include "engine/text_scoring.h"
#include "kernels/thread_pool.h"
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/quant_types.h"

namespace tandem::tools {

namespace {

// llama-quantize's tensor order: tensors outside the blocks first, then block by block;
// by name within each group.
int block_of(const std::string& name) {
  int b = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &b) != 1) return -1;
  return b;
}

// Every type the engine computes with can be dequantized.
bool is_readable(TensorType t) { return is_supported_weight_type(t); }

// Converts rows [0, n_rows) of ne0 elements from `in` (type a) to `out` (type b).
void convert_rows(ThreadPool& pool, TensorType a, const uint8_t* in, TensorType b, uint8_t* out, size_t n_rows,
                  size_t ne0) {
  const size_t in_row = row_bytes(a, ne0), out_row = row_bytes(b, ne0);
  pool.parallel_for(n_rows, [&](size_t r0, size_t r1) {
    std::vector<float> tmp(ne0);
    for (size_t r = r0; r < r1; ++r) {
      dequantize_row(a, in + r * in_row, tmp.data(), ne0);
      quantize_row(b, tmp.data(), out + r * out_row, ne0);
    }
  });
}

// The tensors in llama.cpp's order: by block (non-block tensors first), then by name.
std::vector<size_t> write_order(const std::vector<GgufTensorInfo>& tensors) {
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    int ba = block_of(tensors[a].name), bb = block_of(tensors[b].name);
    if (ba != bb) return ba < bb;
    return tensors[a].name < tensors[b].name;
  });
  return order;
}

// Declares every tensor, in `order`, with llama.cpp's per-tensor choice of type; returns the types.
std::vector<TensorType> declare_tensors(GgufWriter& w, const GgufFile& in, const std::vector<size_t>& order,
                                        const QuantTarget& target) {
  const auto& tensors = in.tensors();
  const bool has_output = in.find_tensor("output.weight") != nullptr;
  int n_layer = 0;
  for (const auto& t : tensors) n_layer = std::max(n_layer, block_of(t.name) + 1);
  std::vector<TensorType> out_type(tensors.size());
  for (size_t i : order) {
    const auto& t = tensors[i];
    out_type[i] = llama_quant_type(t.name, t.n_dims, t.ne[0], t.type, target, has_output, n_layer);
    if (out_type[i] != t.type && !is_readable(t.type))
      throw Error("tensor '" + t.name + "' has type " + std::string(type_name(t.type)) +
                  ", which tandem quantize cannot read");
    w.add_tensor(t.name, out_type[i], std::span<const int64_t>(t.ne, t.n_dims));
  }
  return out_type;
}

// One tensor as the writer's tensor `idx`: copied, or converted in chunks of about 16 MiB.
void write_converted(GgufWriter& w, ThreadPool& pool, const GgufTensorInfo& t, TensorType to, size_t idx,
                     std::vector<uint8_t>& buf) {
  if (to == t.type) {
    w.write_tensor_data(idx, t.data, t.nbytes);
    return;
  }
  constexpr size_t kChunkBytes = size_t(16) << 20;
  const size_t ne0 = size_t(t.ne[0]);
  const size_t n_rows = size_t(t.n_elements()) / ne0;
  const size_t in_row = row_bytes(t.type, ne0), out_row = row_bytes(to, ne0);
  const size_t rows_per_chunk = std::max<size_t>(1, kChunkBytes / std::max(in_row, out_row));
  for (size_t r = 0; r < n_rows; r += rows_per_chunk) {
    const size_t n = std::min(rows_per_chunk, n_rows - r);
    buf.resize(n * out_row);
    convert_rows(pool, t.type, t.data + r * in_row, to, buf.data(), n, ne0);
    w.write_tensor_part(idx, buf.data(), buf.size());
  }
}

// How far a quantized file is from its source, measured on a calibration text; refusal past the limit.
struct CalibrationCheck {
  std::string text_path;
  double max_kld = -1;  // < 0: measure only
  bool force = false;
  int ctx = 256, chunks = 0, threads = 2;
};

// Measures `out_path` against `in_path` on the text and prints KLD, same-top-token rate and the
// perplexity ratio. Past max_kld the new file is removed (kept with force); false then.
bool check_calibration(const CalibrationCheck& c, const std::string& in_path, const std::string& out_path) {
  const std::string text = read_text_file(c.text_path, "calibration text");
  auto source = load_model(in_path, true);
  auto quantized = load_model(out_path, true);
  TextScoringParams sp;
  sp.n_ctx = c.ctx;
  sp.max_chunks = c.chunks;
  sp.n_threads = c.threads;
  Progress bar("calibration");
  sp.on_chunk = [&](int done, int total, double) { bar.update(double(done) / total); };
  const TextScores s = score_text(*quantized, source.get(), text, sp);
  bar.done();
  std::printf("tandem quantize: against %s on %s (%lld tokens): mean KLD %.6f ± %.6f, same top token %.2f %%, "
              "perplexity %.4f vs %.4f (ratio %.4f)\n",
              in_path.c_str(), c.text_path.c_str(), (long long)s.tokens_scored, s.kld_mean, s.kld_stderr,
              100 * s.same_top_token, s.perplexity, s.reference_perplexity, s.perplexity_ratio);
  if (c.max_kld < 0 || s.kld_mean <= c.max_kld) return true;
  char msg[256];
  std::snprintf(msg, sizeof msg, "mean KLD %.6f is over --max-kld %.6f", s.kld_mean, c.max_kld);
  if (c.force) {
    std::fprintf(stderr, "tandem quantize: %s; kept anyway (--force)\n", msg);
    return true;
  }
  std::remove(out_path.c_str());
  std::fprintf(stderr, "tandem quantize: %s: %s was not kept (a less aggressive --type, or --force to keep it)\n",
               msg, out_path.c_str());
  return false;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  CLI::App app{"Convert a GGUF model's weights to another type, as llama.cpp's llama-quantize does:\n"
               "1-D tensors stay as they are, 2-D weights become TYPE with llama.cpp's per-tensor\n"
               "choices (output projection q6_k, or q8_0 where rows are not a multiple of 256; the\n"
               "_m/_s mixes; q4_k -> q5_0, q5_k -> q5_1, q6_k -> q8_0 for rows not a multiple of\n"
               "256, f16 where rows are not a multiple of 32).",
               argv[0]};
  std::string in_path, out_path, type_str;
  int n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("input", in_path, "input GGUF (weights of any type the engine computes with)")->required();
  app.add_option("output", out_path, "output GGUF")->required();
  app.add_option("--type", type_str, "target: " + quant_target_names())->required();
  app.add_option("-t,--threads", n_threads, "threads")->check(CLI::Range(1, 1024));
  CalibrationCheck calib;
  app.add_option("--calibration", calib.text_path,
                 "text FILE to measure the new file against the input on (KLD, same top token, perplexity ratio)");
  app.add_option("--max-kld", calib.max_kld, "refuse to keep the new file when its mean KLD on --calibration is above X")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--force", calib.force, "keep the new file even past --max-kld");
  app.add_option("--calibration-ctx", calib.ctx, "tokens per calibration chunk")->capture_default_str()->check(CLI::Range(8, 65536));
  app.add_option("--calibration-chunks", calib.chunks, "score at most this many chunks (0: all)")->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);

  try {
    if (calib.max_kld >= 0 && calib.text_path.empty()) throw Error("--max-kld needs --calibration FILE");
    if (!calib.text_path.empty()) read_text_file(calib.text_path, "calibration text");  // fail before the work
    QuantTarget target;
    if (!parse_quant_target(type_str, &target))
      throw Error("unknown or unsupported --type '" + type_str + "' (use " + quant_target_names() + ")");

    const auto t0 = std::chrono::steady_clock::now();
    GgufFile in = GgufFile::open(in_path);
    const auto& tensors = in.tensors();
    if (tensors.empty()) throw Error(in_path + " holds no tensors (a vocabulary-only file?)");
    const std::vector<size_t> order = write_order(tensors);
    GgufWriter w;
    for (const auto& k : in.keys()) w.copy(k, *in.find(k));
    w.set_u32("general.quantization_version", 2);
    w.set_u32("general.file_type", target.ftype);
    const std::vector<TensorType> out_type = declare_tensors(w, in, order, target);

    ThreadPool pool(n_threads);
    w.open(out_path);
    std::vector<uint8_t> buf;
    size_t done = 0;
    uint64_t bytes_in = 0, bytes_out = 0;
    for (size_t i : order) {
      const auto& t = tensors[i];
      const TensorType to = out_type[i];
      const size_t idx = done;  // the writer's index: tensors were declared in `order`
      ++done;
      bytes_in += t.nbytes;
      bytes_out += w.tensor_nbytes(idx);
      std::fprintf(stderr, "[%4zu/%4zu] %-32s %-6s -> %-6s %-16s %10s -> %s\n", done, tensors.size(),
                   t.name.c_str(), std::string(type_name(t.type)).c_str(), std::string(type_name(to)).c_str(),
                   t.shape_string().c_str(), human_bytes(t.nbytes).c_str(), human_bytes(w.tensor_nbytes(idx)).c_str());
      write_converted(w, pool, t, to, idx, buf);
    }
    w.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ratio = double(in.file_size()) / double(w.file_size());
    std::printf("tandem quantize: wrote %s: %s, %zu tensors, weights %s -> %s, file %s -> %s (%.2fx %s), %.2f s\n",
                out_path.c_str(), target.name, tensors.size(),
                human_bytes(bytes_in).c_str(), human_bytes(bytes_out).c_str(), human_bytes(in.file_size()).c_str(),
                human_bytes(w.file_size()).c_str(), ratio >= 1 ? ratio : 1 / ratio, ratio >= 1 ? "smaller" : "larger",
                secs);
    calib.threads = n_threads;
    if (!calib.text_path.empty() && !check_calibration(calib, in_path, out_path)) return 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "tandem quantize: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tandem quantize: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace tandem::tools
