#include "engine/jinja_lexer.h"

#include <cctype>

#include "format/error.h"
#include "engine/utf8.h"

namespace tandem::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

[[noreturn]] void fail(int line, const std::string& what) {
  throw Error("template syntax error at line " + std::to_string(line) + ": " + what);
}

// jinja2 reads the source with every line ending as "\n" and drops one trailing newline.
std::string normalize_source(std::string_view src) {
  std::string s;
  s.reserve(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\r') {
      s += '\n';
      if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
    } else {
      s += src[i];
    }
  }
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}
  std::vector<Token> run();

 private:
  void emit_text(std::string text, char open_marker, bool block_or_comment);
  void lex_comment();
  void lex_tag(bool block);
  bool lex_raw();
  bool at_tag_end(bool block, int depth);
  void lex_string();
  void lex_number();
  size_t find_open() const;

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool strip_next_ = false;    // a `-` closed the last tag: drop the next text's leading whitespace
  bool trim_newline_ = false;  // a block or comment closed the last tag: drop one newline
  bool line_starting_ = true;  // the next text starts a line (for lstrip_blocks)
  std::vector<Token> out_;
};

size_t Lexer::find_open() const {
  size_t p = pos_;
  while ((p = src_.find('{', p)) != std::string::npos) {
    if (p + 1 < src_.size() && (src_[p + 1] == '{' || src_[p + 1] == '%' || src_[p + 1] == '#')) return p;
    ++p;
  }
  return std::string::npos;
}

void Lexer::emit_text(std::string text, char marker, bool block_or_comment) {
  bool started_line = line_starting_;
  if (strip_next_) {
    size_t b = 0;
    while (b < text.size() && is_space(text[b])) ++b;
    started_line = b > 0 && text[b - 1] == '\n';
    text.erase(0, b);
  } else if (trim_newline_ && !text.empty() && text[0] == '\n') {
    text.erase(0, 1);
    started_line = true;
  }
  strip_next_ = trim_newline_ = false;
  if (marker == '-') {
    while (!text.empty() && is_space(text.back())) text.pop_back();
  } else if (marker != '+' && block_or_comment) {
    const size_t nl = text.rfind('\n');
    const size_t from = nl == std::string::npos ? 0 : nl + 1;
    bool blank = true;
    for (size_t i = from; i < text.size(); ++i) blank = blank && is_space(text[i]);
    if (blank && (nl != std::string::npos || started_line)) text.erase(from);
  }
  if (!text.empty()) out_.push_back({TokenKind::Text, std::move(text), line_});
}

std::vector<Token> Lexer::run() {
  while (pos_ < src_.size()) {
    const size_t open = find_open();
    const size_t text_end = open == std::string::npos ? src_.size() : open;
    const char kind = open == std::string::npos ? 0 : src_[open + 1];
    const char marker = open + 2 < src_.size() && open != std::string::npos ? src_[open + 2] : 0;
    std::string text = src_.substr(pos_, text_end - pos_);
    const int text_line = line_;
    for (char c : text) line_ += c == '\n';
    const int tag_line = line_;
    line_ = text_line;
    emit_text(std::move(text), kind ? marker : 0, kind == '%' || kind == '#');
    line_ = tag_line;
    line_starting_ = false;
    if (!kind) break;
    pos_ = open + 2;
    if (marker == '-' || marker == '+') ++pos_;
    if (kind == '#') lex_comment();
    else lex_tag(kind == '%');
  }
  out_.push_back({TokenKind::End, "", line_});
  return out_;
}

void Lexer::lex_comment() {
  const int start = line_;
  const size_t close = src_.find("#}", pos_);
  if (close == std::string::npos) fail(start, "unterminated comment");
  for (size_t i = pos_; i < close; ++i) line_ += src_[i] == '\n';
  const char before = close > pos_ ? src_[close - 1] : 0;
  strip_next_ = before == '-';
  trim_newline_ = before != '-' && before != '+';
  pos_ = close + 2;
}

bool Lexer::at_tag_end(bool block, int depth) {
  const char* end = block ? "%}" : "}}";
  if (depth > 0) return false;
  size_t p = pos_;
  char marker = 0;
  if (src_[p] == '-' || src_[p] == '+') marker = src_[p++];
  if (src_.compare(p, 2, end) != 0) return false;
  if (marker == '+' && !block) return false;
  pos_ = p + 2;
  strip_next_ = marker == '-';
  trim_newline_ = block && marker == 0;
  out_.push_back({block ? TokenKind::BlockEnd : TokenKind::VarEnd, "", line_});
  return true;
}

// {% raw %}...{% endraw %}: the text between is template data, tags and all.
bool Lexer::lex_raw() {
  size_t p = pos_;
  while (p < src_.size() && is_space(src_[p])) ++p;
  if (src_.compare(p, 3, "raw") != 0) return false;
  p += 3;
  while (p < src_.size() && is_space(src_[p])) ++p;
  const bool strip_after = p < src_.size() && src_[p] == '-';
  if (strip_after) ++p;
  if (src_.compare(p, 2, "%}") != 0) return false;
  p += 2;
  size_t search = p;
  while (true) {
    const size_t open = src_.find("{%", search);
    if (open == std::string::npos) fail(line_, "missing '{% endraw %}'");
    size_t q = open + 2;
    const bool strip_before = q < src_.size() && src_[q] == '-';
    if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) ++q;
    while (q < src_.size() && is_space(src_[q])) ++q;
    if (src_.compare(q, 6, "endraw") != 0) {
      search = open + 2;
      continue;
    }
    q += 6;
    while (q < src_.size() && is_space(src_[q])) ++q;
    const char marker = q < src_.size() && (src_[q] == '-' || src_[q] == '+') ? src_[q++] : 0;
    if (src_.compare(q, 2, "%}") != 0) fail(line_, "expected '%}' after endraw");
    std::string text = src_.substr(p, open - p);
    if (strip_after) {
      size_t b = 0;
      while (b < text.size() && is_space(text[b])) ++b;
      text.erase(0, b);
    }
    if (strip_before)
      while (!text.empty() && is_space(text.back())) text.pop_back();
    for (size_t i = pos_; i < q + 2; ++i) line_ += src_[i] == '\n';
    if (!text.empty()) out_.push_back({TokenKind::Text, std::move(text), line_});
    pos_ = q + 2;
    strip_next_ = marker == '-';
    trim_newline_ = marker == 0;
    return true;
  }
}

void Lexer::lex_tag(bool block) {
  const int start = line_;
  if (block && lex_raw()) return;
  out_.push_back({block ? TokenKind::BlockBegin : TokenKind::VarBegin, "", line_});
  int depth = 0;
  static const char* kOps2[] = {"//", "**", "==", "!=", "<=", ">="};
  while (true) {
    while (pos_ < src_.size() && is_space(src_[pos_])) line_ += src_[pos_++] == '\n';
    if (pos_ >= src_.size()) fail(start, block ? "unterminated '{%' tag" : "unterminated '{{' expression");
    if (at_tag_end(block, depth)) return;
    const char c = src_[pos_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t b = pos_;
      while (pos_ < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
      out_.push_back({TokenKind::Name, src_.substr(b, pos_ - b), line_});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      lex_number();
    } else if (c == '\'' || c == '"') {
      lex_string();
    } else {
      std::string op(1, c);
      for (const char* two : kOps2)
        if (src_.compare(pos_, 2, two) == 0) op = two;
      if (op.size() == 1 && std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos)
        fail(line_, std::string("unexpected character '") + c + "'");
      if (c == '(' || c == '[' || c == '{') ++depth;
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
      pos_ += op.size();
      out_.push_back({TokenKind::Operator, op, line_});
    }
  }
}

void Lexer::lex_number() {
  const size_t b = pos_;
  bool is_float = false;
  auto digits = [&] {
    while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) ++pos_;
  };
  digits();
  if (pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
    is_float = true;
    ++pos_;
    digits();
  }
  if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
    size_t p = pos_ + 1;
    if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
    if (p < src_.size() && std::isdigit(static_cast<unsigned char>(src_[p]))) {
      is_float = true;
      pos_ = p;
      digits();
    }
  }
  std::string text;
  for (size_t i = b; i < pos_; ++i)
    if (src_[i] != '_') text += src_[i];
  out_.push_back({is_float ? TokenKind::Float : TokenKind::Integer, text, line_});
}

void Lexer::lex_string() {
  const char q = src_[pos_++];
  const int start = line_;
  std::string s;
  while (true) {
    if (pos_ >= src_.size()) fail(start, "unterminated string");
    const char c = src_[pos_++];
    if (c == q) break;
    if (c == '\n') ++line_;
    if (c != '\\' || pos_ >= src_.size()) {
      s += c;
      continue;
    }
    const char e = src_[pos_++];
    switch (e) {
      case 'n': s += '\n'; break;
      case 't': s += '\t'; break;
      case 'r': s += '\r'; break;
      case 'b': s += '\b'; break;
      case 'f': s += '\f'; break;
      case 'v': s += '\v'; break;
      case 'a': s += '\a'; break;
      case '0': s += '\0'; break;
      case '\\': case '\'': case '"': s += e; break;
      case '\n': ++line_; break;
      case 'x': case 'u': case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (pos_ + n > src_.size()) fail(line_, "truncated \\" + std::string(1, e) + " escape");
        const std::string hex = src_.substr(pos_, n);
        if (hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
          fail(line_, "truncated \\" + std::string(1, e) + " escape");
        append_utf8(s, uint32_t(std::stoul(hex, nullptr, 16)));
        pos_ += n;
        break;
      }
      default: s += '\\'; s += e;
    }
  }
  out_.push_back({TokenKind::String, std::move(s), start});
}

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(normalize_source(source)).run(); }

}  // namespace tandem::jinja
