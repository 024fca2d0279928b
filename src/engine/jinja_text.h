// Python's str operations that Jinja filters and string methods are made of, on UTF-8 text.
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (and ß to SS);
// whitespace is ASCII's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::jinja {

std::string text_upper(std::string s);
std::string text_lower(std::string s);
std::string py_capitalize(const std::string& s);  // str.capitalize()
std::string py_title(const std::string& s);       // str.title()
std::string jinja_title(const std::string& s);    // the title filter (words split at spaces, -, (, {, [, <)
std::string html_escape(const std::string& s);    // markupsafe.escape
// str.strip / lstrip / rstrip; chars null: whitespace.
std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right);
// str.replace(old, new, count); count < 0: all.
std::string py_replace(const std::string& s, const std::string& old_text, const std::string& new_text, int64_t count);
// str.split(sep, maxsplit); sep null: runs of whitespace. rsplit when from_right.
std::vector<std::string> py_split(const std::string& s, const std::string* sep, int64_t maxsplit, bool from_right);
std::vector<std::string> py_splitlines(const std::string& s);
// int(s) / float(s) for a Python literal with optional surrounding whitespace; nullopt if invalid.
std::optional<int64_t> parse_py_int(std::string_view s);
std::optional<double> parse_py_float(std::string_view s);

}  // namespace tandem::jinja
