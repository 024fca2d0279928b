// libFuzzer target for the Jinja interpreter, which reads model files' chat templates and
// --chat-template sources: any bytes must parse or give an Error, and a parsed template must
// render or give an Error, never crash or hang. The render context is a small conversation with
// a tool call, so that loops, filters and attribute chains have data to work on.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/jinja.h"
#include "format/error.h"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
                 {"role": "assistant", "content": "", "tool_calls": [{"type": "function",
                   "function": {"name": "f", "arguments": {"a": 1, "b": [1.5, null, true]}}}]},
                 {"role": "tool", "content": [{"type": "text", "text": "ok"}]}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 8192) return 0;
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  try {
    const tandem::JinjaTemplate tmpl(source);
    (void)tmpl.render(context(), 1768435200);
  } catch (const tandem::Error&) {
  }
  return 0;
}
