// jinja_bench: microseconds per render of a typical tool-using conversation (six messages, two
// tools) through real models' chat templates, each parsed once (docs/chat-templates.md).
//   jinja_bench [--templates DIR] [--iterations N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/jinja.h"

namespace {

using json = nlohmann::ordered_json;

json conversation() {
  const json tools = json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather in a city.",
     "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "The city"},
       "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "search", "description": "Search the web.",
     "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}}}])");
  const json messages = json::parse(R"([
    {"role": "system", "content": "You are a helpful assistant that can call tools."},
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "call12345", "type": "function",
      "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "{\"temp\": 18.5}"},
    {"role": "assistant", "content": "It is 18.5 degrees in Paris."},
    {"role": "user", "content": "And tomorrow?"}])");
  return {{"messages", messages}, {"tools", tools}, {"add_generation_prompt", true},
          {"bos_token", "<s>"}, {"eos_token", "</s>"}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::string(TANDEM_SHARED_DIR) + "/reference/chat-templates";
  int iterations = 2000;
  CLI::App app("Jinja chat template render time");
  app.add_option("--templates", dir, "folder of .jinja chat templates");
  app.add_option("--iterations", iterations, "renders per template");
  CLI11_PARSE(app, argc, argv);
  const std::vector<std::string> names = {
      "meta-llama-Llama-3.1-8B-Instruct.jinja", "Qwen-Qwen3-0.6B.jinja", "Qwen-Qwen2.5-7B-Instruct.jinja",
      "mistralai-Mistral-Nemo-Instruct-2407.jinja", "NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja",
      "openai-gpt-oss-120b.jinja", "google-gemma-4-31B-it.jinja", "deepseek-ai-DeepSeek-V3.1.jinja"};
  const json ctx = conversation();
  std::printf("| template | parse (us) | render (us) | prompt bytes |\n|---|---|---|---|\n");
  for (const auto& name : names) {
    std::ifstream f(std::filesystem::path(dir) / name, std::ios::binary);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string source = ss.str();
    using clock = std::chrono::steady_clock;
    const int parses = std::max(1, iterations / 10);
    auto t0 = clock::now();
    for (int i = 0; i < parses; ++i) tandem::JinjaTemplate{source};
    const double parse_us = std::chrono::duration<double, std::micro>(clock::now() - t0).count() / parses;
    const tandem::JinjaTemplate tmpl(source);
    std::string out;
    try {
      out = tmpl.render(ctx, 1768435200);
    } catch (const std::exception& e) {
      std::printf("| %s | %.0f | error: %s | |\n", name.c_str(), parse_us, e.what());
      continue;
    }
    t0 = clock::now();
    for (int i = 0; i < iterations; ++i) out = tmpl.render(ctx, 1768435200);
    const double render_us = std::chrono::duration<double, std::micro>(clock::now() - t0).count() / iterations;
    std::printf("| %s | %.0f | %.1f | %zu |\n", name.c_str(), parse_us, render_us, out.size());
  }
  return 0;
}
