// The C API (include/tandem/tandem.h) on the shared stories260K model: tokenization, greedy
// generation through the callback, eval/truncate, and errors that come back as messages.
#include "tandem/tandem.h"

#include <cstring>
#include <string>
#include <vector>

#include "test_util.h"

extern "C" int32_t tandem_c_check_default_top_k(void);  // tests/c_api_compile_check.c (C11)

namespace {

const std::string kModel = tandem::test::model_path("stories260K-f32.gguf");

class CApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(kModel)) return;
    char err[256];
    model_ = tandem_model_load(kModel.c_str(), err, sizeof err);
    ASSERT_NE(model_, nullptr) << err;
  }
  static void TearDownTestSuite() {
    tandem_model_free(model_);
    model_ = nullptr;
  }
  void SetUp() override { TANDEM_REQUIRE_FILE(kModel); }

  static tandem_session* greedy_session() {
    tandem_session_params p = tandem_session_default_params();
    p.temperature = 0;
    p.n_threads = 1;
    char err[256];
    tandem_session* s = tandem_session_new(model_, &p, err, sizeof err);
    EXPECT_NE(s, nullptr) << err;
    return s;
  }

  static tandem_model* model_;
};
tandem_model* CApi::model_ = nullptr;

bool collect(int32_t token, const char* piece, size_t len, void* user_data) {
  EXPECT_EQ(piece[len], '\0');
  static_cast<std::string*>(user_data)->append(piece, len);
  return true;
}

}  // namespace

TEST(CApiHeader, CompilesAsC) {
  EXPECT_EQ(tandem_c_check_default_top_k(), 40);
  EXPECT_EQ(tandem_session_default_params().top_k, 40);
}

TEST_F(CApi, ModelInfo) {
  EXPECT_EQ(tandem_model_n_vocab(model_), 512);
  EXPECT_GT(tandem_model_n_ctx_train(model_), 0);
  const std::string desc = tandem_model_desc(model_);
  EXPECT_NE(desc.find("llama"), std::string::npos) << desc;
  EXPECT_NE(desc.find("vocab 512"), std::string::npos) << desc;
  EXPECT_EQ(tandem_model_token_bos(model_), 1);
  EXPECT_TRUE(tandem_model_is_eog(model_, tandem_model_token_eos(model_)));
  EXPECT_FALSE(tandem_model_is_eog(model_, 9999));
}

TEST_F(CApi, Tokenize) {
  const char* text = "Once upon a time";
  int32_t out[16];
  const int32_t n = tandem_tokenize(model_, text, std::strlen(text), true, out, 16);
  ASSERT_EQ(n, 5);
  EXPECT_EQ(std::vector<int32_t>(out, out + n), (std::vector<int32_t>{1, 403, 407, 261, 378}));

  // Too small: the negative of the needed capacity, nothing written.
  int32_t small[2] = {-7, -7};
  EXPECT_EQ(tandem_tokenize(model_, text, std::strlen(text), true, small, 2), -5);
  EXPECT_EQ(small[0], -7);
  EXPECT_EQ(tandem_tokenize(model_, text, std::strlen(text), true, nullptr, 0), -5);
  int32_t no_bos[16];
  EXPECT_EQ(tandem_tokenize(model_, text, std::strlen(text), false, no_bos, 16), 4);
  EXPECT_EQ(no_bos[0], 403);

  std::string back;
  char buf[64];
  for (int32_t i = 1; i < n; ++i) {
    const int32_t len = tandem_token_to_piece(model_, out[i], buf, sizeof buf);
    ASSERT_GE(len, 0);
    back.append(buf, size_t(len));
  }
  EXPECT_EQ(back, " Once upon a time");
  EXPECT_EQ(tandem_token_to_piece(model_, out[1], buf, 1), -5);  // " Once" needs 5 bytes
}

TEST_F(CApi, GreedyGenerateMatchesLlamaCpp) {
  tandem_session* s = greedy_session();
  ASSERT_NE(s, nullptr);
  std::string text;
  char err[256];
  const int n = tandem_generate(s, "Once upon a time", 24, collect, &text, err, sizeof err);
  EXPECT_EQ(n, 24) << err;
  EXPECT_EQ(err[0], '\0');
  EXPECT_EQ(text.rfind(", there was a little girl named Lily.", 0), 0u) << text;
  EXPECT_EQ(tandem_session_len(s), 5 + 24 - 1);  // the last token is sampled, not evaluated

  // Stopping from the callback.
  int calls = 0;
  auto stop_after_3 = [](int32_t, const char*, size_t, void* ud) { return ++*static_cast<int*>(ud) < 3; };
  EXPECT_EQ(tandem_generate(s, "Once upon a time", 24, stop_after_3, &calls, err, sizeof err), 3) << err;
  EXPECT_EQ(calls, 3);
  // Without a callback, same greedy tokens.
  EXPECT_EQ(tandem_generate(s, "Once upon a time", 24, nullptr, nullptr, nullptr, 0), 24);
  tandem_session_free(s);
}

TEST_F(CApi, EvalTruncateRoundTrip) {
  const int32_t prompt[] = {1, 403, 407, 261, 378};
  tandem_session* a = greedy_session();
  tandem_session* b = greedy_session();
  ASSERT_TRUE(a && b);
  const int32_t n_vocab = tandem_model_n_vocab(model_);

  float* logits = nullptr;
  ASSERT_EQ(tandem_eval(a, prompt, 5, &logits), 0) << tandem_last_error();
  ASSERT_NE(logits, nullptr);
  const int32_t next = tandem_sample(a, logits);
  ASSERT_GE(next, 0);
  const int32_t detour[] = {300, 301, 302};
  ASSERT_EQ(tandem_eval(a, detour, 3, &logits), 0);
  EXPECT_EQ(tandem_session_len(a), 8);
  ASSERT_EQ(tandem_session_truncate(a, 5), 0);
  EXPECT_EQ(tandem_session_len(a), 5);
  ASSERT_EQ(tandem_eval(a, &next, 1, &logits), 0);
  const std::vector<float> got(logits, logits + n_vocab);

  float* fresh = nullptr;
  ASSERT_EQ(tandem_eval(b, prompt, 5, nullptr), 0);
  ASSERT_EQ(tandem_eval(b, &next, 1, &fresh), 0);
  EXPECT_EQ(got, std::vector<float>(fresh, fresh + n_vocab));

  EXPECT_EQ(tandem_session_reset(a), 0);
  EXPECT_EQ(tandem_session_len(a), 0);
  tandem_session_free(a);
  tandem_session_free(b);
}

TEST_F(CApi, ErrorsAreMessages) {
  char err[256];
  // Missing file.
  std::memset(err, 'x', sizeof err);
  EXPECT_EQ(tandem_model_load("/nonexistent/model.gguf", err, sizeof err), nullptr);
  EXPECT_GT(std::strlen(err), 0u);
  EXPECT_LT(std::strlen(err), sizeof err);
  EXPECT_STREQ(tandem_last_error(), err);
  // A tiny buffer is truncated and still NUL-terminated.
  char tiny[4] = {'x', 'x', 'x', 'x'};
  EXPECT_EQ(tandem_model_load("/nonexistent/model.gguf", tiny, sizeof tiny), nullptr);
  EXPECT_EQ(std::strlen(tiny), 3u);
  EXPECT_EQ(tandem_model_load("/nonexistent/model.gguf", nullptr, 0), nullptr);

  // NULL arguments.
  EXPECT_EQ(tandem_model_load(nullptr, err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("NULL"), std::string::npos) << err;
  EXPECT_EQ(tandem_session_new(nullptr, nullptr, err, sizeof err), nullptr);
  EXPECT_NE(std::string(err).find("NULL"), std::string::npos) << err;
  EXPECT_LT(tandem_generate(nullptr, "x", 4, nullptr, nullptr, err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("NULL"), std::string::npos) << err;
  EXPECT_EQ(tandem_tokenize(nullptr, "x", 1, true, nullptr, 0), TANDEM_ERROR);
  EXPECT_EQ(tandem_token_to_piece(nullptr, 1, nullptr, 0), TANDEM_ERROR);
  EXPECT_LT(tandem_eval(nullptr, nullptr, 1, nullptr), 0);
  EXPECT_LT(tandem_session_truncate(nullptr, 0), 0);
  EXPECT_LT(tandem_session_len(nullptr), 0);
  EXPECT_EQ(tandem_sample(nullptr, nullptr), TANDEM_ERROR);
  EXPECT_EQ(tandem_model_n_vocab(nullptr), 0);
  EXPECT_STREQ(tandem_model_desc(nullptr), "");
  tandem_model_free(nullptr);
  tandem_session_free(nullptr);

  tandem_session* s = greedy_session();
  ASSERT_NE(s, nullptr);
  EXPECT_LT(tandem_generate(s, nullptr, 4, nullptr, nullptr, err, sizeof err), 0);
  EXPECT_LT(tandem_eval(s, nullptr, 2, nullptr), 0);

  // Token out of range: eval and token_to_piece fail with a message, the session is unchanged.
  const int32_t bad[] = {1, 403, 100000};
  EXPECT_LT(tandem_eval(s, bad, 3, nullptr), 0);
  EXPECT_NE(std::string(tandem_last_error()).find("out of range"), std::string::npos) << tandem_last_error();
  EXPECT_EQ(tandem_session_len(s), 0);
  char buf[16];
  EXPECT_EQ(tandem_token_to_piece(model_, 100000, buf, sizeof buf), TANDEM_ERROR);
  EXPECT_GT(std::strlen(tandem_last_error()), 0u);
  EXPECT_EQ(tandem_token_to_piece(model_, -1, buf, sizeof buf), TANDEM_ERROR);

  // Truncating past the end, a context overflow, bad sampling settings.
  EXPECT_LT(tandem_session_truncate(s, 10), 0);
  EXPECT_LT(tandem_generate(s, "Once upon a time", 1 << 20, nullptr, nullptr, err, sizeof err), 0);
  EXPECT_NE(std::string(err).find("context"), std::string::npos) << err;
  tandem_session_params p = tandem_session_default_params();
  p.top_p = 2.f;
  EXPECT_EQ(tandem_session_new(model_, &p, err, sizeof err), nullptr);
  EXPECT_GT(std::strlen(err), 0u);
  p = tandem_session_default_params();
  p.n_threads = 0;
  EXPECT_EQ(tandem_session_new(model_, &p, err, sizeof err), nullptr);
  EXPECT_GT(std::strlen(err), 0u);
  tandem_session_free(s);
}
