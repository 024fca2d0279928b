// Addresses: (1) the street line (number + street name + street word, flat or unit), without the
// postal code and city, in the forms of English-speaking countries (221B Baker Street,
// 1600 Pennsylvania Ave NW, Flat 4, 12 Mill Lane), India (Flat 4B, MG Road), Japan (1-2-3 Shibuya),
// Germany (Hauptstraße 5, Berliner Str. 12a, Am Markt 3), France (12 rue de la Paix), Spain
// (Calle Mayor 5, 3º B), Italy (Via Roma 12), the Netherlands (Keizersgracht 123), Portugal and
// Brazil (Rua Augusta, 27), Poland (ul. Długa 5/3) and Turkey (Atatürk Cad. No: 12);
// (2) a place that locates a person: a locating cue ("I live in", "wohne in", "j'habite à",
// "vivo en", "abito a", "İzmir'de yaşıyorum") before a town from the gazetteer (data/pii, GeoNames)
// or, less surely, before any capitalised word. Scored lower than the checked types: heuristics.
#include <algorithm>
#include <string>
#include <vector>

#include "privacy/cues.h"
#include "privacy/lexicon.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"
#include "privacy/word_model.h"

namespace tandem::privacy::detail {

namespace {

const Regex* const* street_patterns() {
  static const Regex english(
      R"((?<![\w])(?:(?:Flat|Apt|Apartment|Unit|Suite)\.?\s*#?\s*\w{1,5},\s*)?\d{1,5}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:\p{Lu}[\p{L}'\-]*\.?\s+){1,4}(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Way|Terrace|Close|Square|Parkway|Highway|Crescent|Gardens|Row|Alley|Mews|Grove|Hill)\b|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Sq|Pkwy|Hwy)\b\.?)(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?(?:\s*,?\s*(?:Apt|Apartment|Suite|Unit|Flat)\.?\s*#?\s*\w+)?)");
  static const Regex india(
      R"((?<![\w])(?:Flat|House No\.?|H\.?\s?No\.?|Plot|Door No\.?)\s*\w{1,5},\s*(?:\p{Lu}[\p{L}\.]*\s+){1,3}(?:Road|Nagar|Marg|Street|Salai|Lane|Colony|Layout|Main|Cross|Bagh|Chowk)\b)");
  static const Regex japan(R"((?<![\w\-.])\d{1,2}-\d{1,3}-\d{1,3}\s+\p{Lu}[\p{L}]+(?:-\p{Lu}?[\p{L}]+)?(?=,))");
  static const Regex german(
      R"((?<![\w])(?:(?:\p{Lu}[\p{L}\-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad))|(?:\p{Lu}[\p{L}]*(?:er|e)\s+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer))|(?:(?:Am|An der|Auf dem|Im|In der|Zum|Zur)\s+\p{Lu}[\p{L}\-]+))\s+\d{1,4}\s?[a-zA-Z]?(?![\w]))");
  static const Regex dutch(
      R"((?<![\w])\p{Lu}[\p{L}\-]*(?:straat|laan|gracht|plein|kade|singel|dijk|steeg|dreef|markt|wal|pad)\s+\d{1,4}(?:\s?[a-zA-Z](?![\w])|-\d{1,3})?)");
  static const Regex french(
      R"((?<![\w])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|impasse|quai|route|cours|passage)\s+(?:(?:de la|de l'|de|du|des|la|le|l'|d')\s*)?\p{L}[\p{L}'\-]*(?:\s+(?:(?:de la|de|du|des|la|le)\s+)?\p{Lu}[\p{L}'\-]*)*)");
  static const Regex spanish(
      R"((?<![\w])(?:Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Plaza|Pza\.|Camino|Carrera|Ronda|Travesía|Glorieta)\s*(?:(?:de la|de los|de las|del|de|la)\s+)?\p{Lu}[\p{L}\-]*(?:\s+(?:(?:de la|de los|del|de|la|y)\s+)?\p{Lu}[\p{L}\-]*)*,?\s+(?:n[º°o]\.?\s*)?\d{1,4}(?:\s?[A-Za-z](?![\w]))?(?:,?\s*\d{1,2}[º°ª]\s*[A-Za-z]?)?)");
  static const Regex italian(
      R"((?<![\w])(?:Via|Viale|V\.le|Piazza|P\.za|Piazzale|Corso|C\.so|Vicolo|Largo|Lungotevere|Strada|Contrada|Borgo)\s+(?:(?:dei|degli|delle|della|del|dello|di|de)\s+)?\p{Lu}[\p{L}'\-]*(?:\s+(?:(?:dei|degli|delle|della|del|di)\s+)?\p{Lu}[\p{L}'\-]*){0,3},?\s+(?:n\.\s*)?\d{1,4}(?:\s?[a-zA-Z](?![\w])|/[a-zA-Z0-9]{1,3})?)");
  static const Regex portuguese(
      R"((?<![\w])(?:Rua|R\.|Avenida|Av\.|Travessa|Tv\.|Praça|Largo|Alameda|Estrada|Rodovia)\s+(?:(?:da|do|das|dos|de)\s+)?\p{Lu}[\p{L}'\-]*(?:\s+(?:(?:da|do|das|dos|de|e)\s+)?\p{Lu}[\p{L}'\-]*){0,4},?\s+(?:n[º°o]\.?\s*)?\d{1,5}[A-Za-z]?)");
  static const Regex polish(
      R"((?<![\w])(?:ul\.|al\.|pl\.|os\.|ulica|aleja)\s*\p{Lu}[\p{L}'\-\.]*(?:\s+\p{Lu}[\p{L}'\-\.]*){0,3}\s+\d{1,4}[a-zA-Z]?(?:\s?/\s?\d{1,4})?)");
  static const Regex turkish(
      R"((?<![\w])\p{Lu}[\p{L}]*\s+(?:Cad\.|Caddesi|Cd\.|Sok\.|Sokak|Sokağı|Sk\.|Bulvarı|Blv\.|Mah\.|Mahallesi)\s*(?:,\s*)?No\s*[:.]?\s*\d{1,4}(?:/\d{1,4})?)");
  static const Regex* const all[] = {&english, &india, &japan, &german, &dutch, &french, &spanish,
                                     &italian, &portuguese, &polish, &turkish, nullptr};
  return all;
}

bool contains_any(std::string_view text, const std::vector<std::string_view>& needles) {
  for (std::string_view n : needles)
    if (text.find(n) != std::string_view::npos) return true;
  return false;
}

std::string ascii_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return lower;
}

// Every street line has a number and one of its country's street words; a pattern is tried only
// when its words occur in the text (lower case), which most texts fail cheaply.
void find_street_lines(std::string_view text, std::string_view lower, Findings& out) {
  if (text.find_first_of("0123456789") == std::string_view::npos) return;
  static const std::vector<std::string_view> kWords[] = {
      {"st", "av", "rd", "road", "lane", "ln", "dr", "court", "ct", "place", "pl", "way", "terrace", "close", "sq",
       "parkway", "pkwy", "highway", "hwy", "crescent", "gardens", "row", "alley", "mews", "grove", "hill", "blvd",
       "boulevard"},
      {"flat", "no", "plot"},
      {"-"},
      {"stra", "str.", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "chaussee", "steig", "pfad", "am ",
       "an der", "auf dem", "im ", "in der", "zum ", "zur "},
      {"straat", "laan", "gracht", "plein", "kade", "singel", "dijk", "steeg", "dreef", "markt", "wal", "pad"},
      {"rue", "av", "bd", "boulevard", "place", "chemin", "all", "impasse", "quai", "route", "cours", "passage"},
      {"calle", "c/", "av", "paseo", "plaza", "pza", "camino", "carrera", "ronda", "traves", "glorieta"},
      {"via", "v.le", "piazza", "p.za", "corso", "c.so", "vicolo", "largo", "lungotevere", "strada", "contrada", "borgo"},
      {"rua", "r.", "av", "travessa", "tv.", "pra", "largo", "alameda", "estrada", "rodovia"},
      {"ul.", "al.", "pl.", "os.", "ulica", "aleja"},
      {"cad", "cd.", "sok", "sk.", "bulv", "blv.", "mah"}};
  const Regex* const* all = street_patterns();
  for (const Regex* const* re = all; *re; ++re) {
    if (!contains_any(lower, kWords[re - all])) continue;
    (*re)->for_each(text, [&](const Regex::Match& m) {
      size_t e = m.end();
      while (e > m.start() && (text[e - 1] == ' ' || text[e - 1] == ',')) --e;
      out.push_back({PiiType::Address, m.start(), e, with_cue(0.7, has_cue(PiiType::Address, text, m.start(), e), 0.2, 0.85)});
    });
  }
}

// The run of capitalised words at `pos` (up to four, lower-case particles allowed between them),
// as its end, and whether the gazetteer knows it or a prefix of it ("Glenvar Heights"). Returns
// pos when no capitalised word starts there.
size_t place_at(std::string_view text, size_t pos, bool& known) {
  static const Regex run(
      R"(\G\p{Lu}[\p{L}\p{M}'’\-]*(?:\.?\s(?:(?:de|del|de la|do|da|dos|das|di|am|an der|im|sur|upon|on|en|la|le)\s)?\p{Lu}[\p{L}\p{M}'’\-]*){0,3})");
  known = false;
  size_t end = pos;
  run.for_each(text.substr(pos), [&](const Regex::Match& m) {
    if (m.start() != 0) return;
    std::string_view words = text.substr(pos, m.end());
    end = pos + words.size();
    for (size_t i = 0; i <= words.size() && !known; ++i)
      if (i == words.size() || words[i] == ' ') known = is_place(lower_word(words.substr(0, i)));
  });
  return end;
}

// A place after a cue that says someone lives, stays or comes from there.
void find_located_places(std::string_view text, std::string_view lower, Findings& out) {
  // The cues share a few stems (ASCII lower case is enough for them); most texts have none.
  if (!contains_any(lower, {"live", "living", "stay", "moved", "grew", "based", "from", "wohn", "lebe", "komme",
                            "habite", "vis ", "vivons", "né", "suis de", "vivo", "vivimos", "resido", "soy de", "estoy",
                            "abit", "sono di", "woon", "wonen", "kom uit", "moro", "moramos", "sou de", "mieszkam", "'m at",
                            "am at", "'re at", "are at"})) {
    if (!contains_any(text, {"yor", "doğdum", "büyüdüm"})) return;
  }
  static const Regex cue(
      R"((?<![\p{L}])(?i:(?:i|we|he|she|they)\s+(?:now\s+|still\s+|currently\s+)?(?:live|lived|living|stay|staying|moved|grew up|am based|are based|'m based|'re based)\s+(?:\p{Ll}+\s+){0,3}?(?:in|to|at)|i'm from|i am from|i come from|we're based in|based in|lives in|living in|(?:i'm|i am|we're|we are|staying)\s+at\s+(?:the\s+)?(?:\p{Lu}[\p{L}]*\s+){1,3}in|wohne|wohnen|lebe|leben|wohnhaft)\s+(?:(?:\p{L}+\s+){0,3}?in\s+)?|(?<![\p{L}])(?i:komme aus|j'habite à|j'habite a|j'habite|habite à|je vis à|vis à|vivons à|né à|née à|je suis de|vivo en|vivimos en|resido en|soy de|estoy en|abito a|abito in|vivo a|vivo in|sono di|abitiamo a|ik woon in|woon in|wonen in|ik kom uit|kom uit|moro em|moro no|moro na|moramos em|vivo em|sou de|mieszkam w|mieszkam we)\s+)");
  cue.for_each(text, [&](const Regex::Match& m) {
    bool known = false;
    size_t e = place_at(text, m.end(), known);
    if (e == m.end()) return;
    std::string_view run = text.substr(m.end(), e - m.end());
    // An unknown single word that is also a common word ("I live in Hope") is too weak.
    bool one_word = run.find(' ') == std::string_view::npos;
    if (!known && one_word && is_common_word(lower_word(run))) return;
    out.push_back({PiiType::Address, m.end(), e, known ? 0.8 : one_word ? 0.7 : 0.65});
  });
  // Turkish: the place carries the case ending ("İzmir'de yaşıyorum", "Ankara'dan geliyorum").
  static const Regex turkish(
      R"((\p{Lu}[\p{L}]+(?:\s\p{Lu}[\p{L}]+)?)['’](?:da|de|ta|te|dan|den|tan|ten)\s+(?:yaşıyorum|yaşıyoruz|oturuyorum|oturuyoruz|geliyorum|doğdum|büyüdüm))");
  turkish.for_each(text, [&](const Regex::Match& m) {
    bool known = is_place(lower_word(text.substr(m.start(1), m.end(1) - m.start(1))));
    // The verb is a locating cue of its own, as strong as "I live in" (unknown places 0.7).
    out.push_back({PiiType::Address, m.start(1), m.end(1), known ? 0.8 : 0.7});
  });
}

// Whether the sentence that ends at `pos` is about the writer: it has a first-person word.
bool first_person_before(std::string_view text, size_t pos) {
  size_t b = pos;
  while (b > 0 && text[b - 1] != '.' && text[b - 1] != '!' && text[b - 1] != '?' && text[b - 1] != '\n' && pos - b < 120) --b;
  static const Regex first_person(
      R"((?<![\p{L}'])(?i:i|i'm|i've|i'd|me|my|we|we're|we've|us|our|ich|mich|mir|mein|meine|meiner|wir|uns|unser|unsere|je|j|moi|nous|mon|ma|mes|notre|nos|yo|me|mi|mis|nosotros|nuestra|nuestro|io|noi|mio|mia|miei|nostro|nostra|ik|wij|mijn|onze|ons|eu|nós|meu|minha|nosso|nossa|ja|my|mój|moja|moje|nasz|nasza)(?![\p{L}]))");
  bool hit = false;
  first_person.for_each(text.substr(b, pos - b), [&](const Regex::Match&) { hit = true; });
  return hit;
}

// A place after a preposition of place or direction in a sentence about the writer ("my family
// relocated to Porto", "I'm originally from Cork", "wir sind nach Graz gezogen"): no list of
// verbs, only the sentence's person and the preposition. The place is a town of the gazetteer
// (not also a name), or a capitalised word that the word model takes for a place; weaker than a
// locating cue.
void find_places_of_the_writer(std::string_view text, Findings& out) {
  static const Regex preposition(R"((?<![\p{L}])(?i:in|to|from|near|nach|aus|bei|à|en|de|a|em|da|do|w|z|ze|uit|naar|bij|dan|di)\s+(?=\p{Lu}))");
  preposition.for_each(text, [&](const Regex::Match& m) {
    bool known = false;
    size_t e = place_at(text, m.end(), known);
    if (e == m.end() || !first_person_before(text, m.start())) return;
    std::string_view run = text.substr(m.end(), e - m.end());
    std::string first = lower_word(run.substr(0, run.find(' ')));
    // A town that is also a name or a word ("Florence", "Porto") counts less; a person's cue or
    // the name lists then win over it.
    bool other = is_given_name(first) || is_surname(first) || is_common_word(first);
    if (other && !known) return;
    double conf = known ? (other ? 0.5 : 0.6) : 0;
    if (!known && run.find(' ') == std::string_view::npos) {
      WordClass c = classify_word(run);
      if (c.place >= 0.9) conf = 0.5;
    }
    if (conf > 0) out.push_back({PiiType::Address, m.end(), e, conf});
  });
}

}  // namespace

void find_addresses(std::string_view text, Findings& out) {
  std::string lower = ascii_lower(text);
  find_street_lines(text, lower, out);
  find_located_places(text, lower, out);
  find_places_of_the_writer(text, out);
}

}  // namespace tandem::privacy::detail
