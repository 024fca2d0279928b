// tandem bench end to end: the JSON it prints carries every measurement the README quotes,
// including the verification curve. (Speeds are printed, never asserted: machines are noisy.)
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace tandem;

TEST(BenchCli, JsonHasDecodeBandwidthAndVerifyCurve) {
  const std::string m = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string out;
  ASSERT_EQ(test::run_command(test::tandem_binary() + " bench -m " + m +
                                  " -p 16 -n 8 -r 1 --bw-mib 64 --verify-curve --json -q",
                              &out),
            0)
      << out;
  const auto j = nlohmann::json::parse(out);
  EXPECT_GT(j["decode_tokens_per_s"]["mean"].get<double>(), 0);
  EXPECT_GT(j["memory_read_bandwidth_gbs"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_mib"].get<double>(), 0);
  ASSERT_EQ(j["verify_curve"].size(), 5u);
  int k_expected[] = {1, 2, 4, 8, 16};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(j["verify_curve"][i]["k"], k_expected[i]);
    EXPECT_GT(j["verify_curve"][i]["ms_forward"].get<double>(), 0);
    EXPECT_GT(j["verify_curve"][i]["ratio_vs_k_single"].get<double>(), 0);
  }
}
