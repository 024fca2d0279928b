// The rule half of the complexity signal: which configured categories (code, math, reasoning, ...)
// a prompt falls in by keywords. The model half — the device's next-token entropy after
// prefill — is LocalTier::prompt_entropy; the router weighs both.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace tandem::edge {

// Categories whose keywords occur in `text` (case-insensitive ASCII), in the map's order.
std::vector<std::string> match_categories(const std::string& text,
                                          const std::map<std::string, std::vector<std::string>>& keywords);

}  // namespace tandem::edge
