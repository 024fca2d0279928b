// libFuzzer target for the privacy layer: any bytes given to the detector must give sorted,
// non-overlapping findings inside the text (or a tandem::Error, e.g. a PCRE2 match limit), never a
// crash or a hang; redacting them and restoring the placeholders must give the text back (each
// value as first written); and the
// streaming restorer, fed the redacted text (and the raw input) in chunks cut where the input's
// first byte says, must give what the whole-text restorer gives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "format/error.h"
#include "privacy/detector.h"
#include "privacy/restorer.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string streamed(std::string_view text, const tandem::privacy::PlaceholderMap& map, size_t step) {
  tandem::privacy::StreamRestorer r(map);
  std::string out;
  for (size_t i = 0; i < text.size(); i += step) {
    out += r.feed(text.substr(i, step));
    check(r.pending() < tandem::privacy::kMaxPlaceholderLength);
  }
  return out + r.flush();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::privacy;
  static const Detector detector;
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 13;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    auto findings = detector.detect(text);
    size_t prev = 0;
    for (const Finding& f : findings) {
      check(f.start >= prev && f.end > f.start && f.end <= text.size());
      check(f.confidence >= 0 && f.confidence <= 1);
      prev = f.end;
    }
    PlaceholderMap map;
    Redaction red = redact(text, findings, map);
    std::string back = restore(red.text, map);
    // Restoration gives each finding back as its placeholder's first-seen value (equal values
    // written differently, 537-22-1234 and 537221234, share one placeholder); exact unless the
    // input itself holds '[' (it could spell one of the map's placeholders).
    std::string expected;
    size_t pos = 0;
    for (const Finding& f : findings) {
      expected.append(text.substr(pos, f.start - pos));
      expected.append(*map.value_of(map.placeholder_for(f.type, text.substr(f.start, f.end - f.start))));
      pos = f.end;
    }
    expected.append(text.substr(pos));
    if (text.find('[') == std::string_view::npos) check(back == expected);
    check(streamed(red.text, map, step) == back);
    check(streamed(text, map, step) == restore(text, map));
  } catch (const tandem::Error&) {
  }
  return 0;
}
