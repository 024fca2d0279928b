#include "format/gguf.h"
#include "test_util.h"

using namespace tandem;

TEST(GgufBasic, ReadsSharedModelMetadata) {
  std::string p = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(p);
  GgufFile f = GgufFile::open(p);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("llama.embedding_length"), 64);
  EXPECT_EQ(f.tensors().size(), 48u);
  const auto* t = f.find_tensor("blk.0.ffn_down.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type, TensorType::F16);
  EXPECT_EQ(t->ne[0], 172);
}
