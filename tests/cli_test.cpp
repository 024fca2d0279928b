// The tandem program end to end: real runs on the shared models, and clear errors (non-zero
// exit, a message, no crash) for bad files and bad arguments.
#include <nlohmann/json.hpp>

#include <algorithm>

#include "format/gguf_writer.h"
#include "test_util.h"

using namespace tandem;

namespace {
std::string bin() { return test::tandem_binary(); }
}  // namespace

TEST(Cli, RunJsonGreedyMatchesLlamaCpp) {
  const std::string m = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string out;
  ASSERT_EQ(test::run_command(bin() + " run -m " + m + " -p 'Once upon a time' -n 24 --temp 0 --json -q", &out), 0)
      << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["prompt_tokens"], (std::vector<int>{1, 403, 407, 261, 378}));
  EXPECT_EQ(j["text"].get<std::string>().rfind(", there was a little girl named Lily.", 0), 0u) << j["text"];
  EXPECT_EQ(j["tokens"].size(), 24u);
  EXPECT_GT(j["timings"]["decode_tokens_per_s"].get<double>(), 0);
}

TEST(Cli, SeededSamplingIsReproducible) {
  const std::string m = test::model_path("stories260K-q4_0.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string a, b, c;
  const std::string cmd = bin() + " run -m " + m + " -p 'Tom and his dog' -n 30 --temp 1.0 --top-k 40 --json -q";
  ASSERT_EQ(test::run_command(cmd + " --seed 7", &a), 0);
  ASSERT_EQ(test::run_command(cmd + " --seed 7", &b), 0);
  ASSERT_EQ(test::run_command(cmd + " --seed 8", &c), 0);
  EXPECT_EQ(nlohmann::json::parse(a)["tokens"], nlohmann::json::parse(b)["tokens"]);
  EXPECT_NE(nlohmann::json::parse(a)["tokens"], nlohmann::json::parse(c)["tokens"]);
}

TEST(Cli, BadFilesAndArgumentsGiveClearErrors) {
  const std::string m = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(m);
  const std::string corrupt = test::temp_path("corrupt.gguf");
  auto bytes = test::read_file(m);
  bytes.resize(bytes.size() / 2);
  test::write_file(corrupt, bytes);
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"run -m /nonexistent.gguf -p hi", "cannot open '/nonexistent.gguf'"},
      {"run -m " + corrupt + " -p hi", "truncated or corrupt"},
      {"run -m " + m + " -p hi -n -3", "out of range"},
      {"run -m " + m + " -p hi -n 99999999", "out of range"},
      {"run -m " + m + " -p hi --top-p 7", "top_p"},
      {"run -m " + m + " -p '' --no-bos", "empty"},
      {"bench -m " + m + " -p 0 -n 0", "nothing to measure"},
      {"perplexity -m " + m + " -f /nonexistent.txt", "cannot read"},
      {"info " + corrupt, "truncated or corrupt"},
      {"frobnicate", "unknown command"},
  };
  for (const auto& c : cases) {
    std::string out;
    const int rc = test::run_command(bin() + " " + c.args, &out);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_LT(rc, 128) << "crashed: " << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
  std::remove(corrupt.c_str());
}

TEST(Cli, PerplexityAndKlDivergenceMatchLlamaCppTable) {
  const std::string q4 = test::model_path("stories260K-q4_0.gguf"), f32 = test::model_path("stories260K-f32.gguf");
  const std::string corpus = test::shared_dir() + "/reference/corpus/stories260K-samples.txt";
  TANDEM_REQUIRE_FILE(q4);
  std::string out;
  ASSERT_EQ(test::run_command(bin() + " perplexity -m " + q4 + " --kl-base " + f32 + " -f " + corpus +
                                  " --ctx 256 --json -q",
                              &out),
            0)
      << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  // llama.cpp (../shared/models/README.md): Q4_0 vs F32 PPL ratio 1.0910, mean KLD 0.066193, same top 87.22 %.
  EXPECT_NEAR(j["perplexity_ratio"].get<double>(), 1.0910, 0.03);
  EXPECT_NEAR(j["kld_mean"].get<double>(), 0.066193, 0.066193 * 0.05);
  EXPECT_NEAR(j["same_top_token"].get<double>(), 0.8722, 0.02);
}

TEST(Cli, ChatRendersTheTemplateAndTokenizesWithOneBos) {
  const std::string m = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(m);
  std::string out;
  ASSERT_EQ(test::run_command(bin() + " run -m " + m +
                                  " --chat -p 'Hello' --system 'Be kind.' --chat-template llama2-sys-strip -n 4 "
                                  "--temp 0 --json -q",
                              &out),
            0)
      << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["chat_template"], "llama2-sys-strip");
  EXPECT_EQ(j["rendered_prompt"], "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHello [/INST]");
  const auto tokens = j["prompt_tokens"].get<std::vector<int>>();
  ASSERT_FALSE(tokens.empty());
  EXPECT_EQ(tokens[0], 1);
  EXPECT_EQ(std::count(tokens.begin(), tokens.end(), 1), 1) << "the template's <s> must not add a second BOS";

  // Same tokens as the rendered text without its BOS text given as a plain prompt (this vocab
  // has no special tokens in the template's markup).
  const std::string file = test::temp_path("chat_prompt.txt");
  const std::string text = "[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHello [/INST]";
  test::write_file(file, std::vector<uint8_t>(text.begin(), text.end()));
  std::string plain;
  ASSERT_EQ(test::run_command(bin() + " run -m " + m + " -f " + file + " -n 4 --temp 0 --json -q", &plain), 0) << plain;
  EXPECT_EQ(nlohmann::json::parse(plain)["prompt_tokens"], j["prompt_tokens"]);
  std::remove(file.c_str());

  // A Jinja override is run by the Jinja interpreter; it is named by llama.cpp's detection.
  ASSERT_EQ(test::run_command(bin() + " run -m " + m +
                                  " --chat -p Hi --chat-template '{% for m in messages %}<|im_start|>{{ m.role }}\n{{ "
                                  "m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>"
                                  "assistant\n{% endif %}' -n 2 --temp 0 --json -q",
                              &out),
            0)
      << out;
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["chat_template"], "chatml");
  EXPECT_EQ(j["rendered_prompt"], "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(Cli, ChatWithoutATemplateGivesClearErrors) {
  const std::string m = test::model_path("stories260K-f32.gguf");
  TANDEM_REQUIRE_FILE(m);
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"run -m " + m + " --chat -p hi", "the model has no chat template"},
      {"run -m " + m + " --chat -p hi", "pass --chat-template NAME"},
      {"run -m " + m + " --chat -p hi --chat-template nope", "unknown chat template 'nope'"},
      {"run -m " + m + " --chat -p hi --chat-template nope", "known templates: chatml,"},
      {"run -m " + m + " -p hi --system 'Be kind.'", "need --chat"},
  };
  for (const auto& c : cases) {
    std::string out;
    const int rc = test::run_command(bin() + " " + c.args, &out);
    EXPECT_NE(rc, 0) << c.args;
    EXPECT_LT(rc, 128) << "crashed: " << c.args << "\n" << out;
    EXPECT_NE(out.find(c.expect), std::string::npos) << c.args << "\n" << out;
  }
  std::string out;
  ASSERT_EQ(test::run_command(bin() + " info " + m + " --no-tensors", &out), 0) << out;
  EXPECT_NE(out.find("chat template: none"), std::string::npos) << out;
}

TEST(Cli, InfoTellsHowTheChatTemplateIsRendered) {
  auto info_of = [](const std::string& chat_template) {
    GgufWriter w;
    w.set_string("tokenizer.chat_template", chat_template);
    const std::string file = test::temp_path("info_template.gguf");
    w.open(file);
    w.finish();
    std::string out;
    EXPECT_EQ(test::run_command(bin() + " info " + file + " --no-tensors", &out), 0) << out;
    std::remove(file.c_str());
    return out;
  };
  const std::string jinja = info_of(
      "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>{{ m.content }}{% endfor %}");
  EXPECT_NE(jinja.find("chat template: llama3 (Jinja, run by the interpreter)"), std::string::npos) << jinja;
  const std::string broken = info_of("{% for m in messages %}<|im_start|>{{ m.role }");
  EXPECT_NE(broken.find("chat template: chatml (built-in)"), std::string::npos) << broken;
}
