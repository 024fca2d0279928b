// A Jinja2 interpreter for chat templates: the subset of Python's jinja2 that models' own
// `tokenizer.chat_template` texts use, rendering byte for byte what jinja2 renders in Hugging
// Face's apply_chat_template environment (trim_blocks, lstrip_blocks, loopcontrols, the
// `generation` block, `raise_exception`, `strftime_now`, and a tojson that keeps non-ASCII text
// and the key order). docs/chat-templates.md lists what is supported.
#pragma once
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tandem {

namespace jinja {
struct Node;
}

class JinjaTemplate {
 public:
  // Parses once; throws Error "template syntax error at line N: ..." for a template jinja2
  // would not compile.
  explicit JinjaTemplate(std::string_view source);
  ~JinjaTemplate();
  JinjaTemplate(JinjaTemplate&&) noexcept;
  JinjaTemplate& operator=(JinjaTemplate&&) noexcept;

  // Renders with the context's keys as variables (messages, tools, add_generation_prompt,
  // bos_token, ...). now: the time strftime_now formats (0: the current time). Throws Error for
  // what jinja2 raises on (raise_exception, arithmetic on undefined values, ...), naming the
  // template line.
  std::string render(const nlohmann::ordered_json& context, std::time_t now = 0) const;

 private:
  struct Parsed;
  std::unique_ptr<Parsed> parsed_;
};

// Parses and renders once.
std::string render_jinja(std::string_view source, const nlohmann::ordered_json& context, std::time_t now = 0);

}  // namespace tandem
