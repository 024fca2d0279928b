#include "format/gguf_writer.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "format/error.h"

namespace tandem {

namespace {

constexpr uint32_t kMagic = 0x46554747u;  // "GGUF" little-endian
constexpr uint32_t kVersion = 3;
constexpr size_t kMaxTensorName = 63;  // ggml's GGML_MAX_NAME is 64 including the terminator
constexpr uint64_t kMaxElements = uint64_t(1) << 50;

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Little-endian appends (the engine runs on little-endian hosts only; checked in CMake).
template <typename T>
void put_le(std::vector<uint8_t>& b, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

void put_str(std::vector<uint8_t>& b, std::string_view s) {
  put_le<uint64_t>(b, s.size());
  b.insert(b.end(), s.begin(), s.end());
}

std::vector<uint8_t> typed(GgufValueType t) {
  std::vector<uint8_t> b;
  put_le<uint32_t>(b, uint32_t(t));
  return b;
}

template <typename T>
std::vector<uint8_t> scalar(GgufValueType t, T v) {
  auto b = typed(t);
  put_le<T>(b, v);
  return b;
}

}  // namespace

GgufWriter::~GgufWriter() {
  if (state_ != State::Finished) discard();
}

// ---------------------------------------------------------------- metadata

GgufWriter::Kv* GgufWriter::find_kv(std::string_view key) {
  for (auto& kv : kvs_)
    if (kv.key == key) return &kv;
  return nullptr;
}
const GgufWriter::Kv* GgufWriter::find_kv(std::string_view key) const {
  for (const auto& kv : kvs_)
    if (kv.key == key) return &kv;
  return nullptr;
}

void GgufWriter::check_declaring(const char* what) const {
  if (state_ != State::Declaring)
    throw Error(std::string("GGUF writer: cannot ") + what + " after the header has been written");
}

void GgufWriter::put(std::string_view key, std::vector<uint8_t> value) {
  check_declaring("set metadata");
  if (key.empty()) throw Error("GGUF writer: empty metadata key");
  if (key == "general.alignment") {
    uint32_t t;
    std::memcpy(&t, value.data(), 4);
    if (GgufValueType(t) != GgufValueType::U32)
      throw Error("GGUF writer: general.alignment must be a u32 (llama.cpp requires it), not " +
                  std::string(gguf_value_type_name(GgufValueType(t))));
    uint32_t a;
    std::memcpy(&a, value.data() + 4, 4);
    if (a == 0 || a > (1u << 16) || (a & (a - 1)) != 0)
      throw Error("GGUF writer: general.alignment " + std::to_string(a) + " is not a power of two up to 65536");
    alignment_ = a;
  }
  if (Kv* kv = find_kv(key)) {
    kv->value = std::move(value);
  } else {
    kvs_.push_back({std::string(key), std::move(value)});
  }
  if (key == "general.alignment") recompute_offsets();
}

void GgufWriter::set_u8(std::string_view k, uint8_t v) { put(k, scalar(GgufValueType::U8, v)); }
void GgufWriter::set_i8(std::string_view k, int8_t v) { put(k, scalar(GgufValueType::I8, v)); }
void GgufWriter::set_u16(std::string_view k, uint16_t v) { put(k, scalar(GgufValueType::U16, v)); }
void GgufWriter::set_i16(std::string_view k, int16_t v) { put(k, scalar(GgufValueType::I16, v)); }
void GgufWriter::set_u32(std::string_view k, uint32_t v) { put(k, scalar(GgufValueType::U32, v)); }
void GgufWriter::set_i32(std::string_view k, int32_t v) { put(k, scalar(GgufValueType::I32, v)); }
void GgufWriter::set_u64(std::string_view k, uint64_t v) { put(k, scalar(GgufValueType::U64, v)); }
void GgufWriter::set_i64(std::string_view k, int64_t v) { put(k, scalar(GgufValueType::I64, v)); }
void GgufWriter::set_f32(std::string_view k, float v) { put(k, scalar(GgufValueType::F32, v)); }
void GgufWriter::set_f64(std::string_view k, double v) { put(k, scalar(GgufValueType::F64, v)); }
void GgufWriter::set_bool(std::string_view k, bool v) { put(k, scalar(GgufValueType::BOOL, uint8_t(v ? 1 : 0))); }

void GgufWriter::set_string(std::string_view k, std::string_view v) {
  auto b = typed(GgufValueType::STRING);
  put_str(b, v);
  put(k, std::move(b));
}

void GgufWriter::set_string_array(std::string_view k, const std::vector<std::string_view>& v) {
  auto b = typed(GgufValueType::ARRAY);
  put_le<uint32_t>(b, uint32_t(GgufValueType::STRING));
  put_le<uint64_t>(b, v.size());
  size_t total = 0;
  for (auto s : v) total += 8 + s.size();
  b.reserve(b.size() + total);
  for (auto s : v) put_str(b, s);
  put(k, std::move(b));
}

void GgufWriter::set_string_array(std::string_view k, const std::vector<std::string>& v) {
  std::vector<std::string_view> views(v.begin(), v.end());
  set_string_array(k, views);
}

void GgufWriter::set_array_raw(std::string_view k, GgufValueType elem, const void* data, uint64_t count) {
  size_t es = gguf_value_size(elem);
  if (es == 0)
    throw Error("GGUF writer: array '" + std::string(k) + "' of " + gguf_value_type_name(elem) +
                " needs set_string_array (strings) or is not allowed (nested arrays)");
  if (count > (uint64_t(1) << 40) / es) throw Error("GGUF writer: array '" + std::string(k) + "' is too long");
  if (count && !data) throw Error("GGUF writer: array '" + std::string(k) + "' has no data");
  const auto* p = static_cast<const uint8_t*>(data);
  if (elem == GgufValueType::BOOL)
    for (uint64_t i = 0; i < count; ++i)
      if (p[i] > 1) throw Error("GGUF writer: array '" + std::string(k) + "' holds a bool that is neither 0 nor 1");
  auto b = typed(GgufValueType::ARRAY);
  put_le<uint32_t>(b, uint32_t(elem));
  put_le<uint64_t>(b, count);
  if (count) b.insert(b.end(), p, p + count * es);
  put(k, std::move(b));
}

void GgufWriter::copy(std::string_view k, const GgufValue& v) {
  if (k == "general.alignment" && v.is_integer() && v.type != GgufValueType::BOOL) {
    if (v.i < 0 || v.i > std::numeric_limits<uint32_t>::max())
      throw Error("GGUF writer: general.alignment " + std::to_string(v.i) + " is out of range");
    set_u32(k, uint32_t(v.i));
    return;
  }
  switch (v.type) {
    case GgufValueType::U8: set_u8(k, uint8_t(v.i)); return;
    case GgufValueType::I8: set_i8(k, int8_t(v.i)); return;
    case GgufValueType::U16: set_u16(k, uint16_t(v.i)); return;
    case GgufValueType::I16: set_i16(k, int16_t(v.i)); return;
    case GgufValueType::U32: set_u32(k, uint32_t(v.i)); return;
    case GgufValueType::I32: set_i32(k, int32_t(v.i)); return;
    case GgufValueType::U64: set_u64(k, uint64_t(v.i)); return;
    case GgufValueType::I64: set_i64(k, v.i); return;
    case GgufValueType::F32: set_f32(k, float(v.f)); return;
    case GgufValueType::F64: set_f64(k, v.f); return;
    case GgufValueType::BOOL: set_bool(k, v.i != 0); return;
    case GgufValueType::STRING: set_string(k, v.str); return;
    case GgufValueType::ARRAY:
      if (v.elem_type == GgufValueType::STRING) {
        set_string_array(k, v.strs);
      } else {
        set_array_raw(k, v.elem_type, v.elems, v.count);
      }
      return;
  }
  throw Error("GGUF writer: metadata '" + std::string(k) + "' has an unknown value type");
}

bool GgufWriter::remove(std::string_view key) {
  check_declaring("remove metadata");
  for (auto it = kvs_.begin(); it != kvs_.end(); ++it) {
    if (it->key == key) {
      kvs_.erase(it);
      if (key == "general.alignment") {
        alignment_ = 32;
        recompute_offsets();
      }
      return true;
    }
  }
  return false;
}

void GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 32 && !has("general.alignment")) return;  // the default needs no key
  set_u32("general.alignment", alignment);
}

// ---------------------------------------------------------------- tensors

size_t GgufWriter::add_tensor(std::string_view name, TensorType type, std::span<const int64_t> shape) {
  check_declaring("add a tensor");
  if (name.empty()) throw Error("GGUF writer: empty tensor name");
  if (name.size() > kMaxTensorName)
    throw Error("GGUF writer: tensor name '" + std::string(name) + "' is longer than " +
                std::to_string(kMaxTensorName) + " bytes (ggml's limit)");
  for (const auto& t : tensors_)
    if (t.name == name) throw Error("GGUF writer: duplicate tensor '" + std::string(name) + "'");
  const TensorTypeTraits* tr = tensor_type_traits(uint32_t(type));
  if (!tr) throw Error("GGUF writer: tensor '" + std::string(name) + "' has unknown type " + std::to_string(uint32_t(type)));
  if (shape.empty() || shape.size() > 4)
    throw Error("GGUF writer: tensor '" + std::string(name) + "' has " + std::to_string(shape.size()) +
                " dimensions (1 to 4 allowed)");
  Tensor t;
  t.name = std::string(name);
  t.type = type;
  t.n_dims = uint32_t(shape.size());
  uint64_t total = 1;
  for (int d = 0; d < 4; ++d) t.ne[d] = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0)
      throw Error("GGUF writer: tensor '" + t.name + "' dimension " + std::to_string(d) + " is " +
                  std::to_string(shape[d]));
    if (total > kMaxElements / uint64_t(shape[d])) throw Error("GGUF writer: tensor '" + t.name + "' has too many elements");
    total *= uint64_t(shape[d]);
    t.ne[d] = shape[d];
  }
  if (t.ne[0] % tr->block_elems != 0)
    throw Error("GGUF writer: tensor '" + t.name + "' of type " + tr->name + " has rows of " +
                std::to_string(t.ne[0]) + " elements, not a multiple of its block size " +
                std::to_string(tr->block_elems));
  t.nbytes = total / tr->block_elems * tr->block_bytes;
  t.offset = 0;
  tensors_.push_back(std::move(t));
  recompute_offsets();
  return tensors_.size() - 1;
}

size_t GgufWriter::tensor_index(std::string_view name) const {
  for (size_t i = 0; i < tensors_.size(); ++i)
    if (tensors_[i].name == name) return i;
  throw Error("GGUF writer: no tensor '" + std::string(name) + "' was declared");
}

void GgufWriter::recompute_offsets() {
  uint64_t off = 0;
  for (auto& t : tensors_) {
    t.offset = off;
    off = align_up(off + t.nbytes, alignment_);
  }
  data_size_ = off;
}

uint64_t GgufWriter::header_size() const {
  uint64_t n = 4 + 4 + 8 + 8;
  for (const auto& kv : kvs_) n += 8 + kv.key.size() + kv.value.size();
  for (const auto& t : tensors_) n += 8 + t.name.size() + 4 + 8 * uint64_t(t.n_dims) + 4 + 8;
  return n;
}

uint64_t GgufWriter::data_offset() const {
  // As ggml: with no tensors the file ends right after the header, unpadded.
  return tensors_.empty() ? header_size() : align_up(header_size(), alignment_);
}

uint64_t GgufWriter::file_size() const { return data_offset() + data_size_; }

// ---------------------------------------------------------------- output

void GgufWriter::open(const std::string& path) {
  check_declaring("open the output");
  path_ = path;
  tmp_path_ = path + ".tmp";
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) {
    int e = errno;
    state_ = State::Failed;
    throw Error("cannot create " + tmp_path_ + ": " + std::strerror(e));
  }
  std::setvbuf(file_, nullptr, _IOFBF, size_t(1) << 20);
  begin_output();
}

void GgufWriter::open(std::vector<uint8_t>* out) {
  check_declaring("open the output");
  if (!out) throw Error("GGUF writer: no output vector");
  mem_ = out;
  mem_->clear();
  mem_->reserve(size_t(file_size()));
  path_ = "<memory>";
  begin_output();
}

void GgufWriter::begin_output() {
  state_ = State::Writing;
  std::vector<uint8_t> h;
  h.reserve(size_t(header_size()));
  put_le<uint32_t>(h, kMagic);
  put_le<uint32_t>(h, kVersion);
  put_le<uint64_t>(h, tensors_.size());
  put_le<uint64_t>(h, kvs_.size());
  for (const auto& kv : kvs_) {
    put_str(h, kv.key);
    h.insert(h.end(), kv.value.begin(), kv.value.end());
  }
  for (const auto& t : tensors_) {
    put_str(h, t.name);
    put_le<uint32_t>(h, t.n_dims);
    for (uint32_t d = 0; d < t.n_dims; ++d) put_le<uint64_t>(h, uint64_t(t.ne[d]));
    put_le<uint32_t>(h, uint32_t(t.type));
    put_le<uint64_t>(h, t.offset);
  }
  emit(h.data(), h.size());
  pad_to(data_offset());
  next_ = 0;
  part_written_ = 0;
}

void GgufWriter::emit(const void* data, size_t size) {
  if (size == 0) return;
  if (mem_) {
    const auto* p = static_cast<const uint8_t*>(data);
    mem_->insert(mem_->end(), p, p + size);
  } else if (std::fwrite(data, 1, size, file_) != size) {
    fail_io("write to");
  }
  written_ += size;
}

void GgufWriter::pad_to(uint64_t position) {
  static const uint8_t zeros[256] = {};
  while (written_ < position) emit(zeros, size_t(std::min<uint64_t>(sizeof zeros, position - written_)));
}

void GgufWriter::fail_io(const std::string& what) {
  int e = errno;
  std::string msg = "cannot " + what + " " + tmp_path_ + ": " + std::strerror(e);
  discard();
  throw Error(msg);
}

void GgufWriter::discard() {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
    std::remove(tmp_path_.c_str());
  }
  mem_ = nullptr;
  if (state_ != State::Declaring) state_ = State::Failed;
}

void GgufWriter::write_tensor_part(size_t i, const void* data, size_t size) {
  if (state_ == State::Declaring) throw Error("GGUF writer: open() the output before writing tensor data");
  if (state_ != State::Writing) throw Error("GGUF writer: the output is finished or failed");
  if (i >= tensors_.size())
    throw Error("GGUF writer: tensor index " + std::to_string(i) + " is out of range (" +
                std::to_string(tensors_.size()) + " tensors)");
  if (next_ >= tensors_.size())
    throw Error("GGUF writer: all tensors are written; '" + tensors_[i].name + "' gets no more data");
  const Tensor& t = tensors_[next_];
  if (i != next_)
    throw Error("GGUF writer: tensor '" + tensors_[i].name + "' written out of order; '" + t.name +
                "' comes next");
  if (size > t.nbytes - part_written_)
    throw Error("GGUF writer: tensor '" + t.name + "' " + std::string(type_name(t.type)) + " is " +
                std::to_string(t.nbytes) + " bytes; got " + std::to_string(part_written_ + size));
  if (size && !data) throw Error("GGUF writer: no data for tensor '" + t.name + "'");
  emit(data, size);
  part_written_ += size;
  if (part_written_ == t.nbytes) {
    pad_to(data_offset() + align_up(t.offset + t.nbytes, alignment_));
    ++next_;
    part_written_ = 0;
  }
}

void GgufWriter::write_tensor_data(size_t i, const void* data, size_t size) {
  if (i < tensors_.size() && state_ == State::Writing && i == next_ && size != tensors_[i].nbytes)
    throw Error("GGUF writer: tensor '" + tensors_[i].name + "' " + std::string(type_name(tensors_[i].type)) +
                " is " + std::to_string(tensors_[i].nbytes) + " bytes; got " + std::to_string(size));
  if (i < tensors_.size() && state_ == State::Writing && i == next_ && part_written_ != 0)
    throw Error("GGUF writer: tensor '" + tensors_[i].name + "' is partly written already");
  write_tensor_part(i, data, size);
}

void GgufWriter::finish() {
  if (state_ == State::Declaring) throw Error("GGUF writer: finish() before open()");
  if (state_ != State::Writing) throw Error("GGUF writer: the output is already finished or failed");
  if (next_ < tensors_.size())
    throw Error("GGUF writer: tensor '" + tensors_[next_].name + "' (and " +
                std::to_string(tensors_.size() - next_ - 1) + " after it) was not written");
  if (written_ != file_size())
    throw Error("GGUF writer: internal error: wrote " + std::to_string(written_) + " bytes, expected " +
                std::to_string(file_size()));
  if (file_) {
    if (std::fflush(file_) != 0) fail_io("flush");
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) {
      int e = errno;
      std::remove(tmp_path_.c_str());
      state_ = State::Failed;
      throw Error("cannot close " + tmp_path_ + ": " + std::strerror(e));
    }
    if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
      int e = errno;
      std::remove(tmp_path_.c_str());
      state_ = State::Failed;
      throw Error("cannot rename " + tmp_path_ + " to " + path_ + ": " + std::strerror(e));
    }
  }
  mem_ = nullptr;
  state_ = State::Finished;
}

}  // namespace tandem
