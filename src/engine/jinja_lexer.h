// The Jinja lexer: template text to tokens, with the whitespace rules of Python's jinja2 as
// Hugging Face's apply_chat_template configures it (trim_blocks and lstrip_blocks on,
// keep_trailing_newline off) and the `-` / `+` markers inside tags.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tandem::jinja {

enum class TokenKind {
  Text,        // template data between tags
  VarBegin,    // {{
  VarEnd,      // }}
  BlockBegin,  // {%
  BlockEnd,    // %}
  Name,
  String,      // value: the decoded string
  Integer,
  Float,
  Operator,    // + - * / // % ** ~ == != < <= > >= = ( ) [ ] { } , . : |
  End,
};

struct Token {
  TokenKind kind;
  std::string value;
  int line;
};

// Throws Error naming the line for an unterminated tag, comment or string, or a stray character.
std::vector<Token> tokenize(std::string_view source);

}  // namespace tandem::jinja
