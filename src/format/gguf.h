// GGUF v2/v3 reader. Everything in the file is validated before it is used: counts, string and
// array lengths, value types, tensor shapes and types, offsets, alignment and overlap. A bad
// file raises tandem::Error naming the problem and the byte offset; nothing reads out of bounds.
// The parsed view points into the caller's bytes (normally a MappedFile), which must outlive it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/mapped_file.h"
#include "format/tensor_type.h"

namespace tandem {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_value_type_name(GgufValueType t);
// Bytes of one scalar value of type t; 0 for STRING and ARRAY (variable length).
size_t gguf_value_size(GgufValueType t);

// One metadata value. Scalars are widened; strings and arrays point into the file.
struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  int64_t i = 0;            // integer and bool scalars (u64 values above INT64_MAX are rejected)
  double f = 0;             // float scalars
  std::string_view str;     // STRING
  GgufValueType elem_type = GgufValueType::U8;  // ARRAY: element type (never ARRAY)
  uint64_t count = 0;                           // ARRAY: element count
  const uint8_t* elems = nullptr;               // ARRAY of numbers: packed little-endian values
  std::vector<std::string_view> strs;           // ARRAY of strings

  bool is_integer() const;
  bool is_float() const { return type == GgufValueType::F32 || type == GgufValueType::F64; }
};

struct GgufTensorInfo {
  std::string name;
  TensorType type = TensorType::F32;
  uint32_t n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the contiguous (row) dimension
  uint64_t offset = 0;           // from the start of the data section
  uint64_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the file's bytes

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  std::string shape_string() const;
};

class GgufFile {
 public:
  // Parses bytes held elsewhere (used by the fuzz target and tests).
  static GgufFile parse(const uint8_t* data, size_t size);
  // Maps the file and parses it; the map lives inside the returned object.
  static GgufFile open(const std::string& path);

  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }
  size_t file_size() const { return size_; }

  const std::vector<std::string>& keys() const { return key_order_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters: throw Error naming the key if it is missing or of an incompatible type.
  std::string_view get_string(std::string_view key) const;
  int64_t get_int(std::string_view key) const;  // any integer type
  double get_float(std::string_view key) const;  // any float or integer type
  bool get_bool(std::string_view key) const;
  const GgufValue& get_array(std::string_view key, GgufValueType elem) const;

  std::optional<std::string_view> opt_string(std::string_view key) const;
  std::optional<int64_t> opt_int(std::string_view key) const;
  std::optional<double> opt_float(std::string_view key) const;
  std::optional<bool> opt_bool(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // Releases the resident pages of [p, p + n) when the file is memory-mapped (see MappedFile).
  void drop_pages(const uint8_t* p, size_t n) const;
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Numeric array elements as float / int32 (validated element type), for vocab scores and types.
  static float array_f32(const GgufValue& a, uint64_t i);
  static int32_t array_i32(const GgufValue& a, uint64_t i);

 private:
  std::shared_ptr<MappedFile> map_;  // set when opened from a path
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::map<std::string, GgufValue, std::less<>> kv_;
  std::vector<std::string> key_order_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;

  friend class GgufParser;
};

}  // namespace tandem
