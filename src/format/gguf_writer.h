// GGUF v3 writer. Metadata and the tensor table are declared first; then the header is written
// and tensor data is streamed in declaration order, whole or in pieces, so a writer never needs
// more than one piece of one tensor in memory. Everything is validated as it is declared: key
// and tensor names, shapes against the type's block size, duplicate names, data sizes, order.
//
//   GgufWriter w;
//   w.set_string("general.architecture", "llama");
//   w.add_tensor("token_embd.weight", TensorType::Q8_0, {2048, 32000});
//   w.open("model.gguf");                  // writes header, metadata, tensor infos, padding
//   w.write_tensor_data(0, bytes, n);      // or write_tensor_part(...) several times
//   w.finish();                            // checks every tensor was written, renames into place
//
// A file is written to "PATH.tmp" and renamed to PATH by finish(), so a failed or abandoned
// write never leaves a truncated model behind (and never clobbers a file being read in place).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "format/gguf.h"
#include "format/tensor_type.h"

namespace tandem {

class GgufWriter {
 public:
  GgufWriter() = default;
  ~GgufWriter();  // an unfinished file is closed and its temporary removed
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // ---- metadata (before open) ----
  // Setting a key that exists replaces its value in place (it keeps its position).
  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f32(std::string_view key, float v);
  void set_f64(std::string_view key, double v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_string_array(std::string_view key, const std::vector<std::string>& v);
  void set_string_array(std::string_view key, const std::vector<std::string_view>& v);
  // Packed little-endian elements of a numeric or bool type (bools must be 0 or 1).
  void set_array_raw(std::string_view key, GgufValueType elem, const void* data, uint64_t count);
  template <typename T>
  void set_array(std::string_view key, std::span<const T> v) {
    set_array_raw(key, value_type_of<T>(), v.data(), v.size());
  }
  template <typename T>
  void set_array(std::string_view key, const std::vector<T>& v) {
    set_array(key, std::span<const T>(v));
  }
  // Copies a value read from another file (any type, arrays of strings or numbers included).
  void copy(std::string_view key, const GgufValue& v);
  bool remove(std::string_view key);  // true if the key was there
  bool has(std::string_view key) const { return find_kv(key) != nullptr; }
  size_t metadata_count() const { return kvs_.size(); }

  // Data alignment, a power of two (default 32). A value other than 32 is recorded as
  // general.alignment (u32); setting general.alignment directly has the same effect.
  void set_alignment(uint32_t alignment);
  uint32_t alignment() const { return alignment_; }

  // ---- tensors (before open) ----
  // shape is ne[0] (the contiguous row length) first, 1 to 4 dimensions. Returns the index.
  size_t add_tensor(std::string_view name, TensorType type, std::span<const int64_t> shape);
  size_t add_tensor(std::string_view name, TensorType type, std::initializer_list<int64_t> shape) {
    return add_tensor(name, type, std::span<const int64_t>(shape.begin(), shape.size()));
  }
  size_t tensor_count() const { return tensors_.size(); }
  size_t tensor_index(std::string_view name) const;  // throws if there is no such tensor
  const std::string& tensor_name(size_t i) const { return tensors_.at(i).name; }
  uint64_t tensor_nbytes(size_t i) const { return tensors_.at(i).nbytes; }
  uint64_t tensor_offset(size_t i) const { return tensors_.at(i).offset; }  // in the data section

  // Sizes of what open() will write: header + metadata + tensor infos (unpadded), the aligned
  // start of the data section, and the whole file.
  uint64_t header_size() const;
  uint64_t data_offset() const;
  uint64_t file_size() const;

  // ---- output ----
  // Writes everything up to the data section. After this, metadata and tensors are frozen.
  void open(const std::string& path);
  // The same into memory (for tests and small files); the vector must outlive finish().
  void open(std::vector<uint8_t>* out);

  // All bytes of tensor i at once (i must be the next tensor to write).
  void write_tensor_data(size_t i, const void* data, size_t size);
  void write_tensor_data(std::string_view name, const void* data, size_t size) {
    write_tensor_data(tensor_index(name), data, size);
  }
  // A piece of tensor i; pieces are appended until the tensor is complete, then the writer
  // pads to the alignment and moves on to the next tensor.
  void write_tensor_part(size_t i, const void* data, size_t size);
  size_t next_tensor() const { return next_; }  // index of the tensor expected next

  // Checks that every tensor was written, flushes and closes (renaming into place).
  void finish();
  bool finished() const { return state_ == State::Finished; }

  template <typename T>
  static constexpr GgufValueType value_type_of() {
    if constexpr (std::is_same_v<T, uint8_t>) return GgufValueType::U8;
    else if constexpr (std::is_same_v<T, int8_t>) return GgufValueType::I8;
    else if constexpr (std::is_same_v<T, uint16_t>) return GgufValueType::U16;
    else if constexpr (std::is_same_v<T, int16_t>) return GgufValueType::I16;
    else if constexpr (std::is_same_v<T, uint32_t>) return GgufValueType::U32;
    else if constexpr (std::is_same_v<T, int32_t>) return GgufValueType::I32;
    else if constexpr (std::is_same_v<T, uint64_t>) return GgufValueType::U64;
    else if constexpr (std::is_same_v<T, int64_t>) return GgufValueType::I64;
    else if constexpr (std::is_same_v<T, float>) return GgufValueType::F32;
    else if constexpr (std::is_same_v<T, double>) return GgufValueType::F64;
    else static_assert(sizeof(T) == 0, "no GGUF array element type for this C++ type");
  }

 private:
  enum class State { Declaring, Writing, Finished, Failed };
  struct Kv {
    std::string key;
    std::vector<uint8_t> value;  // value type (u32) followed by the encoded value
  };
  struct Tensor {
    std::string name;
    TensorType type;
    uint32_t n_dims;
    int64_t ne[4];
    uint64_t nbytes;
    uint64_t offset;
  };

  Kv* find_kv(std::string_view key);
  const Kv* find_kv(std::string_view key) const;
  void put(std::string_view key, std::vector<uint8_t> value);
  void check_declaring(const char* what) const;
  void recompute_offsets();
  void begin_output();
  void emit(const void* data, size_t size);
  void pad_to(uint64_t position);
  [[noreturn]] void fail_io(const std::string& what);
  void discard();

  std::vector<Kv> kvs_;
  std::vector<Tensor> tensors_;
  uint32_t alignment_ = 32;
  uint64_t data_size_ = 0;

  State state_ = State::Declaring;
  std::string path_, tmp_path_;
  std::FILE* file_ = nullptr;
  std::vector<uint8_t>* mem_ = nullptr;
  uint64_t written_ = 0;       // bytes emitted so far
  size_t next_ = 0;            // next tensor to write
  uint64_t part_written_ = 0;  // bytes of tensor next_ written so far
};

}  // namespace tandem
