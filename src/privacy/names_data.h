// The name dictionary (names_data.cpp), space-separated UTF-8 words; internal to src/privacy.
#pragma once

namespace tandem::privacy::detail {

extern const char* const kGivenNames;
extern const char* const kSurnames;
extern const char* const kAmbiguousGivenNames;

}  // namespace tandem::privacy::detail
