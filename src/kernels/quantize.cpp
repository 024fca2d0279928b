#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "format/error.h"
#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/quantize_impl.h"

namespace tandem {

bool is_supported_weight_type(TensorType t) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16:
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q4_1:
    case TensorType::Q5_0:
    case TensorType::Q5_1:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return true;
    default: return false;
  }
}

TensorType activation_type(TensorType w) {
  switch (w) {
    case TensorType::F32: return TensorType::F32;
    case TensorType::F16: return TensorType::F16;
    case TensorType::BF16: return TensorType::BF16;
    case TensorType::Q8_0:
    case TensorType::Q4_0:
    case TensorType::Q5_0: return TensorType::Q8_0;
    case TensorType::Q4_1:
    case TensorType::Q5_1: return TensorType::Q8_1;
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: return TensorType::Q8_K;
    default: throw Error("no kernels for weight type " + std::string(type_name(w)));
  }
}

namespace {

void quantize_q8_0(const float* x, BlockQ8_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
    // As ggml's SIMD path (used for activations): scale 127/amax, round half to even.
    const float d = amax / 127.f;
    const float id = amax != 0 ? 127.f / amax : 0.f;
    y[b].d = f32_to_fp16(d);
    for (int j = 0; j < kQK; ++j) y[b].qs[j] = int8_t(std::nearbyint(x[j] * id));
  }
}

void quantize_q4_0(const float* x, BlockQ4_0* y, size_t nb) {
  for (size_t b = 0; b < nb; ++b, x += kQK) {
    const float max = quant::signed_absmax(x, kQK);
    const float d = max / -8;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[b].d = f32_to_fp16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const uint8_t lo = uint8_t(std::min(15, int(int8_t(x[j] * id + 8.5f))));
      const uint8_t hi = uint8_t(std::min(15, int(int8_t(x[j + kQK / 2] * id + 8.5f))));
      y[b].qs[j] = uint8_t(lo | (hi << 4));
    }
  }
}

void check_blocks(TensorType t, size_t n) {
  const auto& tr = traits(t);
  if (n % tr.block_elems != 0)
    throw Error("row of " + std::to_string(n) + " elements is not a multiple of the " + tr.name +
                " block size " + std::to_string(tr.block_elems));
}

}  // namespace

void quantize_row(TensorType t, const float* x, void* out, size_t n) {
  check_blocks(t, n);
  switch (t) {
    case TensorType::F32: std::memcpy(out, x, n * 4); return;
    case TensorType::F16: {
      auto* o = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) o[i] = f32_to_fp16(x[i]);
      return;
    }
    case TensorType::BF16: {
      auto* o = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < n; ++i) o[i] = f32_to_bf16(x[i]);
      return;
    }
    case TensorType::Q8_0: quantize_q8_0(x, static_cast<BlockQ8_0*>(out), n / kQK); return;
    case TensorType::Q4_0: quantize_q4_0(x, static_cast<BlockQ4_0*>(out), n / kQK); return;
    case TensorType::Q4_1: quant::quantize_q4_1(x, static_cast<BlockQ4_1*>(out), n / kQK); return;
    case TensorType::Q5_0: quant::quantize_q5_0(x, static_cast<BlockQ5_0*>(out), n / kQK); return;
    case TensorType::Q5_1: quant::quantize_q5_1(x, static_cast<BlockQ5_1*>(out), n / kQK); return;
    case TensorType::Q8_1: quant::quantize_q8_1(x, static_cast<BlockQ8_1*>(out), n / kQK); return;
    case TensorType::Q4_K: quant::quantize_q4_k(x, static_cast<BlockQ4_K*>(out), n / kQK_K); return;
    case TensorType::Q5_K: quant::quantize_q5_k(x, static_cast<BlockQ5_K*>(out), n / kQK_K); return;
    case TensorType::Q6_K: quant::quantize_q6_k(x, static_cast<BlockQ6_K*>(out), n / kQK_K); return;
    case TensorType::Q8_K: quant::quantize_q8_k(x, static_cast<BlockQ8_K*>(out), n / kQK_K); return;
    default: throw Error("cannot quantize to " + std::string(type_name(t)));
  }
}

void dequantize_row(TensorType t, const void* in, float* out, size_t n) {
  check_blocks(t, n);
  switch (t) {
    case TensorType::F32: std::memcpy(out, in, n * 4); return;
    case TensorType::F16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) out[i] = fp16_to_f32(h[i]);
      return;
    }
    case TensorType::BF16: {
      const auto* h = static_cast<const uint16_t*>(in);
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(h[i]);
      return;
    }
    case TensorType::Q8_0: {
      const auto* b = static_cast<const BlockQ8_0*>(in);
      for (size_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int j = 0; j < kQK; ++j) out[i * kQK + j] = b[i].qs[j] * d;
      }
      return;
    }
    case TensorType::Q4_0: {
      const auto* b = static_cast<const BlockQ4_0*>(in);
      for (size_t i = 0; i < n / kQK; ++i) {
        const float d = fp16_to_f32(b[i].d);
        for (int j = 0; j < kQK / 2; ++j) {
          out[i * kQK + j] = (int(b[i].qs[j] & 0x0f) - 8) * d;
          out[i * kQK + j + kQK / 2] = (int(b[i].qs[j] >> 4) - 8) * d;
        }
      }
      return;
    }
    case TensorType::Q4_1: quant::dequantize_q4_1(static_cast<const BlockQ4_1*>(in), out, n / kQK); return;
    case TensorType::Q5_0: quant::dequantize_q5_0(static_cast<const BlockQ5_0*>(in), out, n / kQK); return;
    case TensorType::Q5_1: quant::dequantize_q5_1(static_cast<const BlockQ5_1*>(in), out, n / kQK); return;
    case TensorType::Q8_1: quant::dequantize_q8_1(static_cast<const BlockQ8_1*>(in), out, n / kQK); return;
    case TensorType::Q4_K: quant::dequantize_q4_k(static_cast<const BlockQ4_K*>(in), out, n / kQK_K); return;
    case TensorType::Q5_K: quant::dequantize_q5_k(static_cast<const BlockQ5_K*>(in), out, n / kQK_K); return;
    case TensorType::Q6_K: quant::dequantize_q6_k(static_cast<const BlockQ6_K*>(in), out, n / kQK_K); return;
    case TensorType::Q8_K: quant::dequantize_q8_k(static_cast<const BlockQ8_K*>(in), out, n / kQK_K); return;
    default: throw Error("cannot dequantize " + std::string(type_name(t)));
  }
}

}  // namespace tandem
