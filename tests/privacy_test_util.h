// Shared by the detector tests: one Detector, and its findings as "TYPE:value" strings.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "privacy/detector.h"

namespace tandem::test {

inline const privacy::Detector& shared_detector() {
  static const privacy::Detector d;
  return d;
}

// "TYPE:value" for each finding, in order.
inline std::vector<std::string> found(std::string_view text) {
  std::vector<std::string> out;
  for (const privacy::Finding& f : shared_detector().detect(text))
    out.push_back(std::string(privacy::pii_type_name(f.type)) + ":" + std::string(text.substr(f.start, f.end - f.start)));
  return out;
}

}  // namespace tandem::test
