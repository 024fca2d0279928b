// tandem edge's TOML configuration: defaults, the printed defaults, endpoints, and errors that
// name the key.
#include <gtest/gtest.h>

#include "edge/config.h"
#include "format/error.h"

using namespace tandem;
using namespace tandem::edge;

namespace {
std::string error_of(const std::string& toml) {
  try {
    parse_config(toml);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(EdgeConfig, EmptyFileGivesTheDefaults) {
  const EdgeConfig c = parse_config("");
  const EdgeConfig d = default_config();
  EXPECT_EQ(c.port, 8090);
  EXPECT_EQ(c.policy, Policy::Auto);
  EXPECT_EQ(c.battery_low_pct, 20);
  EXPECT_EQ(c.thermal_offload, "serious");
  EXPECT_DOUBLE_EQ(c.daily_usd, 1.0);
  EXPECT_EQ(c.category_keywords, d.category_keywords);
  EXPECT_TRUE(c.clouds.empty());
}

TEST(EdgeConfig, PrintedDefaultsParseBackToTheDefaults) {
  const std::string text = default_config_toml();
  const EdgeConfig c = parse_config(text, "printed");
  const EdgeConfig d = default_config();
  EXPECT_EQ(c.host, d.host);
  EXPECT_EQ(c.port, d.port);
  EXPECT_EQ(c.default_max_tokens, d.default_max_tokens);
  EXPECT_EQ(c.state_source, d.state_source);
  EXPECT_DOUBLE_EQ(c.thermal_serious_c, d.thermal_serious_c);
  EXPECT_DOUBLE_EQ(c.cascade_min_logprob, d.cascade_min_logprob);
  EXPECT_DOUBLE_EQ(c.entropy_complex, d.entropy_complex);
  EXPECT_EQ(c.complex_categories, d.complex_categories);
  EXPECT_EQ(c.category_keywords, d.category_keywords);
  EXPECT_DOUBLE_EQ(c.ewma_alpha, d.ewma_alpha);
  EXPECT_EQ(c.breaker_failures, d.breaker_failures);
  // Every key is explained: each non-comment assignment line carries a comment.
  EXPECT_NE(text.find("battery_low_pct = 20"), std::string::npos);
  EXPECT_NE(text.find("[[cloud]]"), std::string::npos);
}

TEST(EdgeConfig, EndpointsAppsAndOverrides) {
  const EdgeConfig c = parse_config(R"(
[edge]
port = 0
system_prompt = "Be brief."
[device]
model = "m.gguf"
state_source = "push"
[[cloud]]
name = "big"
url = "http://127.0.0.1:9000/"
price_input_per_1m = 1.5
price_output_per_1m = 6
priority = 2
[[cloud]]
url = "https://api.example.com/v"
api_key_env = "EXAMPLE_KEY"
[[peer]]
name = "laptop"
url = "http://192.168.1.20:8090"
[policy]
default = "cascade"
battery_low_pct = 30
[budget]
daily_usd = 0.25
[[app]]
name = "notes"
key_env = "NOTES_KEY"
daily_usd = 0.1
[complexity.keywords]
code = ["fn main"]
)");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.system_prompt, "Be brief.");
  ASSERT_EQ(c.clouds.size(), 2u);
  EXPECT_EQ(c.clouds[0].name, "big");
  EXPECT_EQ(c.clouds[0].url, "http://127.0.0.1:9000");  // trailing slash dropped
  EXPECT_DOUBLE_EQ(c.clouds[0].price_output_per_1m, 6);
  EXPECT_EQ(c.clouds[0].priority, 2);
  EXPECT_EQ(c.clouds[1].name, "cloud-1");
  EXPECT_EQ(c.clouds[1].api_key_env, "EXAMPLE_KEY");
  ASSERT_EQ(c.peers.size(), 1u);
  EXPECT_TRUE(c.peers[0].peer);
  EXPECT_EQ(c.policy, Policy::Cascade);
  EXPECT_EQ(c.battery_low_pct, 30);
  EXPECT_DOUBLE_EQ(c.daily_usd, 0.25);
  ASSERT_EQ(c.apps.size(), 1u);
  EXPECT_EQ(c.apps[0].name, "notes");
  EXPECT_EQ(c.category_keywords.size(), 1u);
  EXPECT_EQ(c.category_keywords.at("code"), std::vector<std::string>{"fn main"});
}

TEST(EdgeConfig, ErrorsNameTheKey) {
  EXPECT_NE(error_of("[policy]\nbatery_low_pct = 10\n").find("'policy.batery_low_pct'"), std::string::npos);
}

TEST(EdgeConfig, MoreErrorsNameTheKey) {
  EXPECT_NE(error_of("[edge]\nport = \"80\"\n").find("'edge.port' must be an integer"), std::string::npos);
  EXPECT_NE(error_of("[policy]\ndefault = \"fastest\"\n").find("'policy.default'"), std::string::npos);
  EXPECT_NE(error_of("[[cloud]]\nname = \"a\"\n").find("'cloud[0].url' is required"), std::string::npos);
  EXPECT_NE(error_of("[[cloud]]\nurl = \"ftp://x\"\n").find("'cloud[0].url'"), std::string::npos);
  EXPECT_NE(error_of("[[cloud]]\nurl = \"http://a\"\nprice_input_per_1m = -1\n").find("cloud[0].price"), std::string::npos);
  EXPECT_NE(error_of("[[cloud]]\nname=\"x\"\nurl=\"http://a\"\n[[peer]]\nname=\"x\"\nurl=\"http://b\"\n").find("used twice"),
            std::string::npos);
  EXPECT_NE(error_of("[connectivity]\newma_alpha = 0\n").find("'connectivity.ewma_alpha'"), std::string::npos);
  EXPECT_NE(error_of("[device]\nstate_source = \"timeline\"\n").find("'device.timeline'"), std::string::npos);
  EXPECT_NE(error_of("[routing]\n").find("unknown config key 'routing'"), std::string::npos);
  EXPECT_NE(error_of("[[app]]\nname = \"a\"\n").find("'app[0].key_env'"), std::string::npos);
  EXPECT_NE(error_of("[edge\n").find("cannot parse the config"), std::string::npos);
  EXPECT_NE(error_of("[device]\nreference_model = \"a.gguf\"\n").find("calibration_text"), std::string::npos);
  EXPECT_NE(error_of("[device]\nmax_kld = 0.1\n").find("'device.max_kld'"), std::string::npos);
  EXPECT_NE(error_of("[complexity]\nkeywords = 3\n").find("'complexity.keywords'"), std::string::npos);
}
