#include "format/tensor_type.h"

#include <cctype>
#include <string>

namespace tandem {

namespace {
struct Entry {
  uint32_t id;
  TensorTypeTraits t;
};
// Block sizes and byte counts from the GGUF/ggml definitions. Types the engine cannot compute
// with are still listed so that a file holding them is described accurately in errors.
constexpr Entry kTypes[] = {
    {0, {"f32", 1, 4}},        {1, {"f16", 1, 2}},        {2, {"q4_0", 32, 18}},
    {3, {"q4_1", 32, 20}},     {6, {"q5_0", 32, 22}},     {7, {"q5_1", 32, 24}},
    {8, {"q8_0", 32, 34}},     {9, {"q8_1", 32, 36}},     {10, {"q2_k", 256, 84}},
    {11, {"q3_k", 256, 110}},  {12, {"q4_k", 256, 144}},  {13, {"q5_k", 256, 176}},
    {14, {"q6_k", 256, 210}},  {15, {"q8_k", 256, 292}},  {30, {"bf16", 1, 2}},
};
}  // namespace

const TensorTypeTraits* tensor_type_traits(uint32_t raw_type) {
  for (const auto& e : kTypes)
    if (e.id == raw_type) return &e.t;
  return nullptr;
}

bool parse_tensor_type(std::string_view s, TensorType* out) {
  std::string lower(s);
  for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& e : kTypes) {
    if (lower == e.t.name) {
      *out = TensorType(e.id);
      return true;
    }
  }
  return false;
}

}  // namespace tandem
