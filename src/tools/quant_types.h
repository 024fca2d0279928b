// What llama.cpp's llama-quantize writes for each target ("ftype"): the default weight type, the
// per-tensor exceptions of the K-quant mixes, the fallbacks for rows that do not fit a type's
// blocks, and general.file_type. Used by `tandem quantize` and `tandem synth`.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "format/tensor_type.h"

namespace tandem::tools {

enum class QuantMix { plain, q4_k_s, q4_k_m, q5_k_s, q5_k_m };

struct QuantTarget {
  const char* name;  // as --type takes it
  TensorType type;   // default type of 2-D weights
  QuantMix mix;
  uint32_t ftype;    // general.file_type (llama.cpp's llama_ftype)
};

// Parses f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k_s, q4_k_m, q5_k_s, q5_k_m, q6_k and
// the aliases q4_k (= q4_k_m) and q5_k (= q5_k_m), case-insensitive. False if unknown.
bool parse_quant_target(std::string_view s, QuantTarget* out);
std::string quant_target_names();  // "f32, f16, ..." for help texts

// The type llama-quantize gives tensor `name` (n_dims dimensions, rows of ne0 elements, stored as
// `current`) for `target`, in a model of n_layer blocks whose output projection is
// output.weight (has_output) or the tied token_embd.weight.
TensorType llama_quant_type(std::string_view name, uint32_t n_dims, int64_t ne0, TensorType current,
                            const QuantTarget& target, bool has_output, int n_layer);

}  // namespace tandem::tools
