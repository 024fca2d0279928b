#include "tools/quant_types.h"

#include <cctype>
#include <cstdio>

namespace tandem::tools {

namespace {

constexpr QuantTarget kTargets[] = {
    {"f32", TensorType::F32, QuantMix::plain, 0},      {"f16", TensorType::F16, QuantMix::plain, 1},
    {"bf16", TensorType::BF16, QuantMix::plain, 32},   {"q8_0", TensorType::Q8_0, QuantMix::plain, 7},
    {"q4_0", TensorType::Q4_0, QuantMix::plain, 2},    {"q4_1", TensorType::Q4_1, QuantMix::plain, 3},
    {"q5_0", TensorType::Q5_0, QuantMix::plain, 8},    {"q5_1", TensorType::Q5_1, QuantMix::plain, 9},
    {"q4_k_s", TensorType::Q4_K, QuantMix::q4_k_s, 14}, {"q4_k_m", TensorType::Q4_K, QuantMix::q4_k_m, 15},
    {"q5_k_s", TensorType::Q5_K, QuantMix::q5_k_s, 16}, {"q5_k_m", TensorType::Q5_K, QuantMix::q5_k_m, 17},
    {"q6_k", TensorType::Q6_K, QuantMix::plain, 18},
};

bool is_block_quantized(TensorType t) { return traits(t).block_elems > 1; }

bool is_k_quant(TensorType t) { return t == TensorType::Q4_K || t == TensorType::Q5_K || t == TensorType::Q6_K; }

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third in between.
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

int layer_of(std::string_view name) {
  int b = -1;
  if (std::sscanf(std::string(name).c_str(), "blk.%d.", &b) != 1) return -1;
  return b;
}

}  // namespace

bool parse_quant_target(std::string_view s, QuantTarget* out) {
  std::string lower(s);
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "q4_k") lower = "q4_k_m";  // llama-quantize's aliases
  if (lower == "q5_k") lower = "q5_k_m";
  for (const auto& t : kTargets)
    if (lower == t.name) {
      *out = t;
      return true;
    }
  return false;
}

std::string quant_target_names() {
  std::string s;
  for (const auto& t : kTargets) s += (s.empty() ? "" : ", ") + std::string(t.name);
  return s + " (q4_k = q4_k_m, q5_k = q5_k_m)";
}

TensorType llama_quant_type(std::string_view name, uint32_t n_dims, int64_t ne0, TensorType current,
                            const QuantTarget& target, bool has_output, int n_layer) {
  auto contains = [&](std::string_view s) { return name.find(s) != std::string_view::npos; };
  // 1-D tensors (norms) and tensors not named *weight keep their type.
  if (n_dims < 2 || name.size() < 6 || name.substr(name.size() - 6) != "weight") return current;
  TensorType t = target.type;
  // llama-quantize applies its per-tensor rules only to quantized targets.
  if (!is_block_quantized(t)) return t;
  const bool is_output = name == "output.weight" || (!has_output && name == "token_embd.weight");
  const int i = layer_of(name);
  const QuantMix mix = target.mix;
  if (is_output) {
    // Q6_K for the output projection unless the target is Q8_0 or rows do not fit 256 blocks.
    if (ne0 % 256 != 0) t = TensorType::Q8_0;
    else if (t != TensorType::Q8_0) t = TensorType::Q6_K;
  } else if (contains("attn_v.weight")) {
    if ((mix == QuantMix::q4_k_m || mix == QuantMix::q5_k_m) && use_more_bits(i, n_layer)) t = TensorType::Q6_K;
    else if (mix == QuantMix::q4_k_s && i < 4) t = TensorType::Q5_K;
  } else if (contains("ffn_down")) {
    if ((mix == QuantMix::q4_k_m || mix == QuantMix::q5_k_m) && use_more_bits(i, n_layer)) t = TensorType::Q6_K;
    else if (mix == QuantMix::q4_k_s && i < n_layer / 8) t = TensorType::Q5_K;
  } else if (contains("attn_qkv.weight")) {
    if (mix == QuantMix::q4_k_m) t = TensorType::Q5_K;
    else if (mix == QuantMix::q5_k_m) t = TensorType::Q6_K;
  }
  // Rows that are not a multiple of the block size: the K-quants fall back to a 32-block type
  // (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0), and whatever still does not fit becomes F16.
  if (ne0 % traits(t).block_elems != 0) {
    if (is_k_quant(t))
      t = t == TensorType::Q4_K ? TensorType::Q5_0 : t == TensorType::Q5_K ? TensorType::Q5_1 : TensorType::Q8_0;
    if (ne0 % traits(t).block_elems != 0) t = TensorType::F16;
  }
  return t;
}

}  // namespace tandem::tools
