#include "privacy/cues.h"

#include <algorithm>
#include <string>
#include <vector>

namespace tandem::privacy {

namespace {

using Words = std::vector<std::string_view>;

const Words& cue_words(PiiType t) {
  static const Words kEmail = {"email", "e-mail", "mail", "courriel", "correo", "adresse e-mail", "write to", "contact"};
  static const Words kPhone = {"phone", "call", "tel", "tel.", "telephone", "mobile", "cell", "number", "whatsapp", "sms",
                               "text me", "fax", "telefon", "handy", "anrufen", "ruf", "rufnummer", "telefonnummer",
                               "handynummer", "erreichbar", "téléphone", "tél", "portable", "appelle", "appelez",
                               "joindre", "teléfono", "móvil", "llámame", "llama", "llamar", "celular", "reach me",
                               "contact"};
  static const Words kCard = {"card", "credit", "debit", "visa", "mastercard", "amex", "cc", "karte", "kreditkarte",
                              "carte", "bancaire", "tarjeta", "crédito", "payment", "pay"};
  static const Words kIban = {"iban", "bank", "account", "konto", "compte", "cuenta", "transfer", "überweisung",
                              "virement", "transferencia", "sepa"};
  static const Words kSsn = {"ssn", "social security", "social", "security number", "ss#", "ss #", "soc sec"};
  static const Words kItin = {"itin", "taxpayer", "tax id", "tax identification", "irs", "tin"};
  static const Words kPassport = {"passport", "reisepass", "pass", "passeport", "pasaporte"};
  static const Words kIp = {"ip", "ip address", "ipv4", "ipv6", "host", "server", "address", "adresse", "dirección",
                            "router", "gateway", "ping", "connect", "subnet"};
  static const Words kMac = {"mac", "mac address", "hardware address", "ethernet", "wifi", "wlan", "device"};
  static const Words kUrl = {"link", "url", "website", "site", "page", "visit", "webseite", "lien", "enlace", "profile"};
  static const Words kCrypto = {"bitcoin", "btc", "wallet", "ethereum", "eth", "crypto", "send", "address", "wallet address",
                                "monedero", "portefeuille"};
  static const Words kAddress = {"live", "lives", "living", "address", "adresse", "anschrift", "wohne", "wohnt",
                                 "habite", "dirección", "domicilio", "vivo", "vive", "ship", "deliver", "send",
                                 "located", "at", "in der", "en la", "calle", "deliver to", "ship to", "shipping", "livrer",
                                 "livraison", "envíelo", "envío", "indirizzo", "abito", "spedite", "spedire",
                                 "adres", "woon", "woont", "bezorgen", "endereço", "moro", "mora", "entregue",
                                 "adresim", "adresi", "adresine", "mieszkam", "paczkę", "liefern", "lieferadresse",
                                 "moved to", "my address", "residence", "wohnhaft"};
  static const Words kNone = {};
  switch (t) {
    case PiiType::Email: return kEmail;
    case PiiType::Phone: return kPhone;
    case PiiType::CreditCard: return kCard;
    case PiiType::Iban: return kIban;
    case PiiType::UsSsn: return kSsn;
    case PiiType::UsItin: return kItin;
    case PiiType::Passport: return kPassport;
    case PiiType::IpAddress: return kIp;
    case PiiType::MacAddress: return kMac;
    case PiiType::Url: return kUrl;
    case PiiType::CryptoWallet: return kCrypto;
    case PiiType::Address: return kAddress;
    default: return kNone;
  }
}

const Words kBirth = {"born", "birth", "birthday", "dob", "d.o.b", "d.o.b.", "birthdate", "date of birth", "geboren",
                      "geb.", "geburtsdatum", "geburtstag", "né", "née", "naissance", "nacido", "nacida",
                      "nacimiento", "cumpleaños", "anniversaire", "fecha de nacimiento", "nato", "nata",
                      "nascita", "data di nascita", "geboortedatum", "nasci", "nascido", "nascida", "nascimento",
                      "urodziłem", "urodziłam", "urodzony", "urodzona", "urodzenia", "doğum", "doğdum",
                      "doğum tarihi", "doğum tarihim", "birthdate", "geburtsdatum", "nací"};

bool word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80; }

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return out;
}

bool any_word_in(std::string_view window, const Words& words) {
  if (window.empty() || words.empty()) return false;
  std::string w = lower_ascii(window);
  for (std::string_view cue : words) {
    for (size_t pos = w.find(cue); pos != std::string::npos; pos = w.find(cue, pos + 1)) {
      bool left_ok = pos == 0 || !word_char(w[pos - 1]) || !word_char(cue.front());
      size_t e = pos + cue.size();
      bool right_ok = e >= w.size() || !word_char(w[e]) || !word_char(cue.back());
      if (left_ok && right_ok) return true;
    }
  }
  return false;
}

std::string_view window(std::string_view text, size_t start, size_t end, size_t before, size_t after, bool want_before) {
  if (want_before) {
    size_t b = start > before ? start - before : 0;
    return text.substr(b, start - b);
  }
  size_t e = std::min(text.size(), end + after);
  return end <= e ? text.substr(end, e - end) : std::string_view{};
}

// Words of kPhone that say "phone" by themselves (not "number", "contact").
const Words kPhoneWords = {"phone", "call", "tel", "tel.", "telephone", "mobile", "cell", "whatsapp", "sms", "text me",
                           "fax", "telefon", "handy", "anrufen", "ruf", "rufnummer", "telefonnummer", "handynummer",
                           "erreichbar", "téléphone", "tél", "portable", "appelle", "appelez", "teléfono", "móvil",
                           "llámame", "llama", "llamar", "celular"};

// Nouns of things that carry numbers, as a stem where the languages compound them
// ("Bestellnummer", "Rechnungsnr").
const Words kIdentifierWords = {"order", "invoice", "tracking", "reference", "ref", "ticket", "case", "customer",
                                "account", "serial", "transaction", "booking", "confirmation", "shipment", "parcel",
                                "package", "item", "sku", "part", "batch", "build", "bestell", "bestellung", "rechnung",
                                "kunden", "auftrag", "sendung", "commande", "facture", "colis", "pedido", "factura",
                                "envío", "ordine", "fattura", "bestelling", "factuur", "zamówienie", "sipariş"};

}  // namespace

bool has_phone_word(std::string_view text, size_t start, size_t end) {
  return any_word_in(window(text, start, end, 48, 0, true), kPhoneWords) ||
         any_word_in(window(text, start, end, 0, 24, false), kPhoneWords);
}

bool follows_identifier_word(std::string_view text, size_t start) {
  // The words before the digits, last first, skipping "number", "no.", "#", "is" and the like.
  static const Words kFiller = {"number", "no", "nr", "nummer", "numéro", "número", "numero", "n°", "nº", "id",
                                "is", "was", "ist", "est", "es", "è", "my", "your", "the"};
  std::string before = lower_ascii(window(text, start, start, 40, 0, true));
  size_t end = before.size();
  for (int words = 0; words < 4; ++words) {
    while (end > 0 && !word_char(before[end - 1]) && before[end - 1] != '#') --end;
    size_t begin = end;
    while (begin > 0 && (word_char(before[begin - 1]) || before[begin - 1] == '#')) --begin;
    if (begin == end) return false;
    std::string_view word = std::string_view(before).substr(begin, end - begin);
    bool filler = word == "#" || std::find(kFiller.begin(), kFiller.end(), word) != kFiller.end();
    if (!filler) {
      // The noun, or a compound that starts with it ("bestellnummer", "rechnungsnr").
      for (std::string_view noun : kIdentifierWords)
        if (word.substr(0, noun.size()) == noun) return true;
      return false;
    }
    end = begin;
  }
  return false;
}

bool follows_version_word(std::string_view text, size_t start) {
  std::string before = lower_ascii(window(text, start, start, 12, 0, true));
  for (std::string_view w : {"version ", "ver. ", "build ", "release ", "firmware ", "kernel ", "bios ", "driver ",
                             "patch ", "v"}) {
    if (before.size() < w.size() || before.compare(before.size() - w.size(), w.size(), w) != 0) continue;
    // "v" only as a word of its own ("v4.1", not "dev4.1").
    if (w == "v" && before.size() > 1 && word_char(before[before.size() - 2])) continue;
    return true;
  }
  return false;
}

bool has_cue(PiiType type, std::string_view text, size_t start, size_t end, size_t before, size_t after) {
  const Words& words = cue_words(type);
  return any_word_in(window(text, start, end, before, after, true), words) ||
         any_word_in(window(text, start, end, before, after, false), words);
}

bool has_birth_cue(std::string_view text, size_t start, size_t end) {
  return any_word_in(window(text, start, end, 48, 0, true), kBirth) ||
         any_word_in(window(text, start, end, 0, 20, false), kBirth);
}

double with_cue(double base, bool cue, double boost, double floor) {
  if (!cue) return base;
  return std::min(1.0, std::max(floor, base + boost));
}

}  // namespace tandem::privacy
