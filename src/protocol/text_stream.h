// Turns generated token pieces into text that is safe to send: it holds back bytes that may still
// become a stop string, and the incomplete tail of a UTF-8 character (byte-fallback tokens can
// split one), and cuts the text at the first stop string.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tandem::protocol {

class TextStream {
 public:
  explicit TextStream(std::vector<std::string> stop = {}) : stop_(std::move(stop)) {}

  // Adds a piece; returns the text that can be sent now (possibly empty). After a stop string is
  // seen, stopped() is true and the text before it has been returned.
  std::string push(std::string_view piece);
  // End of generation: everything still held (a partial stop string did not complete).
  std::string flush();
  // Text before this stream's first piece that was never sent (the held tail of an answer this
  // one continues): held as if generated, so a stop string may begin in it; it is returned with
  // what follows unless a stop string cuts it.
  void hold(std::string_view text) {
    if (!stopped_) held_.append(text);
  }
  const std::string& held() const { return held_; }  // generated, not yet returned

  bool stopped() const { return stopped_; }
  const std::string& text() const { return sent_; }  // all text returned so far

 private:
  std::string take(size_t n);

  std::vector<std::string> stop_;
  std::string held_;  // generated, not yet returned
  std::string sent_;
  bool stopped_ = false;
};

// Length of the longest prefix of s that ends on a UTF-8 character boundary (an incomplete
// multi-byte sequence at the end is left out; invalid bytes count as complete characters).
size_t utf8_complete_prefix(std::string_view s);

}  // namespace tandem::protocol
