// libFuzzer target for the grammar front ends, which read user input (a request's GBNF or JSON
// Schema): any bytes must compile or give an Error, never crash or hang. The first byte picks
// GBNF or JSON Schema; the input is split at the first NUL into the grammar and a text that a
// matcher then reads byte by byte (checking that a rejected byte leaves the matcher unchanged).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/grammar.h"
#include "format/error.h"

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 4096) return 0;
  const bool schema = data[0] & 1;
  const std::string_view all(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t nul = all.find('\0');
  const std::string_view grammar_text = all.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
  try {
    const tandem::Grammar g = schema ? tandem::Grammar::from_json_schema(grammar_text)
                                     : tandem::Grammar::from_gbnf(grammar_text);
    tandem::GrammarMatcher m(g, std::make_shared<tandem::GrammarVocab>());
    for (char c : text) {
      const auto before = m.checkpoint();
      if (!m.accept_bytes(std::string_view(&c, 1))) check(m.checkpoint() == before);
    }
    (void)m.can_end();
  } catch (const tandem::Error&) {
  }
  return 0;
}
