// Context cues: words near a candidate that make it more likely to be what it looks like
// ("SSN" before 078-05-..., "call me" before a number), in English, German, French and Spanish.
// As in Presidio, a cue raises a candidate's confidence; it never creates a finding by itself.
#pragma once
#include <cstddef>
#include <string_view>

#include "privacy/pii_types.h"

namespace tandem::privacy {

// Whether a cue for `type` occurs within `before` bytes before [start, end) or `after` bytes
// after it. Matching is on whole words, ASCII-case-insensitive.
bool has_cue(PiiType type, std::string_view text, size_t start, size_t end, size_t before = 48, size_t after = 24);

// A cue that a date is a date of birth ("born", "DOB", "geboren", "né le", "nacido el").
bool has_birth_cue(std::string_view text, size_t start, size_t end);

// A phone cue that names a phone or a call ("call", "Tel.", "mobile", "Handy"), not the generic
// "number" or "contact" alone.
bool has_phone_word(std::string_view text, size_t start, size_t end);

// An identifier's noun just before [start, ...) ("order", "invoice no.", "tracking #",
// "Bestellnummer", "commande", "pedido"): the digits after it name a thing, not a person.
bool follows_identifier_word(std::string_view text, size_t start);

// A version's word right before `start` ("version ", "build ", "release ", "v"):
// the dotted digits after it are a version, not a date or an address.
bool follows_version_word(std::string_view text, size_t start);

// The confidence after cues: base when there is none, else raised to at least `floor` and by
// `boost` (capped at 1).
double with_cue(double base, bool cue, double boost = 0.3, double floor = 0.8);

}  // namespace tandem::privacy
