#include "protocol/text_stream.h"

#include <algorithm>

namespace tandem::protocol {

size_t utf8_complete_prefix(std::string_view s) {
  // Look back at most 3 bytes for the lead byte of a character that runs past the end.
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(n, 4); ++back) {
    const auto c = uint8_t(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for its lead
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return len > back ? n - back : n;
  }
  return n;
}

std::string TextStream::take(size_t n) {
  std::string out = held_.substr(0, n);
  held_.erase(0, n);
  sent_ += out;
  return out;
}

std::string TextStream::push(std::string_view piece) {
  if (stopped_) return {};
  held_.append(piece);
  // The earliest complete stop string ends generation; the text before it is sent.
  size_t cut = std::string::npos;
  for (const auto& s : stop_) {
    const size_t at = held_.find(s);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  if (cut != std::string::npos) {
    stopped_ = true;
    held_.resize(cut);
    return take(held_.size());
  }
  // Hold back the longest suffix that is a proper prefix of a stop string.
  size_t keep = 0;
  for (const auto& s : stop_)
    for (size_t len = std::min(s.size() - 1, held_.size()); len > keep; --len)
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
  const size_t ready = utf8_complete_prefix(std::string_view(held_).substr(0, held_.size() - keep));
  return take(ready);
}

std::string TextStream::flush() {
  if (stopped_) return {};
  return take(held_.size());
}

}  // namespace tandem::protocol
