// Person names, without a model: (1) a cue that introduces a name ("my name is", "ich heiße",
// "je m'appelle", "me llamo"), an honorific (Mr., Frau, Mme, Sra.), a greeting ("Dear", "Hallo")
// or a sign-off line ("Best regards,\n") followed by capitalised words; (2) a given name from the
// dictionary, extended by the capitalised words after it (a surname from the dictionary scores
// higher). Ambiguous given names (Will, May, Rose) alone count only after a cue.
#include <algorithm>
#include <string>
#include <unordered_set>

#include "privacy/names_data.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"

namespace tandem::privacy::detail {

namespace {

using WordSet = std::unordered_set<std::string_view>;

WordSet load(const char* words) {
  WordSet set;
  std::string_view all(words);
  size_t i = 0;
  while (i < all.size()) {
    size_t j = all.find(' ', i);
    if (j == std::string_view::npos) j = all.size();
    if (j > i) set.insert(all.substr(i, j - i));
    i = j + 1;
  }
  return set;
}

const WordSet& given_set() { static const WordSet s = load(kGivenNames); return s; }

// A given name, or a hyphenated compound that starts with one (Hans-Peter, Marie-Claire).
bool is_given(std::string_view w) {
  if (given_set().count(w)) return true;
  size_t dash = w.find('-');
  return dash != std::string_view::npos && given_set().count(w.substr(0, dash)) > 0;
}
const WordSet& surnames() { static const WordSet s = load(kSurnames); return s; }
const WordSet& ambiguous() { static const WordSet s = load(kAmbiguousGivenNames); return s; }

// Capitalised words that follow a cue or a name but are not names.
const WordSet& not_names() {
  static const WordSet s = load(
      "I The A An And Or But If So To In On At Of For From With By My Your Our Their His Her This That These "
      "Those It We You He She They Me Us Them Is Am Are Was Were Be Sir Madam Madame Monsieur Team All Everyone "
      "Everybody World There Here Customer Customers Colleagues Friends Friend Folks Guys Mum Mom Dad Mother "
      "Father Doctor Support Sales Service Manager Please Thanks Thank Hello Hi Dear Yes No Not Just Also Today "
      "Tomorrow Yesterday Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April "
      "June July August September October November December Street Road Avenue Lane Drive Straße Str Rue Calle "
      "Avenida Ich Du Er Sie Es Wir Ihr Der Die Das Und Oder Mit Von Bei Im Am Zum Zur Herr Frau Le La Les Un Une "
      "Et Ou De Du Des Je Tu Il Elle Nous Vous Ils Elles Mon Ma Mes El Los Las Una Y O Del Yo Tú Usted Mi Su "
      "Alle Leute Liebe Lieber Hallo Bonjour Hola Cher Chère Querido Querida Señor Señora Mr Mrs Ms Dr Prof "
      "Visa Mastercard Amex PayPal Google Apple Microsoft Amazon IBAN SSN ITIN DOB IP URL MAC Email Phone "
      "Bitte Danke Merci Gracias Grüße Gruß Regards Best Cheers Sincerely Cordialement Saludos Atentamente "
      "Berlin Paris London Madrid Barcelona München Hamburg Köln Wien Zürich Lyon Marseille Sevilla Valencia "
      "Rome Roma New York Boston Chicago Texas California Germany France Spain England Europe America "
      "Bank Account Card Number Address Passport Order Invoice Ticket Meeting Project Report Plan");
  return s;
}

bool is_sentence_start(std::string_view text, size_t pos) {
  while (pos > 0 && (text[pos - 1] == ' ' || text[pos - 1] == '\t' || text[pos - 1] == '"' || text[pos - 1] == '(')) --pos;
  return pos == 0 || text[pos - 1] == '.' || text[pos - 1] == '!' || text[pos - 1] == '?' || text[pos - 1] == '\n' ||
         text[pos - 1] == ':';
}

// Capitalised name-like words (Anna, O'Brien, Anne-Marie, García), not all capitals.
const Regex& capitalised_word() {
  static const Regex re(R"((?<![\p{L}\p{N}'\-])\p{Lu}(?:['’]\p{Lu})?\p{Ll}[\p{L}]*(?:['’\-]\p{Lu}?\p{Ll}[\p{L}]*)*(?![\p{L}\p{N}]))");
  return re;
}

struct Word { size_t start, end; };

// The capitalised words of `text`, in order.
std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> out;
  capitalised_word().for_each(text, [&](const Regex::Match& m) { out.push_back({m.start(), m.end()}); });
  return out;
}

std::string_view word_text(std::string_view text, const Word& w) { return text.substr(w.start, w.end - w.start); }

// Extends a name that starts at words[i] over the next capitalised words separated only by one
// space (up to `max_more`), skipping words that are not names. Returns the index past the last.
size_t extend(std::string_view text, const std::vector<Word>& words, size_t i, size_t max_more) {
  size_t j = i + 1;
  while (j < words.size() && j - i <= max_more) {
    std::string_view gap = text.substr(words[j - 1].end, words[j].start - words[j - 1].end);
    if (gap != " ") break;
    if (not_names().count(word_text(text, words[j]))) break;
    ++j;
  }
  return j;
}

}  // namespace

void find_persons(std::string_view text, Findings& out) {
  std::vector<Word> words = words_of(text);
  auto index_at = [&](size_t pos) -> size_t {  // the word starting at pos (after a cue), or none
    auto it = std::lower_bound(words.begin(), words.end(), pos, [](const Word& w, size_t p) { return w.start < p; });
    return it != words.end() && it->start == pos ? size_t(it - words.begin()) : words.size();
  };
  // (1) Cues: a name right after them.
  static const Regex strong(
      R"((?i:my name is|my name's|i am called|ich heiße|ich heisse|mein name ist|je m'appelle|je m’appelle|mon nom est|me llamo|mi nombre es|name\s*:|nombre\s*:|nom\s*:|named|signed|unterzeichnet|firmado)\s+)");
  static const Regex honorific(
      R"((?<![\p{L}])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Frau|Mme|Mlle|Sr|Sra|Srta|Dña|Doña)\.?\s+)");
  static const Regex honorific_word(R"((?<![\p{L}])(?i:señor|señora|señorita|monsieur|madame|mademoiselle|herrn)\s+)");
  static const Regex verb(
      R"((?<![\p{L}])(?i:talk to|speak to|spoke to|spoke with|speak with|ask|tell|meet|met with|met|call|cc|remind|invite|introduce)\s+)");
  static const Regex greeting(
      R"((?<![\p{L}])(?i:dear|hi|hello|hey|hallo|liebe|lieber|moin|bonjour|bonsoir|salut|cher|chère|hola|querido|querida|estimado|estimada|thanks|thank you|danke|merci|gracias)\s*,?\s+)");
  static const Regex signoff(
      R"((?i:regards|best|cheers|thanks|sincerely|grüße|gruß|viele grüße|cordialement|amitiés|bien à vous|saludos|atentamente|un abrazo)\s*,?\s*\n\s*)");
  struct CueKind { const Regex* re; double conf; size_t more; };
  for (CueKind cue : {CueKind{&strong, 0.85, 2}, CueKind{&honorific, 0.85, 2}, CueKind{&honorific_word, 0.8, 2},
                      CueKind{&greeting, 0.7, 1}, CueKind{&signoff, 0.75, 1}, CueKind{&verb, 0.5, 2}}) {
    cue.re->for_each(text, [&](const Regex::Match& m) {
      size_t k = index_at(m.end());
      if (k == words.size()) {
        // "my name is priya": after a strong cue, a lower-case given name from the dictionary.
        if (cue.re != &strong) return;
        size_t e = m.end();
        while (e < text.size() && ((text[e] >= 'a' && text[e] <= 'z') || (static_cast<unsigned char>(text[e]) >= 0x80))) ++e;
        if (e == m.end()) return;
        std::string cap(text.substr(m.end(), e - m.end()));
        cap[0] = char(cap[0] - 'a' + 'A');
        if (cap[0] >= 'A' && cap[0] <= 'Z' && is_given(cap)) out.push_back({PiiType::Person, m.end(), e, 0.75});
        return;
      }
      if (not_names().count(word_text(text, words[k]))) return;
      // After a verb ("ask", "tell"), one capitalised word is weak, two are a name.
      size_t j = extend(text, words, k, cue.more);
      double conf = cue.re == &verb ? (j - k > 1 ? 0.6 : 0.5) : cue.conf;
      if (cue.re == &verb && is_sentence_start(text, m.start()) == false && is_sentence_start(text, words[k].start)) return;
      out.push_back({PiiType::Person, words[k].start, words[j - 1].end, conf});
    });
  }
  // (2) The dictionary.
  for (size_t i = 0; i < words.size();) {
    std::string_view w = word_text(text, words[i]);
    bool first = is_given(w);
    bool last_only = !first && surnames().count(w) > 0;
    if (!first && !last_only) { ++i; continue; }
    size_t j = extend(text, words, i, 2);
    size_t n = j - i;
    bool known_surname = n > 1 && surnames().count(word_text(text, words[j - 1])) > 0;
    bool start = is_sentence_start(text, words[i].start);
    double conf;
    if (first) {
      bool amb = ambiguous().count(w) > 0;
      if (n > 1) conf = known_surname ? 0.85 : (amb ? 0.45 : 0.7);
      else conf = amb ? 0.3 : (start ? 0.55 : 0.6);
    } else {
      // A known surname after a capitalised word that is not a known given name (Zbigniew Nowak)
      // is found when scanning that word; alone, a surname is weak (Brown, Martin, Young).
      conf = 0.3;
    }
    out.push_back({PiiType::Person, words[i].start, words[j - 1].end, conf});
    i = j;
  }
  // Unknown given name + known surname ("Zbigniew Kowalski"), not at a sentence start.
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (text.substr(words[i].end, words[i + 1].start - words[i].end) != " ") continue;
    std::string_view a = word_text(text, words[i]), b = word_text(text, words[i + 1]);
    if (is_given(a) || not_names().count(a) || !surnames().count(b)) continue;
    out.push_back({PiiType::Person, words[i].start, words[i + 1].end, is_sentence_start(text, words[i].start) ? 0.45 : 0.6});
  }
}

}  // namespace tandem::privacy::detail
