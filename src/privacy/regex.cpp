#define PCRE2_CODE_UNIT_WIDTH 8
#include "privacy/regex.h"

#include <pcre2.h>

#include <memory>
#include <string>

#include "format/error.h"

namespace tandem::privacy {

namespace {
std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "PCRE2 error " + std::to_string(code);
  return reinterpret_cast<const char*>(buf);
}
}  // namespace

Regex::Regex(std::string_view pattern, bool caseless) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | (caseless ? PCRE2_CASELESS : 0);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), opts, &err,
                                   &err_off, nullptr);
  if (!code)
    throw Error("privacy: pattern does not compile at offset " + std::to_string(err_off) + ": " +
                pcre2_message(err) + " in " + std::string(pattern));
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is absent
  code_ = code;
  auto* mctx = pcre2_match_context_create(nullptr);
  // The detector's patterns are linear-time on sane input; these limits stop a crafted text from
  // making one of them backtrack for seconds.
  pcre2_set_match_limit(mctx, 1'000'000);
  pcre2_set_depth_limit(mctx, 10'000);
  mctx_ = mctx;
}

Regex::~Regex() {
  pcre2_match_context_free(static_cast<pcre2_match_context*>(mctx_));
  pcre2_code_free(static_cast<pcre2_code*>(code_));
}

void Regex::for_each(std::string_view text, const std::function<void(const Match&)>& on_match) const {
  auto* code = static_cast<pcre2_code*>(code_);
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
      pcre2_match_data_create_from_pattern(code, nullptr), &pcre2_match_data_free);
  if (!md) throw Error("privacy: out of memory for PCRE2 match data");
  auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos <= text.size()) {
    int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md.get(),
                         static_cast<pcre2_match_context*>(mctx_));
    if (rc == PCRE2_ERROR_NOMATCH) return;
    if (rc < 0) throw Error("privacy: pattern matching failed: " + pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.get());
    Match m;
    m.count = std::min<int>(rc, Match::kMaxGroups);  // groups past rc did not take part
    for (int g = 0; g < m.count; ++g) {
      if (ov[2 * g] == PCRE2_UNSET)
        m.group[g] = {std::string_view::npos, std::string_view::npos};
      else
        m.group[g] = {ov[2 * g], ov[2 * g + 1]};
    }
    on_match(m);
    size_t next = ov[1];
    if (next == ov[0]) {  // empty match: step over one UTF-8 character
      ++next;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
    }
    pos = next;
  }
}

}  // namespace tandem::privacy
