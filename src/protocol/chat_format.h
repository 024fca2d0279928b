// Chat messages to prompt text, with the model's chat template (or one named on the command
// line), for /v1/chat/completions.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "protocol/openai.h"

namespace tandem {
class GgufFile;
}

namespace tandem::protocol {

class ChatFormatter {
 public:
  // name_or_source: a template name or Jinja source (throws Error if not recognized); empty: the
  // model's tokenizer.chat_template — a model without one is no error here, format() then
  // answers 400. tokenizer_adds_bos: the prompt is tokenized with BOS added, so a BOS text the
  // template writes first is dropped.
  ChatFormatter(const GgufFile& gguf, const std::string& name_or_source, bool tokenizer_adds_bos);
  ~ChatFormatter();
  // The prompt text, ending with the assistant's turn opened. Throws ApiError.
  std::string format(const std::vector<ChatMessageIn>& messages) const;
  const std::string& name() const { return name_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string name_;
  std::string error_;  // why there is no template
};

}  // namespace tandem::protocol
