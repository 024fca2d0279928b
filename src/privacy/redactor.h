// Reversible redaction: each finding becomes a typed placeholder ([EMAIL_1], [PHONE_2]) and a
// per-conversation PlaceholderMap remembers which value each stands for, so the same value gets
// the same placeholder in every turn and the device can put the values back into the answer.
// The map holds personal data: it lives only on the device and is never logged or sent.
#pragma once
#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "privacy/pii_types.h"

namespace tandem::privacy {

// Placeholders are "[" TYPE "_" N "]" with TYPE a pii_type_name and N counting from 1 per type.
inline constexpr size_t kMaxPlaceholderLength = 32;

class PlaceholderMap {
 public:
  // The placeholder for `value` of type `t`; creates the next one for the type the first time.
  // Values are compared after normalisation (emails case-insensitively; phone numbers, cards,
  // IBANs and ID numbers by their letters and digits), so "+49 30 1234567" and "+4930 1234567"
  // share one placeholder.
  std::string placeholder_for(PiiType t, std::string_view value);
  // The original value (as first seen) of a placeholder, if this map made it.
  std::optional<std::string_view> value_of(std::string_view placeholder) const;
  size_t size() const { return by_placeholder_.size(); }
  void clear();

 private:
  std::map<std::pair<PiiType, std::string>, std::string> by_value_;   // (type, normalised) -> placeholder
  std::unordered_map<std::string, std::string> by_placeholder_;      // placeholder -> original value
  std::array<int, kPiiTypeCount> next_{};
};

struct Redaction {
  std::string text;                  // the text with each finding replaced by its placeholder
  std::map<PiiType, int> counts;     // findings replaced, by type (safe to log: no values)
};

// Replaces the findings (sorted, non-overlapping spans of `text`, as Detector::detect returns
// them) with placeholders from `map`, adding new ones to it.
Redaction redact(std::string_view text, const std::vector<Finding>& findings, PlaceholderMap& map);

// Whether `s` has the shape of a placeholder ("[EMAIL_1]"), whoever made it.
bool is_placeholder(std::string_view s);

}  // namespace tandem::privacy
