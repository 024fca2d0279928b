// ggml tensor element types as they appear in GGUF files, and their storage traits.
// The numeric values are fixed by the GGUF format; see docs/engine.md.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tandem {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  BF16 = 30,
};

struct TensorTypeTraits {
  const char* name;
  uint32_t block_elems;  // elements per block (1 for plain float types)
  uint32_t block_bytes;  // bytes per block
};

// Traits of a raw type id from a file; nullptr for ids this build does not know.
const TensorTypeTraits* tensor_type_traits(uint32_t raw_type);

inline const TensorTypeTraits& traits(TensorType t) { return *tensor_type_traits(uint32_t(t)); }
inline std::string_view type_name(TensorType t) { return traits(t).name; }

// Bytes of one row of n elements; n must be a multiple of the block size.
inline size_t row_bytes(TensorType t, size_t n) {
  const auto& tr = traits(t);
  return n / tr.block_elems * tr.block_bytes;
}

// Parses "f32", "q4_0", ... (case-insensitive). Returns false if unknown.
bool parse_tensor_type(std::string_view s, TensorType* out);

}  // namespace tandem
