// Chat templates: turning a conversation (system / user / assistant messages) into the prompt
// text a chat model was trained on.
//
// A model's own Jinja template (`tokenizer.chat_template`, or a Jinja source passed as
// --chat-template) is executed by the Jinja interpreter (engine/jinja.h), as Hugging Face's
// apply_chat_template renders it. Built-in templates are named the way llama.cpp names its own
// ("chatml", "llama2", "llama3", "mistral-v7", "gemma", ...): --chat-template NAME picks one, and
// a model whose template the interpreter cannot parse falls back to the built-in template that
// llama.cpp's llm_chat_detect_template recognizes in it (the same substring tests, same order).
//
// For the main families (ChatML, the Llama 2 variants, Llama 3, the Mistral variants, Phi-3,
// Gemma, Zephyr) apply() produces exactly what the family's reference Jinja template produces for
// a plain conversation, including the BOS text where that template writes `bos_token` (so the
// text may start with "<s>"; tokenize with parse_special and drop one leading BOS text when the
// tokenizer adds BOS itself: see strip_leading_bos). The other templates are rendered the way
// llama.cpp's built-in renderer (llm_chat_apply_template) renders them. docs/engine.md lists
// which template follows which reference.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tandem {

class GgufFile;
class JinjaTemplate;

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

class ChatTemplate {
 public:
  // The built-in template of that name or, failing that, a Jinja template source: rendered by
  // the interpreter (or, if it does not parse, the built-in template recognized in it by its
  // tell-tale markers). Throws Error naming the known templates (and the syntax error) if none.
  static ChatTemplate from_name_or_source(std::string_view name_or_source);
  // From the model's `tokenizer.chat_template`, with the model's BOS / EOS token texts. Throws
  // Error if the model has none ("... pass --chat-template NAME") or it is neither parsed nor
  // recognized.
  static ChatTemplate from_gguf(const GgufFile& f);
  // The built-in names that apply() renders, sorted.
  static std::vector<std::string> known_names();
  // llama.cpp's name for a built-in name or a Jinja source ("" if not recognized). The name may
  // be one llama.cpp knows that tandem does not render (from_name_or_source throws for those).
  static std::string detect(std::string_view name_or_source);

  // The built-in name, or for a Jinja template the name llama.cpp's detection gives it ("jinja"
  // if none).
  const std::string& name() const { return name_; }
  // True when apply() runs the Jinja interpreter rather than a built-in template.
  bool is_jinja() const { return jinja_ != nullptr; }
  // The texts written where a Jinja template writes bos_token / eos_token. Defaults are the
  // family's usual tokens ("<s>" / "</s>", "<|begin_of_text|>", "<bos>", ...); from_gguf uses the
  // model's. with_special_texts replaces them (an empty text writes nothing).
  const std::string& bos_text() const { return bos_; }
  const std::string& eos_text() const { return eos_; }
  ChatTemplate& with_special_texts(std::string_view bos, std::string_view eos);
  // The model's BOS / EOS token texts (tokenizer.ggml.tokens at bos_token_id / eos_token_id).
  ChatTemplate& with_special_texts_of(const GgufFile& f);

  // Renders the conversation; with add_generation_prompt the assistant turn's opening is
  // appended. Throws Error for an unknown role or a conversation the template cannot express
  // (e.g. roles that do not alternate where the model's template requires it; a Jinja template's
  // raise_exception message, with its line).
  std::string apply(std::span<const ChatMessage> messages, bool add_generation_prompt) const;

  // As llama.cpp's chat code: when the tokenizer adds BOS itself, one BOS text at the start of
  // the rendered prompt is dropped so that the prompt does not start with two BOS tokens.
  static std::string_view strip_leading_bos(std::string_view rendered, std::string_view bos_text,
                                            bool tokenizer_adds_bos);

  enum class Kind : int;

 private:
  ChatTemplate(Kind kind, std::string name);
  static ChatTemplate from_jinja(std::string_view source);
  Kind kind_;
  std::string name_;
  std::string bos_, eos_;
  std::shared_ptr<const JinjaTemplate> jinja_;  // shared: a ChatTemplate is copied freely
};

}  // namespace tandem
