#include "protocol/chat_format.h"

#include <optional>

#include "engine/chat_template.h"
#include "format/error.h"

namespace tandem::protocol {

struct ChatFormatter::Impl {
  std::optional<ChatTemplate> tmpl;
  bool adds_bos = false;
};

ChatFormatter::ChatFormatter(const GgufFile& gguf, const std::string& name_or_source, bool tokenizer_adds_bos)
    : impl_(std::make_unique<Impl>()) {
  impl_->adds_bos = tokenizer_adds_bos;
  if (!name_or_source.empty()) {
    impl_->tmpl = ChatTemplate::from_name_or_source(name_or_source);  // a bad name is a startup error
    impl_->tmpl->with_special_texts_of(gguf);
  } else {
    try {
      impl_->tmpl = ChatTemplate::from_gguf(gguf);
    } catch (const Error& e) {
      error_ = std::string("this model has no usable chat template (") + e.what() +
               "); use /v1/completions, or start the server with --chat-template NAME";
    }
  }
  if (impl_->tmpl) name_ = impl_->tmpl->name();
}

ChatFormatter::~ChatFormatter() = default;

std::string ChatFormatter::format(const std::vector<ChatMessageIn>& messages) const {
  if (!impl_->tmpl) throw ApiError(400, error_, "messages", "chat_template_unavailable");
  std::vector<ChatMessage> msgs;
  msgs.reserve(messages.size());
  for (const auto& m : messages) {
    if (m.role == "tool") throw ApiError(400, "tool messages are not supported", "messages", "unsupported_parameter");
    msgs.push_back(ChatMessage{m.role == "developer" ? "system" : m.role, m.content});
  }
  std::string text;
  try {
    text = impl_->tmpl->apply(msgs, true);
  } catch (const Error& e) {
    throw ApiError(400, std::string("the conversation does not fit the chat template '") + name_ + "': " + e.what(),
                   "messages", "invalid_conversation");
  }
  return std::string(ChatTemplate::strip_leading_bos(text, impl_->tmpl->bos_text(), impl_->adds_bos));
}

}  // namespace tandem::protocol
