// Person names. A candidate is a run of capitalised words; it is scored by (1) a cue before it
// that introduces a person ("my name is", "ich heiße", "mi chiamo", Mr., Frau, Sig.ra, "Dear",
// "Ciao", a sign-off line, "ask", "forward this to") or after it ("said", "wrote"); (2) membership
// of its words in the given-name and surname lists (data/pii, ~30,000 names of ~60 locales, plus
// names_data.cpp), with the pattern given + surname scoring highest; (3) for a word the lists do
// not know, the word model's opinion of its letters (word_model.h): a name-like unknown word
// counts as a name word, a little less than a listed one.
// Names that are also common words ("Will", "May", "Long") and words at the start of a sentence
// count alone only after a cue; names in capitals, with initials and as "Smith, John" are found
// too. A lower-case name counts only after a strong cue. Context places a person by grammar (a
// form's label, a verb that takes a person, a possessive ending, "X and Y"); products and teams
// in those places stay out because the word model takes their letters for a word, they are
// CamelCase, or a company's legal form follows them.
#include <algorithm>
#include <string>
#include <unordered_set>

#include "privacy/lexicon.h"
#include "privacy/names_data.h"
#include "privacy/recognizers.h"
#include "privacy/regex.h"
#include "privacy/word_model.h"

namespace tandem::privacy::detail {

namespace {

using detail::WordSet;

WordSet load(const char* words) { return detail::split_words(words, ' '); }

const WordSet& old_given() { static const WordSet s = load(kGivenNames); return s; }
const WordSet& old_surnames() { static const WordSet s = load(kSurnames); return s; }
const WordSet& old_ambiguous() { static const WordSet s = load(kAmbiguousGivenNames); return s; }

// Capitalised words that follow a cue or a name but are not names (function words, titles,
// months, days, brands, places that are also given names), in the languages of the templates.
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
      "Bank Account Card Number Address Passport Order Invoice Ticket Meeting Project Report Plan "
      "Lo Gli Het Een Ik Mijn Meu Minha Os As Por Para Per Con Com Ciao Hoi Olá Oi Cześć Merhaba Pan Pani "
      "Sayın Lütfen Proszę Signor Signora Dottor Meneer Mevrouw Senhor Senhora Cordiali Saluti Groeten "
      "Pozdrawiam Saygılarımla Atenciosamente Met Vriendelijke Groet Kind Yours Draft Write Tell Ask Meeting "
      "Notes Can Could Would Should May Might Must Do Does Did Have Has Had Let Our Their Its Mein Meine "
      "Ihre Ihr Unser Sehr Geehrter Geehrte Madame Mademoiselle Chers Caro Cara Beste Lieve Estimado Estimada "
      "Sono Soy Sou Jestem Benim Adım Nazywam Mam Lunedì Montag Lundi Lunes Maandag Poniedziałek Pazartesi "
      "Mai Juni Juli Oktober Dezember Enero Gennaio Januari Janeiro Maart Mei Augustus Mayo Marzo Dicembre "
      "Dezembro Desember Windows Linux Chrome Firefox Python Node Docker Kernel Firmware Build Version Release "
      "Update Install Error Room Floor Building Model Serial Item Product Total Budget Step Conference "
      "Hanım Bey Hanim");
  return s;
}

// Small words that end a lower-case name after a cue ("my name is anna and ...").
const WordSet& stop_words() {
  static const WordSet s = load(
      "and or but here from the a an in at on of to is am i not und oder aus bin ist hier et ou de du le la "
      "est ici y o en es aqui e ed di da il sono qui en of uit het ben hier e ou do da em aqui i w z ve ile");
  return s;
}

bool is_sentence_start(std::string_view text, size_t pos) {
  while (pos > 0 && (text[pos - 1] == ' ' || text[pos - 1] == '\t' || text[pos - 1] == '"' || text[pos - 1] == '(')) --pos;
  return pos == 0 || text[pos - 1] == '.' || text[pos - 1] == '!' || text[pos - 1] == '?' || text[pos - 1] == '\n' ||
         text[pos - 1] == ':';
}

// Capitalised name-like words (Anna, O'Brien, Anne-Marie, García, Min-jun), not all capitals.
const Regex& capitalised_word() {
  static const Regex re(R"((?<![\p{L}\p{N}'\-])\p{Lu}(?:['’]\p{Lu})?\p{Ll}[\p{L}\p{M}]*(?:['’\-]\p{Lu}?\p{Ll}[\p{L}\p{M}]*)*(?![\p{L}\p{N}]))");
  return re;
}

// How sure the word model must be that an unknown word is not an ordinary word (a name or a
// place: romanised names and towns look alike). On its held-out words ~2.5 % of ordinary words
// and ~73 % of names reach it.
constexpr double kMaxWordLike = 0.05;
// From this chance of being an ordinary word an unlisted word needs a strong cue ("my name is",
// "Mr.") to be a person: brands are mostly made of words ("Slack", "Datadog", "Zendesk").
constexpr double kMinWordLike = 0.4;

struct Word {
  size_t start, end;
  bool given = false, surname = false, common = false, stop = false, place = false;
  bool likely = false;  // in no list, but the word model says it looks like a name or a place, not a word
  // In no list, and the word model takes it for an ordinary word: a word or a brand
  // ("Slack", "Datadog", "Copilot"), which a weak cue ("ask", "with", "Thanks,") does not make a person.
  bool unnamelike = false;
  bool suffixed = false;  // followed by a possessive or case ending ("Priya's", "Ayşe'ye")
};

// A capital after a lower-case letter inside a word: brands and code (GitHub, PayPal, TypeScript),
// unless the part before is a surname prefix (McDonald, MacLeod, DeMarco, LaToya, FitzGerald).
bool camel_case(std::string_view s) {
  static const WordSet prefixes = load("Mc Mac De Di Da La Le Van Von Fitz Du");
  for (size_t i = 2; i < s.size(); ++i)
    if (s[i] >= 'A' && s[i] <= 'Z' && s[i - 1] >= 'a' && s[i - 1] <= 'z') return !prefixes.count(s.substr(0, i));
  return false;
}

Word classify(std::string_view text, size_t start, size_t end) {
  Word w{start, end};
  std::string_view s = text.substr(start, end - start);
  w.stop = not_names().count(s) > 0;
  std::string lower = lower_word(s);
  // A hyphenated compound counts by its first part (Hans-Peter, Marie-Claire, Al-Farsi).
  std::string first = lower.substr(0, lower.find('-'));
  w.given = is_given_name(lower) || is_given_name(first) || old_given().count(s) > 0;
  w.surname = is_surname(lower) || old_surnames().count(s) > 0;
  w.common = is_common_word(lower) || old_ambiguous().count(s) > 0;
  w.place = is_place(lower);
  if (!w.given && !w.surname && !w.stop && !w.common && !w.place) {
    WordClass c = classify_word(s);
    bool camel = camel_case(s);
    w.likely = c.word <= kMaxWordLike && !camel;
    w.unnamelike = c.word > kMinWordLike || camel;
  }
  return w;
}

// Where a word ends before a case or possessive suffix after an apostrophe ("Anna's", Turkish
// "Mehmet'in", "Rock'da"): the lower-case letters after the last apostrophe, when there are at
// most six of them (names have capitals after theirs: O'Brien, N'Golo).
size_t without_suffix(std::string_view text, size_t start, size_t end) {
  size_t a = text.substr(start, end - start).find_last_of("'");
  size_t b = text.substr(start, end - start).rfind("\xE2\x80\x99");  // ’
  size_t cut = a == std::string_view::npos ? b : b == std::string_view::npos ? a : std::max(a, b);
  if (cut == std::string_view::npos || cut == 0) return end;
  size_t tail = start + cut + (text[start + cut] == '\'' ? 1 : 3);
  if (tail >= end || end - tail > 12) return end;  // 12 bytes: six letters of two bytes
  // A lower-case first letter (ASCII, or Turkish ı ü ö): a capital after it belongs to the name.
  std::string_view rest = text.substr(tail, end - tail);
  bool lower = (rest[0] >= 'a' && rest[0] <= 'z') || rest.rfind("\xC4\xB1", 0) == 0 || rest.rfind("\xC3\xBC", 0) == 0 ||
               rest.rfind("\xC3\xB6", 0) == 0;
  return lower ? start + cut : end;
}

// The capitalised words of `text`, in order, with what the lists know of them.
std::vector<Word> words_of(std::string_view text) {
  std::vector<Word> out;
  capitalised_word().for_each(text, [&](const Regex::Match& m) {
    size_t end = without_suffix(text, m.start(), m.end());
    out.push_back(classify(text, m.start(), end));
    out.back().suffixed = end < m.end();
  });
  return out;
}

// Lower-case particles inside a name: "Ludwig van Beethoven", "Maria da Silva", "Omar bin Said".
bool particle_gap(std::string_view gap) {
  static const WordSet particles = load("van von de da di del der den dos das du le la bin ibn al el ben zu ter");
  if (gap == " ") return true;
  if (gap.size() < 4 || gap.front() != ' ' || gap.back() != ' ') return false;
  std::string_view inner = gap.substr(1, gap.size() - 2);
  if (inner.size() == 2 && inner[0] >= 'A' && inner[0] <= 'Z' && inner[1] == '.') return true;  // John F. Kennedy
  if (particles.count(inner)) return true;
  size_t sp = inner.find(' ');  // "van der", "de la"
  return sp != std::string_view::npos && particles.count(inner.substr(0, sp)) && particles.count(inner.substr(sp + 1));
}

// Extends a name that starts at words[i] over the next capitalised words separated by a space or
// a particle (up to `max_more`), stopping at words that are not names. Returns the index past it.
size_t extend(std::string_view text, const std::vector<Word>& words, size_t i, size_t max_more) {
  size_t j = i + 1;
  while (j < words.size() && j - i <= max_more) {
    std::string_view gap = text.substr(words[j - 1].end, words[j].start - words[j - 1].end);
    if (!particle_gap(gap)) break;
    if (words[j].stop) break;
    // A particle joins name words ("Sanne de Vries"), not a verb to a name ("Hast du Jonas").
    const Word& before = words[j - 1];
    if (gap != " " && !before.given && !before.surname && !before.likely) break;
    ++j;
  }
  return j;
}

// A word right after a number is a town after its postal code ("10115 Berlin", "1015 CJ
// Amsterdam"), not a person.
bool after_number(std::string_view text, size_t pos) {
  size_t p = pos;
  while (p > 0 && text[p - 1] == ' ') --p;
  if (p >= 3 && text[p - 1] >= 'A' && text[p - 1] <= 'Z' && text[p - 2] >= 'A' && text[p - 2] <= 'Z' && text[p - 3] == ' ')
    p -= 3;  // a Dutch postcode's letters
  return p < pos && p > 0 && text[p - 1] >= '0' && text[p - 1] <= '9';
}

// A name addressed at the end of a clause: ", Jurgen!" / "Thanks a lot, Priya." (a comma before,
// the sentence's end after); not a town after a street line's number ("Cad. No: 12, Kadıköy").
bool vocative(std::string_view text, size_t start, size_t end) {
  if (start < 3 || text[start - 1] != ' ' || text[start - 2] != ',' || (text[start - 3] >= '0' && text[start - 3] <= '9'))
    return false;
  return end == text.size() || text[end] == '.' || text[end] == '!' || text[end] == '?' || text[end] == '\n';
}

// A lower-case word follows after one space: the sentence goes on.
bool continues_clause(std::string_view text, size_t end) {
  return end + 1 < text.size() && text[end] == ' ' && text[end + 1] >= 'a' && text[end + 1] <= 'z';
}

// A company's legal form or trade right after a run of capitalised words ("Acme Logistics GmbH",
// "Northwind Traders"): the run is a company's name.
bool company_after(std::string_view text, const std::vector<Word>& words, size_t j) {
  static const WordSet forms = load(
      "GmbH AG KG Ltd Inc LLC LLP Corp Co Plc SA SAS SARL SL SpA Srl BV NV Oy AB ApS Holding Holdings Group Labs "
      "Systems Solutions Technologies Traders Trading Logistics Services Partners Consulting Industries Software "
      "Bank Insurance Airlines Motors Foods Media Studios Ventures Capital");
  if (j >= words.size() || text.substr(words[j - 1].end, words[j].start - words[j - 1].end) != " ") return false;
  return forms.count(text.substr(words[j].start, words[j].end - words[j].start)) > 0;
}

bool after_comma(std::string_view text, size_t pos) { return pos >= 2 && text[pos - 1] == ' ' && text[pos - 2] == ','; }

// A verb after a run of capitalised words that makes it a person ("Tran Van Minh said").
bool person_verb_after(std::string_view text, size_t end) {
  static constexpr std::string_view kVerbs[] = {
      "said", "says", "wrote", "writes", "asked", "told", "called", "replied", "mentioned", "thinks", "hat gesagt",
      "hat angerufen", "hat geschrieben", "sagt", "a dit", "a appelé", "dijo", "ha dicho", "ha llamado", "ha detto",
      "ha chiamato", "zei", "heeft gebeld", "disse", "ligou", "powiedział", "dedi"};
  if (end >= text.size() || text[end] != ' ') return false;
  std::string next = lower_word(text.substr(end + 1, std::min<size_t>(20, text.size() - end - 1)));
  for (std::string_view v : kVerbs) {
    if (next.compare(0, v.size(), v) != 0) continue;
    unsigned char after = next.size() > v.size() ? static_cast<unsigned char>(next[v.size()]) : ' ';
    if (!((after >= 'a' && after <= 'z') || after >= 0x80)) return true;
  }
  return false;
}


// "my name is priya sharma": after a strong cue, up to three lower-case words that end the
// sentence or meet a small word; one of them known as a name, or (after a strong cue) all
// ending the sentence. After a weaker cue ("it's", "je suis") a known name is required.
void lower_case_name(std::string_view text, size_t pos, bool need_known, Findings& out) {
  size_t e = pos, last = pos;
  int n = 0;
  bool known = false;
  while (n < 3) {
    size_t w = e;
    while (e < text.size() && ((text[e] >= 'a' && text[e] <= 'z') || text[e] == '-' || text[e] == '\'' ||
                               static_cast<unsigned char>(text[e]) >= 0x80))
      ++e;
    if (e == w) break;
    std::string_view word = text.substr(w, e - w);
    if (stop_words().count(word) || word.size() < 2) { e = w; break; }
    std::string lw = lower_word(word);
    known = known || ((is_given_name(lw) || is_surname(lw)) && !is_common_word(lw));
    ++n;
    last = e;
    if (e >= text.size() || text[e] != ' ') break;
    ++e;
  }
  if (n == 0) return;
  bool ends = last >= text.size() || text[last] == '.' || text[last] == ',' || text[last] == '!' || text[last] == '\n';
  if (known || (ends && !need_known)) out.push_back({PiiType::Person, pos, last, known ? 0.75 : 0.6});
}

void find_persons_by_cue(std::string_view text, const std::vector<Word>& words, Findings& out) {
  auto index_at = [&](size_t pos) -> size_t {  // the word starting at pos (after a cue), or none
    auto it = std::lower_bound(words.begin(), words.end(), pos, [](const Word& w, size_t p) { return w.start < p; });
    return it != words.end() && it->start == pos ? size_t(it - words.begin()) : words.size();
  };
  // The cues before a name, one alternative (capture group) per kind, tried in this order at
  // each position; one pass over the text instead of one per kind.
  enum Kind { kNone, kStrong, kLabel, kMedium, kHonorific, kHonorificWord, kVerb, kPreposition, kGreeting, kSignoff };
  static const Regex cues(std::string(R"((?<![\p{L}])(?:()") +
                          R"((?i:my name is|my name's|i am called|ich heiße|ich heisse|mein name ist|je m'appelle|je m’appelle|mon nom est|me llamo|mi nombre es|mi chiamo|il mio nome è|mijn naam is|ik heet|meu nome é|me chamo|o meu nome é|nazywam się|mam na imię|benim adım|adım|his name is|her name is|their name is|call me|sein name ist|ihr name ist|il s'appelle|elle s'appelle|se llama|si chiama|hij heet|zij heet|chama-se|se chama|nazywa się|ma na imię|named|signed|unterzeichnet|firmado)\s+)|()" +
                          // A form's label for a person ("Patient:", "Imię i nazwisko:", "Ad Soyad:").
                          R"((?i:(?:full |first |last |patient |client |customer |contact |employee |guest )?name|surname|patient|client|customer|contact|employee|guest|passenger|tenant|applicant|recipient|sender|attendee|vorname|nachname|patient(?:in)?|kunde|kundin|ansprechpartner(?:in)?|prénom|nom(?: complet)?|destinataire|nombre(?: completo)?|apellidos?|paciente|cliente|nome(?: completo)?|cognome|destinatario|naam|voornaam|achternaam|klant|patiënt|imię i nazwisko|imię|nazwisko|pacjent|klient|ad soyad|adı soyadı|ad|soyad|soyadı|hasta|müşteri)\s*:\s*)|()" +
                          R"((?i:(?:our|my|the|a) new (?:intern|colleague|hire|manager|teammate|developer|assistant|tenant|neighbour|neighbor) is|this is|it's|its|i am|i'm|ich bin|hier ist|je suis|c'est|soy|sono|ik ben|sou|jestem|ben)\s+)|()" +
                          R"((?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Herr|Herrn|Frau|Mme|Mlle|M|Sr|Sra|Srta|Dña|Doña|Sig|Sig\.ra|Sigra|Dott|Dott\.ssa|Dhr|Mevr|Mw|Pan|Pani|Sayın|Bay|Bayan)\.?\s+)|()" +
                          R"((?i:señor|señora|señorita|monsieur|madame|mademoiselle|signor|signora|signorina|dottor|dottore|dottoressa|meneer|mevrouw|senhor|senhora|dona|doutor|doutora|pan|pani)\s+)|()" +
                          // A verb or a relation that takes a person: "ask", "tell", "my sister".
                          R"((?i:talk to|speak to|spoke to|spoke with|speak with|talked to|ask|tell|meet|met with|met|call|cc|remind|invite|introduce|forward this to|forward it to|forward to|send this to|send it to|email|e-mail|write to|congratulate|thank|hire|reply to|respond to|ping|notify|inform|contact|frag|frage|sag|sage|schreib|schreibe|ruf|rufe|erinnere|lade|danke|gratuliere|kontaktiere|demande à|dis à|écris à|appelle|rappelle|invite|remercie|félicite|contacte|préviens|pregunta a|pregúntale a|dile a|escribe a|llama a|invita a|recuerda a|agradece a|felicita a|avisa a|chiedi a|scrivi a|chiama|invita|ringrazia|ricorda a|avvisa|vraag|zeg tegen|bel|mail|nodig|bedank|feliciteer|pergunte a|pergunta ao|pergunta à|diga a|diz ao|ligue para|liga para|convide|agradeça|escreva para|zapytaj|powiedz|napisz do|zadzwoń do|zaproś|podziękuj|przypomnij|pogratuluj|(?:my|our|mon|ma|mi|mein|meine|unser|unsere|il mio|la mia|mijn|onze|meu|minha|nosso|nossa) (?:colleague|boss|landlord|friend|wife|husband|sister|brother|mother|father|doctor|grandmother|grandfather|neighbour|neighbor|manager|son|daughter|kollege|kollegin|chef|chefin|freund|freundin|collègue|patron|ami|amie|colega|jefe|jefa|amigo|amiga|collega|capo|amico|amica|baas|vriend|vriendin|chefe))\s+)|()" +
                          // Prepositions before a person ("with Anna", "mit Frank"): weaker.
                          R"((?i:with|from|to|for|mit|von|an|für|avec|à|pour|con|com|met|aan|naar|voor|para|per|do|a|z|ze|dla|için)\s+)|()" +
                          R"((?i:dear|hi|hello|hey|happy birthday|congratulations|congrats|alles gute|joyeux anniversaire|feliz cumpleaños|buon compleanno|gefeliciteerd|parabéns|wszystkiego najlepszego|iyi ki doğdun|hallo|liebe|lieber|moin|bonjour|bonsoir|salut|cher|chère|hola|querido|querida|estimado|estimada|thanks|thank you|good morning|good afternoon|guten morgen|guten tag|servus|grüezi|coucou|buenos días|buenas|buongiorno|goedemorgen|goedemiddag|bom dia|boa tarde|dzień dobry|günaydın|iyi günler|danke|merci|gracias|ciao|salve|buongiorno|caro|cara|hoi|beste|olá|oi|cześć|witaj|merhaba|selam|sevgili)\s*,?\s+)))");
  static const Regex signoff(
      R"((?i:regards|best|cheers|thanks|sincerely|yours|grüße|gruß|viele grüße|cordialement|amitiés|bien à vous|saludos|atentamente|un abrazo|cordiali saluti|distinti saluti|saluti|met vriendelijke groet|groeten|groet|atenciosamente|abraços|cumprimentos|pozdrawiam|z poważaniem|saygılarımla|selamlar|grüßen|liebe grüße|lg|mfg|bisous|bises|à bientôt|un saludo|besos|abrazos|un saluto|baci|hartelijke groet|groetjes|abraço|beijos|serdecznie|pozdrowienia|sevgiler|iyi çalışmalar|best wishes|all the best|take care|love|thx)\s*,?\s*\n\s*)");
  struct KindInfo { double conf; size_t more; };
  static constexpr KindInfo kInfo[] = {{0, 0},   {0.85, 3}, {0.8, 3}, {0.7, 2}, {0.85, 2}, {0.8, 2},
                                       {0.5, 2}, {0.5, 2},  {0.7, 1}, {0.8, 3}};
  auto on_cue = [&](Kind kind, const Regex::Match& m) {
    size_t k = index_at(m.end());
    if (k == words.size()) {
      if (kind == kStrong || kind == kMedium || kind == kLabel) lower_case_name(text, m.end(), kind != kStrong, out);
      return;
    }
    if (words[k].stop) return;
    size_t j = extend(text, words, k, kInfo[kind].more);
    bool known = false, given = false, place = words[k].place && !words[k].given, likely = true, unnamelike = true;
    for (size_t x = k; x < j; ++x) {
      known = known || ((words[x].given || words[x].surname) && !words[x].common);
      given = given || words[x].given;
      likely = likely && words[x].likely;
      unnamelike = unnamelike && words[x].unnamelike;
    }
    // Every word unknown to the lists but name-like: nearly as good as a listed name.
    bool namelike = known || likely;
    double conf = kInfo[kind].conf;
    // After a verb ("ask", "tell", "my sister"), a known given name counts even when it is also
    // a word ("Ask Will"); after a preposition it needs the lists or two words.
    if (kind == kVerb) conf = namelike ? (j - k > 1 ? 0.75 : 0.65) : given ? 0.6 : (j - k > 1 ? 0.6 : 0.55);
    if (kind == kPreposition)
      conf = known ? (j - k > 1 ? 0.7 : 0.6) : likely ? (j - k > 1 ? 0.6 : 0.45) : given ? 0.5 : (j - k > 1 ? 0.55 : 0.4);
    if (kind == kMedium) conf = known ? 0.7 : likely ? 0.65 : (j - k > 1 ? 0.6 : 0.45);
    // A town's name is a person's only after an honorific ("Madame Nicolosi", Nicolosi being
    // also a town in Sicily).
    bool honorific = kind == kHonorific || kind == kHonorificWord;
    if ((place && !honorific) || after_number(text, words[k].start)) conf = std::min(conf, 0.45);
    if (company_after(text, words, j) || (j - k > 1 && company_after(text, words, j - 1))) conf = std::min(conf, 0.3);
    // After a weak cue, unlisted words whose letters are a word's are a product, a team or a
    // phrase ("ask Slack support", "email Stripe", "forward to Accounts Payable").
    bool weak = kind == kVerb || kind == kPreposition || kind == kGreeting || kind == kMedium || kind == kLabel;
    if (weak && unnamelike && !known && !given) conf = std::min(conf, 0.4);
    // After a preposition, the weakest cue, a word's letters at the end of unlisted words make
    // them a product's name ("a Debian Bookworm", "with Visual Studio").
    if (kind == kPreposition && !known && !given && words[j - 1].unnamelike) conf = std::min(conf, 0.4);
    // "Thanks, Copilot suggested ...": a word after a greeting that a clause goes on from is its
    // subject, not the one greeted, unless the lists or the word model take it for a name.
    if (kind == kGreeting && j - k == 1 && !namelike && !given && continues_clause(text, words[k].end))
      conf = std::min(conf, 0.45);
    out.push_back({PiiType::Person, words[k].start, words[j - 1].end, conf});
  };
  cues.for_each(text, [&](const Regex::Match& m) {
    for (int g = 1; g <= 8; ++g)
      if (m.has(g)) return on_cue(Kind(g), m);
  });
  signoff.for_each(text, [&](const Regex::Match& m) { on_cue(kSignoff, m); });
}

void find_persons_by_lists(std::string_view text, const std::vector<Word>& words, Findings& out) {
  for (size_t i = 0; i < words.size();) {
    const Word& w = words[i];
    if (w.stop) { ++i; continue; }
    size_t j = extend(text, words, i, 3);
    size_t n = j - i;
    int given = 0, surname = 0, plain = 0, likely = 0;
    for (size_t x = i; x < j; ++x) {
      bool name = words[x].given || words[x].surname;
      given += words[x].given;
      surname += words[x].surname && !words[x].given;
      plain += name && !words[x].common;
      likely += words[x].likely;
    }
    bool start = is_sentence_start(text, w.start);
    // A sentence's first word, capitalised by its place, that has a word's letters starts no name
    // ("Notify Sven Åkesson", "Yesterday Hamza Qureshi").
    if (start && n > 1 && w.unnamelike) {
      ++i;
      continue;
    }
    bool verb_after = person_verb_after(text, words[j - 1].end);
    double conf = 0;
    if (n > 1) {
      // Two or more capitalised words: given + surname is a name; one known name word with an
      // unknown one is likely one (unknown surnames are many); none known is a title or a company.
      // The word model's name-like words count beside the lists': a listed name with name-like
      // unknown ones is a name; name-like unknown words alone are likely one.
      if (given && (surname || given > 1) && plain) conf = 0.85;
      else if (plain && plain + likely == int(n)) conf = start ? 0.7 : 0.8;
      else if (plain) conf = start ? 0.6 : 0.7;
      // Unknown name-like words after a comma are as often a town in an address line.
      else if (likely == int(n)) conf = start ? 0.5 : after_comma(text, w.start) ? 0.45 : 0.6;
      else if (given + surname > 0) conf = 0.45;
      if (verb_after) conf = std::max(conf, 0.7);
    } else {
      if (w.given && !w.common) conf = (w.place || start) ? 0.45 : 0.6;
      else if (w.surname && !w.common) conf = 0.3;
      if (verb_after && (w.given || !w.common)) conf = std::max(conf, start ? 0.55 : 0.65);
      if ((w.likely || ((w.given || w.surname) && !w.common)) && vocative(text, w.start, w.end)) conf = std::max(conf, 0.55);
      // A possessive or case ending on a listed name, or mid-sentence on a name-like unlisted
      // word, makes it a person ("Priya's laptop", "Ayşe'ye sor"); places take endings too.
      bool listed = (w.given || w.surname) && !w.common;
      // Turkish titles follow the name ("Selin Hanım", "Emre Bey").
      std::string_view next = text.substr(w.end, 7);
      if ((listed || w.likely) && (next.rfind(" Hanım", 0) == 0 || next.rfind(" Bey", 0) == 0)) conf = std::max(conf, 0.8);
      if (w.suffixed && !w.place && (listed || (w.likely && !start))) conf = std::max(conf, start ? 0.55 : 0.6);
    }
    size_t start_at = w.start, end_at = words[j - 1].end;
    // "J. Smith": an initial before a known surname or given name.
    if (n == 1 && (w.surname || w.given) && !w.common && w.start >= 3 && text[w.start - 1] == ' ' &&
        text[w.start - 2] == '.' && text[w.start - 3] >= 'A' && text[w.start - 3] <= 'Z' &&
        (w.start == 3 || text[w.start - 4] == ' ')) {
      start_at = w.start - 3;
      conf = std::max(conf, 0.7);
    }
    // "Smith, John": a surname, a comma and a given name, as in lists and forms.
    if (n == 1 && w.surname && !w.common && i + 1 < words.size() && words[i + 1].given && !words[i + 1].common &&
        text.substr(w.end, words[i + 1].start - w.end) == ", ") {
      end_at = words[i + 1].end;
      conf = std::max(conf, 0.75);
      ++j;
    }
    if (n > 1 && is_place(lower_word(text.substr(w.start, words[j - 1].end - w.start)))) conf = std::min(conf, 0.45);
    if (after_number(text, w.start)) conf = std::min(conf, 0.3);
    if (company_after(text, words, j) || (n > 1 && company_after(text, words, j - 1))) conf = std::min(conf, 0.3);
    if (conf > 0) out.push_back({PiiType::Person, start_at, end_at, conf});
    i = j;
  }
}

// "Radhika and Tomasz": a capitalised word joined by "and" to a name found with confidence is a
// person too when the lists or the word model take it for a name (not a town or a company).
void find_persons_by_coordination(std::string_view text, const std::vector<Word>& words, size_t first, Findings& out) {
  static const WordSet joins = load("and und et y e en i ve oraz");
  auto joined = [&](size_t a_end, size_t b_start) {
    std::string_view gap = text.substr(a_end, b_start - a_end);
    return gap.size() >= 3 && gap.front() == ' ' && gap.back() == ' ' && joins.count(gap.substr(1, gap.size() - 2));
  };
  auto candidate = [](const Word& w) {
    return !w.stop && !w.common && !(w.place && !w.given) && (w.given || w.surname || w.likely);
  };
  size_t found = out.size();
  for (size_t f = first; f < found; ++f) {
    if (out[f].confidence < 0.5 || out[f].type != PiiType::Person) continue;
    for (size_t k = 0; k < words.size(); ++k) {
      if (words[k].start >= out[f].end && joined(out[f].end, words[k].start) && candidate(words[k]))
        out.push_back({PiiType::Person, words[k].start, words[extend(text, words, k, 2) - 1].end, 0.6});
      if (words[k].end <= out[f].start && joined(words[k].end, out[f].start) && candidate(words[k]) &&
          !is_sentence_start(text, words[k].start))
        out.push_back({PiiType::Person, words[k].start, words[k].end, 0.6});
    }
  }
}

}  // namespace

// Names in capitals ("ANNA MÜLLER", "NAME: JOHN SMITH"), as forms and signatures write them: two
// or three words of capitals, a known given name first and a known name after it.
void find_persons_in_capitals(std::string_view text, Findings& out) {
  static const Regex caps(R"((?<![\p{L}\p{N}])\p{Lu}{2,}(?:[-'’]\p{Lu}{2,})?(?:\s\p{Lu}{2,}(?:[-'’]\p{Lu}{2,})?){1,2}(?![\p{L}\p{N}]))");
  caps.for_each(text, [&](const Regex::Match& m) {
    std::string_view run = text.substr(m.start(), m.end() - m.start());
    size_t sp = run.find_first_of(" \t\n");
    std::string first = lower_word(run.substr(0, sp)), last = lower_word(run.substr(run.find_last_of(" \t\n") + 1));
    if (!is_given_name(first) || is_common_word(first)) return;
    if ((is_surname(last) || is_given_name(last)) && !is_common_word(last))
      out.push_back({PiiType::Person, m.start(), m.end(), 0.75});
  });
}

void find_persons(std::string_view text, Findings& out) {
  find_persons_in_capitals(text, out);
  std::vector<Word> words = words_of(text);
  size_t first = out.size();
  find_persons_by_cue(text, words, out);
  find_persons_by_lists(text, words, out);
  find_persons_by_coordination(text, words, first, out);
}

}  // namespace tandem::privacy::detail
