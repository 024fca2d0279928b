#include "serve/chat_format.h"

namespace tandem::serve {

// Placeholder until engine/chat_template.h is merged: every chat request is answered 501.
struct ChatFormatter::Impl {};

ChatFormatter::ChatFormatter(const GgufFile&, const std::string&) : error_("chat templates are not built in yet") {}
ChatFormatter::~ChatFormatter() = default;

std::string ChatFormatter::format(const std::vector<ChatMessageIn>&) const {
  throw ApiError(501, error_, "messages", "chat_template_unavailable", "server_error");
}

}  // namespace tandem::serve
