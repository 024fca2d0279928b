// tandem bench end to end: the JSON it prints carries every measurement the README quotes,
// including the verification curve. (Speeds are printed, never asserted: machines are noisy.)
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace tandem;

namespace {
// A field's number, or -1 when it is missing or not a number (a NaN prints as null).
double num(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1.0;
}
}  // namespace

TEST(BenchCli, JsonHasDecodeBandwidthAndVerifyCurve) {
  const std::string m = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " bench -m " + m +
                                  " -p 16 -n 8 -r 1 --bw-mib 64 --verify-curve --json -q",
                              &out),
            0)
      << out;
  const auto j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_GT(num(j.value("decode_tokens_per_s", nlohmann::json()), "mean"), 0) << out;
  EXPECT_GT(num(j, "memory_read_bandwidth_gbs"), 0) << out;
  EXPECT_GT(num(j, "peak_rss_mib"), 0) << out;
  ASSERT_TRUE(j.contains("verify_curve") && j["verify_curve"].size() == 5u) << out;
  int k_expected[] = {1, 2, 4, 8, 16};
  for (size_t i = 0; i < 5; ++i) {
    const auto& p = j["verify_curve"][i];
    EXPECT_EQ(p["k"], k_expected[i]) << out;
    EXPECT_GT(num(p, "ms_forward"), 0) << out;
    EXPECT_GT(num(p, "ratio_vs_k_single"), 0) << out;
  }
}

// -d: prefill and decode start from a KV cache already holding that many tokens (llama-bench -d).
TEST(BenchCli, DepthRunsTestsOnAFilledCache) {
  const std::string m = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " bench -m " + m + " -p 16 -n 8 -d 300 -r 2 --bw-mib 64 --json -q",
                              &out),
            0)
      << out;
  const auto j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j.value("depth", -1), 300);
  EXPECT_EQ(j["decode_tokens_per_s"]["runs"].size(), 2u) << out;
  EXPECT_GT(num(j["prefill_tokens_per_s"], "mean"), 0) << out;
  EXPECT_NE(test::run_command(test::tandem_binary() + " bench -m " + m + " -d -5 -q 2>&1", &out), 0);
  EXPECT_NE(out.find("--depth"), std::string::npos) << out;
}
