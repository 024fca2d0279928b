// The Jinja parser: tokens to a syntax tree, with jinja2's operator precedence (filters and
// `is` tests bind tighter than arithmetic, `not` looser than comparisons) and the statements
// chat templates use: if / elif / else, for (with an `if` clause, `else`, `recursive`), set
// (also block set and namespace attributes), macro, call, filter, break / continue (jinja2's
// loopcontrols extension, which Hugging Face enables) and Hugging Face's `generation` block.
#pragma once
#include <string_view>

#include "engine/jinja_ast.h"

namespace tandem::jinja {

// Throws Error "template syntax error at line N: ..." for a template jinja2 would not compile.
Body parse_template(std::string_view source);

}  // namespace tandem::jinja
