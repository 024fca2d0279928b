// Street addresses: the street line only (number + street name + street word), in the forms of
// English (221B Baker Street), German (Hauptstraße 5, Berliner Str. 12a, Am Markt 3), French
// (12 rue de la Paix, 5 bis avenue Foch) and Spanish (Calle Mayor 5, C/ de Alcalá, 42). A postal
// code and city that follow are not part of the span. Scored lower than the checked types: the
// patterns are heuristics.
#include "privacy/cues.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"

namespace tandem::privacy::detail {

void find_addresses(std::string_view text, Findings& out) {
  static const Regex english(
      R"((?<![\w])\d{1,5}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?(?:\p{Lu}[\p{L}'\-]*\.?\s+){1,4}(?:(?:Street|Avenue|Road|Boulevard|Lane|Drive|Court|Place|Way|Terrace|Close|Square|Parkway|Highway|Crescent|Gardens|Row|Alley)\b|(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Sq|Pkwy|Hwy)\b\.?)(?:\s*,?\s*(?:Apt|Apartment|Suite|Unit|Flat)\.?\s*#?\s*\w+)?)");
  static const Regex german(
      R"((?<![\w])(?:(?:\p{Lu}[\p{L}\-]*(?:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|steig|pfad))|(?:\p{Lu}[\p{L}]*(?:er|e)\s+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer))|(?:(?:Am|An der|Auf dem|Im|In der|Zum|Zur)\s+\p{Lu}[\p{L}\-]+))\s+\d{1,4}\s?[a-zA-Z]?(?![\w]))");
  static const Regex french(
      R"((?<![\w])\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|impasse|quai|route|cours|passage)\s+(?:(?:de la|de l'|de|du|des|la|le|l'|d')\s*)?\p{L}[\p{L}'\-]*(?:\s+(?:(?:de la|de|du|des|la|le)\s+)?\p{Lu}[\p{L}'\-]*)*)");
  static const Regex spanish(
      R"((?<![\w])(?:Calle|C/|Avenida|Avda\.?|Av\.|Paseo|Plaza|Pza\.|Camino|Carrera|Ronda|Travesía|Glorieta)\s*(?:(?:de la|de los|de las|del|de|la)\s+)?\p{Lu}[\p{L}\-]*(?:\s+(?:(?:de la|de los|del|de|la|y)\s+)?\p{Lu}[\p{L}\-]*)*,?\s+(?:n[º°o]\.?\s*)?\d{1,4}(?:\s?[A-Za-z](?![\w]))?(?:,?\s*\d{1,2}[º°ª]\s*[A-Za-z]?)?)");
  for (const Regex* re : {&english, &german, &french, &spanish}) {
    re->for_each(text, [&](const Regex::Match& m) {
      size_t e = m.end();
      while (e > m.start() && (text[e - 1] == ' ' || text[e - 1] == ',')) --e;
      out.push_back({PiiType::Address, m.start(), e, with_cue(0.7, has_cue(PiiType::Address, text, m.start(), e), 0.2, 0.85)});
    });
  }
}

}  // namespace tandem::privacy::detail
