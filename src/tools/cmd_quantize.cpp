// tandem quantize IN OUT --type q8_0|q4_0|f16|f32 [-t N]: converts a GGUF model's weights.
// Type choices follow llama.cpp's llama-quantize for these types, so that our Q8_0/Q4_0 files
// have the same per-tensor types as llama.cpp's (see llama_quant_type below). Tensors are
// converted one at a time in row chunks, so memory stays small whatever the model size.
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
#include "kernels/thread_pool.h"
#include "tools/commands.h"
#include "tools/common.h"

namespace tandem::tools {

// Declared in common.h, shared with cmd_synth.cpp: the type llama.cpp gives a tensor when a model
// is quantized to `target`.
//  - 1-D tensors (norms) and tensors not named *weight keep their type (F32 in practice);
//  - for Q4_0, the output projection (output.weight, or token_embd.weight when the embedding
//    is tied) becomes Q8_0: llama.cpp asks for Q6_K there and, where rows are not a multiple
//    of 256 or Q6_K is unavailable, falls back to Q8_0; tandem writes no K-quants, so Q8_0;
//  - rows that are not a multiple of the block size (stories260K's ffn_down, 172) become F16.
TensorType llama_quant_type(std::string_view name, uint32_t n_dims, int64_t ne0, TensorType current,
                            TensorType target, bool has_output) {
  auto ends_with = [&](std::string_view s) {
    return name.size() >= s.size() && name.substr(name.size() - s.size()) == s;
  };
  if (n_dims < 2 || !ends_with("weight")) return current;
  TensorType t = target;
  const bool is_output = name == "output.weight" || (!has_output && name == "token_embd.weight");
  if (is_output && target == TensorType::Q4_0) t = TensorType::Q8_0;
  if (ne0 % traits(t).block_elems != 0) t = TensorType::F16;
  return t;
}

// general.file_type: llama.cpp's llama_ftype (ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7).
uint32_t llama_ftype_of(TensorType target) {
  switch (target) {
    case TensorType::F32: return 0;
    case TensorType::F16: return 1;
    case TensorType::Q4_0: return 2;
    case TensorType::Q8_0: return 7;
    case TensorType::BF16: return 32;
    default: throw Error("no llama.cpp file type for " + std::string(type_name(target)));
  }
}

namespace {

// llama-quantize's tensor order: tensors outside the blocks first, then block by block;
// by name within each group.
int block_of(const std::string& name) {
  int b = -1;
  if (std::sscanf(name.c_str(), "blk.%d.", &b) != 1) return -1;
  return b;
}

bool is_readable(TensorType t) {
  return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16 || t == TensorType::Q8_0 ||
         t == TensorType::Q4_0;
}

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

}  // namespace

int cmd_quantize(int argc, char** argv) {
  CLI::App app{"Convert a GGUF model's weights to another type, as llama.cpp's llama-quantize does:\n"
               "1-D tensors stay as they are, 2-D weights become TYPE; rows that are not a multiple\n"
               "of 32 become F16; for q4_0 the output projection becomes q8_0.",
               argv[0]};
  std::string in_path, out_path, type_str;
  int n_threads = int(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("input", in_path, "input GGUF (F32, F16, BF16, Q8_0 or Q4_0 weights)")->required();
  app.add_option("output", out_path, "output GGUF")->required();
  app.add_option("--type", type_str, "target type: q8_0, q4_0, f16 or f32")->required();
  app.add_option("-t,--threads", n_threads, "threads")->check(CLI::Range(1, 1024));
  CLI11_PARSE(app, argc, argv);

  try {
    TensorType target;
    if (!parse_tensor_type(type_str, &target) ||
        !(target == TensorType::Q8_0 || target == TensorType::Q4_0 || target == TensorType::F16 ||
          target == TensorType::F32))
      throw Error("unknown or unsupported --type '" + type_str + "' (use q8_0, q4_0, f16 or f32)");

    const auto t0 = std::chrono::steady_clock::now();
    GgufFile in = GgufFile::open(in_path);
    const auto& tensors = in.tensors();
    if (tensors.empty()) throw Error(in_path + " holds no tensors (a vocabulary-only file?)");

    std::vector<size_t> order(tensors.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      int ba = block_of(tensors[a].name), bb = block_of(tensors[b].name);
      if (ba != bb) return ba < bb;
      return tensors[a].name < tensors[b].name;
    });

    const bool has_output = in.find_tensor("output.weight") != nullptr;
    GgufWriter w;
    for (const auto& k : in.keys()) w.copy(k, *in.find(k));
    w.set_u32("general.quantization_version", 2);
    w.set_u32("general.file_type", llama_ftype_of(target));

    std::vector<TensorType> out_type(tensors.size());
    for (size_t i : order) {
      const auto& t = tensors[i];
      out_type[i] = llama_quant_type(t.name, t.n_dims, t.ne[0], t.type, target, has_output);
      if (out_type[i] != t.type && !is_readable(t.type))
        throw Error("tensor '" + t.name + "' has type " + std::string(type_name(t.type)) +
                    ", which tandem quantize cannot read (it reads f32, f16, bf16, q8_0 and q4_0)");
      w.add_tensor(t.name, out_type[i], std::span<const int64_t>(t.ne, t.n_dims));
    }

    ThreadPool pool(n_threads);
    w.open(out_path);
    constexpr size_t kChunkBytes = size_t(16) << 20;
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
      if (to == t.type) {
        w.write_tensor_data(idx, t.data, t.nbytes);
        continue;
      }
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
    w.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double ratio = double(in.file_size()) / double(w.file_size());
    std::printf("tandem quantize: wrote %s: %s, %zu tensors, weights %s -> %s, file %s -> %s (%.2fx %s), %.2f s\n",
                out_path.c_str(), std::string(type_name(target)).c_str(), tensors.size(),
                human_bytes(bytes_in).c_str(), human_bytes(bytes_out).c_str(), human_bytes(in.file_size()).c_str(),
                human_bytes(w.file_size()).c_str(), ratio >= 1 ? ratio : 1 / ratio, ratio >= 1 ? "smaller" : "larger",
                secs);
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
