#include "format/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "format/error.h"

namespace tandem {

namespace {

constexpr uint64_t kMaxDims = 4;
constexpr uint64_t kMaxStringLen = uint64_t(1) << 30;  // no key or token is a gigabyte long

bool valid_value_type(uint32_t t) { return t <= uint32_t(GgufValueType::F64); }

template <typename T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // the engine runs on little-endian hosts only (checked in CMake)
  return v;
}

}  // namespace

size_t gguf_value_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    default: return 0;  // STRING, ARRAY: variable
  }
}

const char* gguf_value_type_name(GgufValueType t) {
  static const char* names[] = {"u8",  "i8",     "u16",   "i16", "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  return valid_value_type(uint32_t(t)) ? names[uint32_t(t)] : "invalid";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::U16:
    case GgufValueType::I16: case GgufValueType::U32: case GgufValueType::I32:
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::BOOL:
      return true;
    default:
      return false;
  }
}

std::string GgufTensorInfo::shape_string() const {
  std::string s = "[";
  for (uint32_t d = 0; d < n_dims; ++d) s += (d ? ", " : "") + std::to_string(ne[d]);
  return s + "]";
}

// Bounds-checked cursor over the file bytes. Every read names what it was reading on failure.
class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size) : p_(data), size_(size) {}

  [[noreturn]] void fail(const std::string& msg) const {
    throw Error("invalid GGUF file: " + msg + " (at byte " + std::to_string(pos_) + " of " +
                std::to_string(size_) + ")");
  }

  void need(uint64_t n, const char* what) const {
    if (n > size_ - pos_)
      fail(std::string("truncated while reading ") + what + " (needs " + std::to_string(n) +
           " bytes, " + std::to_string(size_ - pos_) + " left)");
  }

  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v = load_le<T>(p_ + pos_);
    pos_ += sizeof(T);
    return v;
  }

  std::string_view read_string(const char* what) {
    uint64_t n = read<uint64_t>(what);
    if (n > kMaxStringLen) fail(std::string(what) + " length " + std::to_string(n) + " is absurd");
    need(n, what);
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), size_t(n));
    pos_ += n;
    return s;
  }

  void read_value(GgufValue& v, GgufValueType t, const std::string& key) {
    v.type = t;
    switch (t) {
      case GgufValueType::U8: v.i = read<uint8_t>("u8 value"); break;
      case GgufValueType::I8: v.i = read<int8_t>("i8 value"); break;
      case GgufValueType::U16: v.i = read<uint16_t>("u16 value"); break;
      case GgufValueType::I16: v.i = read<int16_t>("i16 value"); break;
      case GgufValueType::U32: v.i = read<uint32_t>("u32 value"); break;
      case GgufValueType::I32: v.i = read<int32_t>("i32 value"); break;
      case GgufValueType::U64: {
        uint64_t u = read<uint64_t>("u64 value");
        if (u > uint64_t(std::numeric_limits<int64_t>::max()))
          fail("value of '" + key + "' is out of range");
        v.i = int64_t(u);
        break;
      }
      case GgufValueType::I64: v.i = read<int64_t>("i64 value"); break;
      case GgufValueType::F32: v.f = read<float>("f32 value"); break;
      case GgufValueType::F64: v.f = read<double>("f64 value"); break;
      case GgufValueType::BOOL: {
        uint8_t b = read<uint8_t>("bool value");
        if (b > 1) fail("bool value of '" + key + "' is " + std::to_string(b));
        v.i = b;
        break;
      }
      case GgufValueType::STRING: v.str = read_string("string value"); break;
      case GgufValueType::ARRAY: {
        uint32_t et = read<uint32_t>("array element type");
        if (!valid_value_type(et)) fail("array '" + key + "' has unknown element type " + std::to_string(et));
        if (GgufValueType(et) == GgufValueType::ARRAY)
          fail("array '" + key + "' holds arrays; nested arrays are not supported");
        v.elem_type = GgufValueType(et);
        v.count = read<uint64_t>("array length");
        if (v.elem_type == GgufValueType::STRING) {
          // Each string takes at least its 8-byte length: reject impossible counts before reserving.
          if (v.count > (size_ - pos_) / 8)
            fail("array '" + key + "' claims " + std::to_string(v.count) + " strings, more than the file can hold");
          v.strs.reserve(size_t(v.count));
          for (uint64_t i = 0; i < v.count; ++i) v.strs.push_back(read_string("array string"));
        } else {
          size_t es = gguf_value_size(v.elem_type);
          if (v.count > (size_ - pos_) / es)
            fail("array '" + key + "' of " + std::to_string(v.count) + " " +
                 gguf_value_type_name(v.elem_type) + " runs past the end of the file");
          v.elems = p_ + pos_;
          pos_ += v.count * es;
          if (v.elem_type == GgufValueType::BOOL)
            for (uint64_t i = 0; i < v.count; ++i)
              if (v.elems[i] > 1) fail("array '" + key + "' holds a bool that is neither 0 nor 1");
        }
        break;
      }
    }
  }

  GgufFile parse() {
    GgufFile f;
    f.base_ = p_;
    f.size_ = size_;
    const auto [n_tensors, n_kv] = read_header(f);
    for (uint64_t k = 0; k < n_kv; ++k) read_metadata(f);
    read_alignment(f);
    f.tensors_.reserve(size_t(n_tensors));
    for (uint64_t t = 0; t < n_tensors; ++t) read_tensor_info(f, t);
    place_tensors(f);
    return f;
  }

  // Magic, version, and the two counts (tensors, metadata), checked against the file's size.
  std::pair<uint64_t, uint64_t> read_header(GgufFile& f) {
    uint32_t magic = read<uint32_t>("magic");
    if (magic != 0x46554747u) {  // "GGUF" little-endian
      pos_ = 0;
      fail("bad magic (not a GGUF file)");
    }
    f.version_ = read<uint32_t>("version");
    if (f.version_ == 1) fail("GGUF version 1 is obsolete and not supported; re-convert the model");
    if (f.version_ != 2 && f.version_ != 3)
      fail("unsupported GGUF version " + std::to_string(f.version_));
    uint64_t n_tensors = read<uint64_t>("tensor count");
    uint64_t n_kv = read<uint64_t>("metadata count");
    // A key/value takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least 8+4+8+4+8.
    if (n_kv > (size_ - pos_) / 13) fail("metadata count " + std::to_string(n_kv) + " is larger than the file");
    if (n_tensors > (size_ - pos_) / 32) fail("tensor count " + std::to_string(n_tensors) + " is larger than the file");
    return {n_tensors, n_kv};
  }

  void read_metadata(GgufFile& f) {
    std::string key(read_string("metadata key"));
    if (key.empty()) fail("empty metadata key");
    if (f.kv_.count(key)) fail("duplicate metadata key '" + key + "'");
    uint32_t t = read<uint32_t>("metadata value type");
    if (!valid_value_type(t)) fail("metadata '" + key + "' has unknown value type " + std::to_string(t));
    GgufValue v;
    read_value(v, GgufValueType(t), key);
    f.key_order_.push_back(key);
    f.kv_.emplace(std::move(key), std::move(v));
  }

  void read_alignment(GgufFile& f) {
    const GgufValue* a = f.find("general.alignment");
    if (!a) return;
    if (!a->is_integer() || a->type == GgufValueType::BOOL) fail("general.alignment is not an integer");
    if (a->i <= 0 || a->i > (1 << 16) || (a->i & (a->i - 1)) != 0)
      fail("general.alignment " + std::to_string(a->i) + " is not a power of two");
    f.alignment_ = uint32_t(a->i);
  }

  void read_tensor_info(GgufFile& f, uint64_t t) {
    GgufTensorInfo ti;
    ti.name = std::string(read_string("tensor name"));
    if (ti.name.empty()) fail("tensor " + std::to_string(t) + " has an empty name");
    if (f.tensor_index_.count(ti.name)) fail("duplicate tensor '" + ti.name + "'");
    ti.n_dims = read<uint32_t>("tensor dimension count");
    if (ti.n_dims == 0 || ti.n_dims > kMaxDims)
      fail("tensor '" + ti.name + "' has " + std::to_string(ti.n_dims) + " dimensions (1 to 4 allowed)");
    uint64_t total = 1;
    for (uint32_t d = 0; d < ti.n_dims; ++d) {
      uint64_t ne = read<uint64_t>("tensor dimension");
      if (ne == 0 || ne > (uint64_t(1) << 40))
        fail("tensor '" + ti.name + "' dimension " + std::to_string(d) + " is " + std::to_string(ne));
      if (total > (uint64_t(1) << 50) / ne) fail("tensor '" + ti.name + "' has too many elements");
      total *= ne;
      ti.ne[d] = int64_t(ne);
    }
    uint32_t raw_type = read<uint32_t>("tensor type");
    const TensorTypeTraits* tr = tensor_type_traits(raw_type);
    if (!tr) fail("tensor '" + ti.name + "' has unknown type " + std::to_string(raw_type));
    ti.type = TensorType(raw_type);
    if (ti.ne[0] % tr->block_elems != 0)
      fail("tensor '" + ti.name + "' of type " + tr->name + " has rows of " + std::to_string(ti.ne[0]) +
           " elements, not a multiple of its block size " + std::to_string(tr->block_elems));
    ti.nbytes = total / tr->block_elems * tr->block_bytes;
    ti.offset = read<uint64_t>("tensor offset");
    if (ti.offset % f.alignment_ != 0)
      fail("tensor '" + ti.name + "' offset " + std::to_string(ti.offset) + " is not aligned to " +
           std::to_string(f.alignment_));
    f.tensor_index_.emplace(ti.name, f.tensors_.size());
    f.tensors_.push_back(std::move(ti));
  }

  // The data section starts at the next multiple of the alignment after the header; every tensor
  // must lie inside it, and no two may overlap.
  void place_tensors(GgufFile& f) {
    uint64_t data = (uint64_t(pos_) + f.alignment_ - 1) / f.alignment_ * f.alignment_;
    if (!f.tensors_.empty() && data > size_) fail("data section starts past the end of the file");
    f.data_offset_ = size_t(std::min<uint64_t>(data, size_));
    uint64_t data_size = size_ - f.data_offset_;

    std::vector<const GgufTensorInfo*> by_offset;
    for (auto& ti : f.tensors_) {
      if (ti.offset > data_size || ti.nbytes > data_size - ti.offset)
        throw Error("invalid GGUF file: tensor '" + ti.name + "' " + ti.shape_string() + " " +
                    std::string(type_name(ti.type)) + " (" + std::to_string(ti.nbytes) +
                    " bytes at data offset " + std::to_string(ti.offset) + ") runs past the end of the file (" +
                    std::to_string(data_size) + " data bytes); the file is truncated or corrupt");
      ti.data = p_ + f.data_offset_ + ti.offset;
      by_offset.push_back(&ti);
    }
    std::sort(by_offset.begin(), by_offset.end(),
              [](auto* a, auto* b) { return a->offset < b->offset; });
    for (size_t i = 1; i < by_offset.size(); ++i) {
      const auto* a = by_offset[i - 1];
      const auto* b = by_offset[i];
      if (a->offset + a->nbytes > b->offset)
        throw Error("invalid GGUF file: tensors '" + a->name + "' and '" + b->name + "' overlap");
    }
  }

 private:
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
};

GgufFile GgufFile::parse(const uint8_t* data, size_t size) {
  if (!data && size) throw Error("invalid GGUF file: no data");
  return GgufParser(data, size).parse();
}

GgufFile GgufFile::open(const std::string& path) {
  auto map = std::make_shared<MappedFile>(path);
  try {
    GgufFile f = parse(map->data(), map->size());
    f.map_ = std::move(map);
    return f;
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void missing(std::string_view key) {
  throw Error("GGUF metadata key '" + std::string(key) + "' is missing");
}
[[noreturn]] void wrong_type(std::string_view key, const GgufValue& v, const char* want) {
  throw Error("GGUF metadata key '" + std::string(key) + "' has type " + gguf_value_type_name(v.type) +
              ", expected " + want);
}
}  // namespace

std::optional<std::string_view> GgufFile::opt_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::STRING) wrong_type(key, *v, "string");
  return v->str;
}
std::optional<int64_t> GgufFile::opt_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer() || v->type == GgufValueType::BOOL) wrong_type(key, *v, "an integer");
  return v->i;
}
std::optional<double> GgufFile::opt_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  if (v->is_integer() && v->type != GgufValueType::BOOL) return double(v->i);
  wrong_type(key, *v, "a number");
}
std::optional<bool> GgufFile::opt_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::BOOL) wrong_type(key, *v, "bool");
  return v->i != 0;
}

std::string_view GgufFile::get_string(std::string_view key) const {
  auto v = opt_string(key);
  if (!v) missing(key);
  return *v;
}
int64_t GgufFile::get_int(std::string_view key) const {
  auto v = opt_int(key);
  if (!v) missing(key);
  return *v;
}
double GgufFile::get_float(std::string_view key) const {
  auto v = opt_float(key);
  if (!v) missing(key);
  return *v;
}
bool GgufFile::get_bool(std::string_view key) const {
  auto v = opt_bool(key);
  if (!v) missing(key);
  return *v;
}

const GgufValue& GgufFile::get_array(std::string_view key, GgufValueType elem) const {
  const GgufValue* v = find(key);
  if (!v) missing(key);
  if (v->type != GgufValueType::ARRAY) wrong_type(key, *v, "array");
  bool ok = v->elem_type == elem;
  // Integer arrays are accepted in any integer width; float arrays in f32 only (what writers emit).
  auto is_int = [](GgufValueType t) {
    return t != GgufValueType::F32 && t != GgufValueType::F64 && t != GgufValueType::STRING &&
           t != GgufValueType::ARRAY && t != GgufValueType::BOOL;
  };
  if (is_int(elem) && is_int(v->elem_type)) ok = true;
  if (!ok)
    throw Error("GGUF metadata array '" + std::string(key) + "' holds " + gguf_value_type_name(v->elem_type) +
                ", expected " + gguf_value_type_name(elem));
  return *v;
}

float GgufFile::array_f32(const GgufValue& a, uint64_t i) {
  if (i >= a.count || a.elem_type != GgufValueType::F32) throw Error("GGUF array index or type error");
  return load_le<float>(a.elems + i * 4);
}

int32_t GgufFile::array_i32(const GgufValue& a, uint64_t i) {
  if (i >= a.count || !a.elems) throw Error("GGUF array index or type error");
  switch (a.elem_type) {
    case GgufValueType::U8: return a.elems[i];
    case GgufValueType::I8: return int8_t(a.elems[i]);
    case GgufValueType::U16: return load_le<uint16_t>(a.elems + i * 2);
    case GgufValueType::I16: return load_le<int16_t>(a.elems + i * 2);
    case GgufValueType::U32: return int32_t(load_le<uint32_t>(a.elems + i * 4));
    case GgufValueType::I32: return load_le<int32_t>(a.elems + i * 4);
    case GgufValueType::U64: return int32_t(load_le<uint64_t>(a.elems + i * 8));
    case GgufValueType::I64: return int32_t(load_le<int64_t>(a.elems + i * 8));
    default: throw Error("GGUF array is not an integer array");
  }
}

void GgufFile::drop_pages(const uint8_t* p, size_t n) const {
  if (map_) map_->drop_pages(p, n);
}

}  // namespace tandem
