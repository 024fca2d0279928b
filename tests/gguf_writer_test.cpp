// GgufWriter: round trips through GgufFile::parse, streaming, alignment and validation.
#include <cstring>
#include <filesystem>

#include "format/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "test_util.h"

using namespace tandem;

namespace {

std::vector<uint8_t> pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

// Declares one value of every type and a few tensors.
void declare_everything(GgufWriter& w) {
  w.set_u8("t.u8", 200);
  w.set_i8("t.i8", -100);
  w.set_u16("t.u16", 60000);
  w.set_i16("t.i16", -30000);
  w.set_u32("t.u32", 4000000000u);
  w.set_i32("t.i32", -2000000000);
  w.set_u64("t.u64", 1ull << 60);
  w.set_i64("t.i64", -(1ll << 62));
  w.set_f32("t.f32", 1.5f);
  w.set_f64("t.f64", -2.25e300);
  w.set_bool("t.bool", true);
  w.set_string("t.str", "héllo");
  w.set_string("t.empty", "");
  w.set_string_array("t.strs", std::vector<std::string>{"a", "", "<0x0A>", "tokén"});
  w.set_array("t.f32s", std::vector<float>{0.5f, -1.0f, 3.25f});
  w.set_array("t.i32s", std::vector<int32_t>{1, -2, 3, -4});
  w.set_array("t.u64s", std::vector<uint64_t>{7, 1ull << 40});
  w.set_array("t.f64s", std::vector<double>{1e-300});
  w.set_array("t.empty_arr", std::vector<int16_t>{});
  const uint8_t bools[] = {1, 0, 1};
  w.set_array_raw("t.bools", GgufValueType::BOOL, bools, 3);
}

void check_everything(const GgufFile& f) {
  EXPECT_EQ(f.find("t.u8")->type, GgufValueType::U8);
  EXPECT_EQ(f.get_int("t.u8"), 200);
  EXPECT_EQ(f.get_int("t.i8"), -100);
  EXPECT_EQ(f.find("t.u16")->type, GgufValueType::U16);
  EXPECT_EQ(f.get_int("t.u16"), 60000);
  EXPECT_EQ(f.get_int("t.i16"), -30000);
  EXPECT_EQ(f.get_int("t.u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("t.i32"), -2000000000);
  EXPECT_EQ(f.find("t.u64")->type, GgufValueType::U64);
  EXPECT_EQ(f.get_int("t.u64"), 1ll << 60);
  EXPECT_EQ(f.get_int("t.i64"), -(1ll << 62));
  EXPECT_EQ(f.find("t.f32")->type, GgufValueType::F32);
  EXPECT_EQ(f.get_float("t.f32"), 1.5);
  EXPECT_EQ(f.find("t.f64")->type, GgufValueType::F64);
  EXPECT_EQ(f.get_float("t.f64"), -2.25e300);
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("t.str"), "héllo");
  EXPECT_EQ(f.get_string("t.empty"), "");
  const auto& s = f.get_array("t.strs", GgufValueType::STRING);
  ASSERT_EQ(s.strs.size(), 4u);
  EXPECT_EQ(s.strs[0], "a");
  EXPECT_EQ(s.strs[1], "");
  EXPECT_EQ(s.strs[2], "<0x0A>");
  EXPECT_EQ(s.strs[3], "tokén");
  const auto& fl = f.get_array("t.f32s", GgufValueType::F32);
  ASSERT_EQ(fl.count, 3u);
  EXPECT_EQ(GgufFile::array_f32(fl, 2), 3.25f);
  const auto& in = f.get_array("t.i32s", GgufValueType::I32);
  ASSERT_EQ(in.count, 4u);
  EXPECT_EQ(GgufFile::array_i32(in, 1), -2);
  const auto& u = f.get_array("t.u64s", GgufValueType::U64);
  EXPECT_EQ(u.elem_type, GgufValueType::U64);
  ASSERT_EQ(u.count, 2u);
  uint64_t big;
  std::memcpy(&big, u.elems + 8, 8);
  EXPECT_EQ(big, 1ull << 40);
  const auto* d = f.find("t.f64s");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->elem_type, GgufValueType::F64);
  double dv;
  std::memcpy(&dv, d->elems, 8);
  EXPECT_EQ(dv, 1e-300);
  EXPECT_EQ(f.find("t.empty_arr")->count, 0u);
  EXPECT_EQ(f.find("t.empty_arr")->elem_type, GgufValueType::I16);
  const auto* b = f.find("t.bools");
  ASSERT_EQ(b->count, 3u);
  EXPECT_EQ(b->elem_type, GgufValueType::BOOL);
  EXPECT_EQ(b->elems[0], 1);
  EXPECT_EQ(b->elems[1], 0);
}

}  // namespace

TEST(GgufWriter, RoundTripsAllValueTypesAndTensors) {
  GgufWriter w;
  declare_everything(w);
  w.add_tensor("a", TensorType::F32, {3});                 // 12 bytes: padded to 32
  w.add_tensor("b.q8", TensorType::Q8_0, {64, 3});         // 6 blocks of 34 bytes
  w.add_tensor("c.q4", TensorType::Q4_0, {32, 2, 2});      // 4 blocks of 18 bytes
  w.add_tensor("d.f16", TensorType::F16, {5, 1, 1, 2});    // 20 bytes
  w.add_tensor("e.bf16", TensorType::BF16, {7});
  ASSERT_EQ(w.tensor_count(), 5u);
  EXPECT_EQ(w.tensor_nbytes(1), 6u * 34);
  EXPECT_EQ(w.tensor_offset(1), 32u);

  std::vector<std::vector<uint8_t>> data;
  for (size_t i = 0; i < w.tensor_count(); ++i) data.push_back(pattern(w.tensor_nbytes(i), uint8_t(i * 31 + 1)));

  std::vector<uint8_t> bytes;
  w.open(&bytes);
  w.write_tensor_data(0, data[0].data(), data[0].size());
  w.write_tensor_data("b.q8", data[1].data(), data[1].size());
  // In pieces.
  w.write_tensor_part(2, data[2].data(), 10);
  w.write_tensor_part(2, data[2].data() + 10, data[2].size() - 10);
  w.write_tensor_data(3, data[3].data(), data[3].size());
  w.write_tensor_data(4, data[4].data(), data[4].size());
  w.finish();
  EXPECT_EQ(bytes.size(), w.file_size());

  GgufFile f = GgufFile::parse(bytes.data(), bytes.size());
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), 32u);
  EXPECT_EQ(f.data_offset(), w.data_offset());
  EXPECT_EQ(f.data_offset() % 32, 0u);
  check_everything(f);
  ASSERT_EQ(f.tensors().size(), 5u);
  const char* names[] = {"a", "b.q8", "c.q4", "d.f16", "e.bf16"};
  for (size_t i = 0; i < 5; ++i) {
    const auto& t = f.tensors()[i];
    EXPECT_EQ(t.name, names[i]);
    EXPECT_EQ(t.offset % 32, 0u);
    ASSERT_EQ(t.nbytes, data[i].size());
    EXPECT_EQ(std::memcmp(t.data, data[i].data(), t.nbytes), 0) << t.name;
  }
  EXPECT_EQ(f.tensors()[2].n_dims, 3u);
  EXPECT_EQ(f.tensors()[2].ne[2], 2);
  EXPECT_EQ(f.tensors()[3].n_dims, 4u);
  EXPECT_EQ(f.tensors()[3].ne[3], 2);
  EXPECT_EQ(f.tensors()[3].type, TensorType::F16);
  EXPECT_EQ(f.tensors()[4].type, TensorType::BF16);
  // Padding bytes are zero.
  for (size_t p = f.data_offset() + 12; p < f.data_offset() + 32; ++p) EXPECT_EQ(bytes[p], 0) << p;
}

TEST(GgufWriter, CustomAlignmentAndFile) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.add_tensor("x", TensorType::F32, {3});
  w.add_tensor("y", TensorType::F32, {5});
  w.set_alignment(64);  // after tensors: offsets are recomputed
  EXPECT_EQ(w.tensor_offset(1), 64u);
  std::string path = test::temp_path("writer-align.gguf");
  auto x = pattern(12, 1), y = pattern(20, 2);
  w.open(path);
  EXPECT_FALSE(std::filesystem::exists(path));  // written beside, renamed by finish()
  w.write_tensor_data(0, x.data(), x.size());
  w.write_tensor_data(1, y.data(), y.size());
  w.finish();
  ASSERT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(std::filesystem::file_size(path), w.file_size());
  {
    GgufFile f = GgufFile::open(path);
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.get_int("general.alignment"), 64);
    EXPECT_EQ(f.find("general.alignment")->type, GgufValueType::U32);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.tensors()[1].offset, 64u);
    EXPECT_EQ(std::memcmp(f.tensors()[1].data, y.data(), 20), 0);
  }
  std::filesystem::remove(path);
}

TEST(GgufWriter, CopiesEveryValueFromAParsedFile) {
  GgufWriter a;
  declare_everything(a);
  std::vector<uint8_t> first;
  a.open(&first);
  a.finish();
  GgufFile fa = GgufFile::parse(first.data(), first.size());

  GgufWriter b;
  for (const auto& k : fa.keys()) b.copy(k, *fa.find(k));
  b.set_u32("t.u8", 5);  // replacing keeps the position and changes the type
  std::vector<uint8_t> second;
  b.open(&second);
  b.finish();
  GgufFile fb = GgufFile::parse(second.data(), second.size());
  EXPECT_EQ(fb.keys(), fa.keys());
  EXPECT_EQ(fb.find("t.u8")->type, GgufValueType::U32);
  EXPECT_EQ(fb.get_int("t.u8"), 5);
  EXPECT_THROW(b.remove("t.u8"), Error);  // too late: frozen
}

TEST(GgufWriter, CopiesTheSharedModelExactly) {
  std::string p = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(p);
  GgufFile in = GgufFile::open(p);
  GgufWriter w;
  for (const auto& k : in.keys()) w.copy(k, *in.find(k));
  for (const auto& t : in.tensors())
    w.add_tensor(t.name, t.type, std::span<const int64_t>(t.ne, t.n_dims));
  std::vector<uint8_t> out;
  w.open(&out);
  for (size_t i = 0; i < in.tensors().size(); ++i) w.write_tensor_data(i, in.tensors()[i].data, in.tensors()[i].nbytes);
  w.finish();
  // llama.cpp lays out the file the same way: byte-identical.
  auto orig = test::read_file(p);
  EXPECT_EQ(out.size(), orig.size());
  EXPECT_TRUE(out == orig);
}

TEST(GgufWriter, RejectsBadDeclarations) {
  GgufWriter w;
  EXPECT_THROW(w.add_tensor("", TensorType::F32, {4}), Error);
  EXPECT_THROW(w.add_tensor(std::string(64, 'n'), TensorType::F32, {4}), Error);
  EXPECT_THROW(w.add_tensor("q", TensorType::Q4_0, {48, 2}), Error);  // 48 is not a multiple of 32
  EXPECT_THROW(w.add_tensor("z", TensorType::F32, {4, 0}), Error);
  EXPECT_THROW(w.add_tensor("n", TensorType::F32, {-1}), Error);
  EXPECT_THROW(w.add_tensor("five", TensorType::F32, {1, 1, 1, 1, 1}), Error);
  EXPECT_THROW(w.add_tensor("none", TensorType::F32, std::span<const int64_t>()), Error);
  EXPECT_THROW(w.add_tensor("t", TensorType(99), {4}), Error);
  w.add_tensor("ok", TensorType::F32, {4});
  try {
    w.add_tensor("ok", TensorType::F16, {4});
    FAIL() << "duplicate accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate tensor 'ok'"), std::string::npos) << e.what();
  }
  try {
    w.add_tensor("q", TensorType::Q8_0, {100});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of its block size 32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(w.set_u32("", 1), Error);
  EXPECT_THROW(w.set_alignment(48), Error);
  EXPECT_THROW(w.set_alignment(0), Error);
  EXPECT_THROW(w.set_i32("general.alignment", 64), Error);
  EXPECT_THROW(w.set_array_raw("a", GgufValueType::STRING, nullptr, 0), Error);
  EXPECT_THROW(w.set_array_raw("a", GgufValueType::ARRAY, nullptr, 0), Error);
  const uint8_t bad_bool = 2;
  EXPECT_THROW(w.set_array_raw("a", GgufValueType::BOOL, &bad_bool, 1), Error);
  EXPECT_EQ(w.alignment(), 32u);
}

TEST(GgufWriter, RejectsBadDataWrites) {
  GgufWriter w;
  w.add_tensor("a", TensorType::F32, {4});
  w.add_tensor("b", TensorType::F32, {2});
  uint8_t buf[64] = {};
  EXPECT_THROW(w.write_tensor_data(0, buf, 16), Error);  // not opened
  EXPECT_THROW(w.finish(), Error);
  std::vector<uint8_t> out;
  w.open(&out);
  EXPECT_THROW(w.add_tensor("c", TensorType::F32, {2}), Error);  // frozen
  EXPECT_THROW(w.set_u8("k", 1), Error);
  EXPECT_THROW(w.write_tensor_data(1, buf, 8), Error);   // out of order
  EXPECT_THROW(w.write_tensor_data(0, buf, 15), Error);  // wrong size
  EXPECT_THROW(w.write_tensor_data(0, buf, 17), Error);
  EXPECT_THROW(w.write_tensor_data("nope", buf, 8), Error);
  EXPECT_THROW(w.write_tensor_part(7, buf, 8), Error);
  w.write_tensor_part(0, buf, 10);
  EXPECT_THROW(w.write_tensor_part(0, buf, 7), Error);  // would overrun
  EXPECT_THROW(w.write_tensor_data(0, buf, 16), Error);  // partly written already
  w.write_tensor_part(0, buf, 6);
  try {
    w.finish();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'b'"), std::string::npos) << e.what();
  }
  w.write_tensor_data(1, buf, 8);
  EXPECT_THROW(w.write_tensor_part(1, buf, 1), Error);
  w.finish();
  EXPECT_TRUE(w.finished());
  EXPECT_NO_THROW(GgufFile::parse(out.data(), out.size()));
}

TEST(GgufWriter, AbandonedFileLeavesNothing) {
  std::string path = test::temp_path("writer-abandoned.gguf");
  {
    GgufWriter w;
    w.add_tensor("a", TensorType::F32, {4});
    w.open(path);
    EXPECT_TRUE(std::filesystem::exists(path + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_FALSE(std::filesystem::exists(path));
  GgufWriter w;
  EXPECT_THROW(w.open("/nonexistent-dir/x.gguf"), Error);
}

TEST(GgufWriter, NoTensorsMeansNoPadding) {
  GgufWriter w;
  w.set_string("general.name", "vocab");
  std::vector<uint8_t> out;
  w.open(&out);
  w.finish();
  EXPECT_EQ(out.size(), w.header_size());
  GgufFile f = GgufFile::parse(out.data(), out.size());
  EXPECT_EQ(f.tensors().size(), 0u);
  EXPECT_EQ(f.get_string("general.name"), "vocab");
}
