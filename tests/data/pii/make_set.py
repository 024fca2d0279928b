#!/usr/bin/env python3
"""Writes the labelled PII test set (messages.jsonl beside this script).

The messages are written for tandem (no data set was copied). Each is a Python string with the
personal data marked as [[TYPE:value]]; this script removes the marks and records each value's
byte span in the UTF-8 text. Numbers with a checksum are generated so that they pass it (Luhn for
cards, ISO 13616 mod-97 for IBANs, base58check / bech32 for Bitcoin) from a fixed seed; the
hard negatives beside them fail it on purpose. Phone numbers follow each country's numbering plan
(national and international forms). Run: python3 tests/data/pii/make_set.py
"""
import hashlib, json, os, random, re

rng = random.Random(7)

# ---------------------------------------------------------------- checksummed values
def luhn_complete(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # these get doubled once the check digit is appended
            d *= 2
            if d > 9: d -= 9
        total += d
    return body + str((10 - total % 10) % 10)

def luhn_ok(num):
    s = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch)
        if i % 2: d = d * 2 - 9 if d * 2 > 9 else d * 2
        s += d
    return s % 10 == 0

def card(prefix, length=16, sep=' '):
    body = prefix + ''.join(rng.choice('0123456789') for _ in range(length - 1 - len(prefix)))
    n = luhn_complete(body)
    assert luhn_ok(n)
    if length == 15:
        groups = [n[:4], n[4:10], n[10:]]
    else:
        groups = [n[i:i + 4] for i in range(0, len(n), 4)]
    return sep.join(groups)

def bad_card():
    while True:
        n = '4' + ''.join(rng.choice('0123456789') for _ in range(15))
        if not luhn_ok(n): return ' '.join(n[i:i + 4] for i in range(0, 16, 4))

def iban_check(cc, bban):
    s = bban + cc + '00'
    num = ''.join(str(int(c, 36)) for c in s)
    return '%02d' % (98 - int(num) % 97)

IBAN_BBAN = {  # country: BBAN shape (9 = digit, A = letter)
    'DE': '999999999999999999', 'FR': '9999999999AAAAAAAAAAA99', 'ES': '99999999999999999999',
    'GB': 'AAAA99999999999999', 'NL': 'AAAA9999999999', 'IT': 'A9999999999AAAAAAAAAAAA',
    'AT': '9999999999999999', 'CH': '99999AAAAAAAAAAAA', 'BE': '999999999999', 'PL': '999999999999999999999999',
}

def iban(cc, spaced=True):
    bban = ''.join(rng.choice('0123456789') if c == '9' else rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[:26])
                   for c in IBAN_BBAN[cc])
    s = cc + iban_check(cc, bban) + bban
    return ' '.join(s[i:i + 4] for i in range(0, len(s), 4)) if spaced else s

def bad_iban(cc='DE'):
    good = iban(cc, spaced=False)
    wrong = '%02d' % ((int(good[2:4]) + 1) % 97 or 3)
    s = good[:2] + wrong + good[4:]
    return ' '.join(s[i:i + 4] for i in range(0, len(s), 4))

B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
def base58check(version):
    payload = bytes([version]) + bytes(rng.randrange(256) for _ in range(20))
    chk = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    raw = payload + chk
    n = int.from_bytes(raw, 'big')
    out = ''
    while n: n, r = divmod(n, 58); out = B58[r] + out
    return '1' * (len(raw) - len(raw.lstrip(b'\0'))) + out

CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
def polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5): chk ^= gen[i] if (top >> i) & 1 else 0
    return chk

def bech32_addr(version=0):
    prog = bytes(rng.randrange(256) for _ in range(20 if version == 0 else 32))
    acc, bits, data = 0, 0, [version]
    for b in prog:  # 8-bit to 5-bit groups
        acc = (acc << 8) | b; bits += 8
        while bits >= 5: bits -= 5; data.append((acc >> bits) & 31)
    if bits: data.append((acc << (5 - bits)) & 31)
    hrp = 'bc'
    const = 1 if version == 0 else 0x2bc830a3
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + data
    pm = polymod(values + [0] * 6) ^ const
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + '1' + ''.join(CHARSET[d] for d in data + chk)

def eth():
    return '0x' + ''.join(rng.choice('0123456789abcdef') for _ in range(40))

def ssn(sep='-'):
    while True:
        a = rng.randrange(1, 900)
        if a != 666: break
    return '%03d%s%02d%s%04d' % (a, sep, rng.randrange(1, 100), sep, rng.randrange(1, 10000))

def itin(sep='-'):
    return '9%02d%s%02d%s%04d' % (rng.randrange(100), sep, rng.choice([70, 71, 75, 78, 80, 88, 90, 92, 94, 99]), sep,
                                  rng.randrange(1, 10000))

def ipv4(private=False):
    if private: return '192.168.%d.%d' % (rng.randrange(256), rng.randrange(1, 255))
    return '%d.%d.%d.%d' % (rng.choice([23, 51, 81, 91, 185, 203]), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))

def ipv6():
    groups = ['%x' % rng.randrange(1, 65536) for _ in range(8)]
    style = rng.randrange(3)
    if style == 0: return ':'.join(groups)
    if style == 1: return '2001:db8:' + ':'.join(groups[:3]) + '::' + groups[7]
    return 'fe80::' + ':'.join(groups[4:])

def mac(sep=':'):
    b = ['%02x' % rng.randrange(256) for _ in range(6)]
    if sep == '.': h = ''.join(b); return '.'.join(h[i:i + 4] for i in range(0, 12, 4))
    s = sep.join(b)
    return s.upper() if rng.random() < 0.5 else s

# ---------------------------------------------------------------- phone numbers
def digits(n): return ''.join(rng.choice('0123456789') for _ in range(n))
def d1(lo='2'): return rng.choice('23456789'[('23456789'.index(lo)):])

def phone(country):
    c = country
    if c == 'US':
        a = rng.choice(['212', '415', '312', '617', '202', '305', '512', '206'])
        e = d1() + digits(2); l = digits(4)
        return rng.choice(['(%s) %s-%s', '%s-%s-%s', '+1 %s %s %s', '+1-%s-%s-%s', '%s.%s.%s'])  % (a, e, l)
    if c == 'DE':
        return rng.choice(['+49 30 %s' % (d1() + digits(7)), '030 %s' % (d1() + digits(7)), '+49 151 %s' % digits(8),
                           '0171 %s' % (d1() + digits(6)), '0049 89 %s' % (d1() + digits(7)), '+49 (0)40 %s' % (d1() + digits(7))])
    if c == 'FR':
        return rng.choice(['+33 1 %s %s %s %s' % (d1() + digits(1), digits(2), digits(2), digits(2)),
                           '06 %s %s %s %s' % (digits(2), digits(2), digits(2), digits(2)),
                           '+33 6 %s %s %s %s' % (digits(2), digits(2), digits(2), digits(2)),
                           '01.%s.%s.%s.%s' % (d1() + digits(1), digits(2), digits(2), digits(2))])
    if c == 'ES':
        return rng.choice(['+34 612 %s %s' % (digits(3), digits(3)), '612 %s %s' % (digits(3), digits(3)),
                           '91 %s %s %s' % (d1() + digits(2), digits(2), digits(2)), '+34 91 %s %s %s' % (d1() + digits(2), digits(2), digits(2))])
    if c == 'GB':
        return rng.choice(['+44 20 7%s %s' % (digits(3), digits(4)), '020 7%s %s' % (digits(3), digits(4)),
                           '07911 %s' % digits(6), '+44 7911 %s' % digits(6)])
    if c == 'IT':
        return rng.choice(['+39 06 %s %s' % (digits(4), digits(4)), '+39 347 %s %s' % (digits(3), digits(4))])
    if c == 'NL':
        return rng.choice(['+31 20 %s %s' % (d1() + digits(2), digits(4)), '06 %s' % (d1() + digits(7))])
    if c == 'CH':
        return '+41 44 %s %s %s' % (d1() + digits(2), digits(2), digits(2))
    raise ValueError(c)

# ---------------------------------------------------------------- the messages
M = []  # (text with marks, tag)
def add(t): M.append(t)

# Email (en, de, fr, es; plus-addressing, subdomains, IDN)
emails = ['john.smith@example.com', 'anna.mueller@web.de', 'm.dupont@orange.fr', 'lucia.garcia@correo.es',
          'j_doe+newsletter@mail.example.org', 'support-team@company.co.uk', 'jürgen.weiß@beispiel.de',
          'x.y.z@sub.domain.example.net', 'pedro99@gmail.com', 'info@bäckerei-schulz.de', 'CHLOE.MARTIN@EXAMPLE.FR',
          'a@b.io']
tmpl_email = ['Please write to [[EMAIL:%s]] if anything changes.', 'Meine E-Mail ist [[EMAIL:%s]].',
              'Mon adresse e-mail : [[EMAIL:%s]]', 'Escríbeme a [[EMAIL:%s]] cuando puedas.',
              'cc [[EMAIL:%s]] on the thread please', '[[EMAIL:%s]] sent the invoice yesterday.',
              'Contact: [[EMAIL:%s]]', 'Schick es an [[EMAIL:%s]], danke!', 'You can reach her at <[[EMAIL:%s]]>.',
              'Envoyez le rapport à [[EMAIL:%s]] avant lundi.', 'mi correo es [[EMAIL:%s]]', 'forward it to [[EMAIL:%s]]']
for t, e in zip(tmpl_email, emails): add(t % e)

# Phones
tmpl_phone = [('Call me at [[PHONE:%s]] after 6pm.', 'US'), ('My cell is [[PHONE:%s]].', 'US'),
              ('Text [[PHONE:%s]] when you land', 'US'), ('Office: [[PHONE:%s]]', 'US'),
              ('Ruf mich unter [[PHONE:%s]] an.', 'DE'), ('Meine Handynummer: [[PHONE:%s]]', 'DE'),
              ('Telefon [[PHONE:%s]] (nur vormittags)', 'DE'), ('Erreichbar unter [[PHONE:%s]].', 'DE'),
              ('Appelle-moi au [[PHONE:%s]] demain.', 'FR'), ('Mon portable : [[PHONE:%s]]', 'FR'),
              ('Tél. [[PHONE:%s]]', 'FR'), ('Llámame al [[PHONE:%s]] por la tarde.', 'ES'),
              ('Mi móvil es el [[PHONE:%s]]', 'ES'), ('Teléfono de contacto: [[PHONE:%s]]', 'ES'),
              ('Ring the London office on [[PHONE:%s]].', 'GB'), ('My mobile is [[PHONE:%s]]', 'GB'),
              ('Chiamami al [[PHONE:%s]]', 'IT'), ('Bel me op [[PHONE:%s]]', 'NL'),
              ('Büro Zürich: [[PHONE:%s]]', 'CH'), ('WhatsApp me on [[PHONE:%s]]', 'DE'),
              ('the number is [[PHONE:%s]]', 'US'), ('[[PHONE:%s]] is the hotline', 'FR'),
              ('Can you call [[PHONE:%s]] for me?', 'ES'), ('Fax an [[PHONE:%s]] bitte', 'DE'),
              ('He gave me [[PHONE:%s]] as his number', 'GB'), ('Rückruf bitte an [[PHONE:%s]]', 'DE'),
              ('Numéro du cabinet : [[PHONE:%s]]', 'FR'), ('Reservations: [[PHONE:%s]]', 'IT'),
              ('SMS an [[PHONE:%s]]', 'DE'), ('Its [[PHONE:%s]] if you need me', 'US')]
for t, c in tmpl_phone: add(t % phone(c))
for c in ['US', 'DE', 'FR', 'ES', 'GB', 'NL']: add('Numbers: [[PHONE:%s]] or [[PHONE:%s]].' % (phone(c), phone(c)))

# Cards
tmpl_card = ['My card number is [[CREDIT_CARD:%s]].', 'Visa [[CREDIT_CARD:%s]] exp 04/27', 'Kreditkarte: [[CREDIT_CARD:%s]]',
             'Numéro de carte [[CREDIT_CARD:%s]]', 'Tarjeta [[CREDIT_CARD:%s]], caduca en mayo',
             'charge [[CREDIT_CARD:%s]] for the deposit', 'cc# [[CREDIT_CARD:%s]]', 'use [[CREDIT_CARD:%s]] please',
             'Pay with [[CREDIT_CARD:%s]] and send the receipt', 'Meine Karte [[CREDIT_CARD:%s]] wurde abgelehnt',
             'La carte [[CREDIT_CARD:%s]] est bloquée', 'Mi tarjeta de crédito es [[CREDIT_CARD:%s]]']
cards = [card('4'), card('51'), card('4', sep='-'), card('37', 15), card('6011'), card('4', sep=''), card('55'),
         card('2221'), card('4'), card('35'), card('4', sep='-'), card('52', sep='')]
for t, c in zip(tmpl_card, cards): add(t % c)

# IBANs (several countries, grouped and compact)
tmpl_iban = ['Please transfer it to [[IBAN:%s]].', 'IBAN: [[IBAN:%s]]', 'Überweisung an [[IBAN:%s]], Verwendungszweck Miete',
             'Mon IBAN est [[IBAN:%s]]', 'Mi cuenta: [[IBAN:%s]]', 'Account [[IBAN:%s]] (joint)', 'Konto [[IBAN:%s]]',
             'virement sur [[IBAN:%s]] svp', 'Send the refund to [[IBAN:%s]]', 'IBAN [[IBAN:%s]] – bitte prüfen',
             'el IBAN [[IBAN:%s]] es de mi madre', 'pay rent to [[IBAN:%s]] by the 3rd']
countries = ['DE', 'FR', 'ES', 'GB', 'NL', 'IT', 'AT', 'CH', 'BE', 'PL', 'DE', 'ES']
for i, (t, cc) in enumerate(zip(tmpl_iban, countries)): add(t % iban(cc, spaced=i % 3 != 2))

# SSN / ITIN
tmpl_ssn = ['My SSN is [[US_SSN:%s]].', 'social security number [[US_SSN:%s]]', 'SSN: [[US_SSN:%s]]',
            'ss# [[US_SSN:%s]] for the form', 'Her social security no. is [[US_SSN:%s]]', 'SSN [[US_SSN:%s]] on file',
            'the applicant ([[US_SSN:%s]]) was approved', 'SSN [[US_SSN:%s]]']
for i, t in enumerate(tmpl_ssn): add(t % ssn(' ' if i == 5 else ('' if i == 7 else '-')))
for t in ['My ITIN is [[US_ITIN:%s]].', 'ITIN: [[US_ITIN:%s]]', 'taxpayer id [[US_ITIN:%s]]', 'use ITIN [[US_ITIN:%s]] on the return',
          'ITIN [[US_ITIN:%s]]']:
    add(t % itin())

# Passports
for t in ['Passport number: [[PASSPORT:%s]]' % 'C01X00T47', 'My passport no. is [[PASSPORT:%s]]' % '533380006',
          'Reisepass Nr. [[PASSPORT:%s]]' % 'C4J9K2LM7', 'numéro de passeport [[PASSPORT:%s]]' % '12AB34567',
          'Pasaporte [[PASSPORT:%s]]' % 'PAA123456', 'passport #[[PASSPORT:%s]], expires 2031' % 'X9876543',
          'Passnummer: [[PASSPORT:%s]]' % 'CF7R4T2X1', 'pasaporte número [[PASSPORT:%s]]' % 'XDA765432']:
    add(t)

# IPs
tmpl_ip = ['The server is at [[IP_ADDRESS:%s]].', 'ping [[IP_ADDRESS:%s]]', 'My IP address is [[IP_ADDRESS:%s]]',
           'Die IP-Adresse des Routers ist [[IP_ADDRESS:%s]].', "L'adresse IP [[IP_ADDRESS:%s]] est bloquée",
           'Conéctate a [[IP_ADDRESS:%s]]', 'logins from [[IP_ADDRESS:%s]] look suspicious', 'host [[IP_ADDRESS:%s]] is down',
           'ssh admin@[[IP_ADDRESS:%s]]', 'blocked [[IP_ADDRESS:%s]] and [[IP_ADDRESS:%s]]']
for i, t in enumerate(tmpl_ip):
    vals = tuple((ipv4(private=j % 2 == 1) if (i + j) % 3 else ipv6()) for j in range(t.count('%s')))
    add(t % vals)
for t in ['IPv6: [[IP_ADDRESS:%s]]', 'gateway [[IP_ADDRESS:%s]]', 'the address [[IP_ADDRESS:%s]] resolves to my laptop',
          'Serveur [[IP_ADDRESS:%s]]']:
    add(t % ipv6())

# MACs
for t, s in [('MAC address [[MAC_ADDRESS:%s]]', ':'), ('my laptop is [[MAC_ADDRESS:%s]] on the wifi', '-'),
             ('Die MAC-Adresse lautet [[MAC_ADDRESS:%s]]', ':'), ('whitelist [[MAC_ADDRESS:%s]]', '.'),
             ("l'adresse MAC [[MAC_ADDRESS:%s]]", ':'), ('dirección MAC: [[MAC_ADDRESS:%s]]', '-')]:
    add(t % mac(s))

# URLs
for u in ['https://www.facebook.com/anna.mueller.1985', 'http://example.com/profile?id=48213', 'www.linkedin.com/in/jdupont',
          'https://drive.google.com/file/d/1aBcD/view', 'https://github.com/jsmith/dotfiles', 'http://192.168.0.10:8080/admin',
          'https://mi-blog.es/sobre-mi', 'https://de.wikipedia.org/wiki/Berlin_(Begriffsklärung)']:
    add(rng.choice(['My profile: [[URL:%s]]', 'see [[URL:%s]].', 'Link: [[URL:%s]]', 'Mein Profil: [[URL:%s]]',
                    'Voici le lien [[URL:%s]]', 'Mira [[URL:%s]], es mío.']) % u)

# Crypto
for t in ['Send BTC to [[CRYPTO:%s]]' % base58check(0), 'my bitcoin wallet: [[CRYPTO:%s]]' % base58check(5),
          'BTC [[CRYPTO:%s]]' % bech32_addr(0), 'taproot address [[CRYPTO:%s]]' % bech32_addr(1),
          'ETH: [[CRYPTO:%s]]' % eth(), 'Meine Wallet-Adresse ist [[CRYPTO:%s]]' % base58check(0),
          'envoie les ethers à [[CRYPTO:%s]]' % eth(), 'mi monedero: [[CRYPTO:%s]]' % bech32_addr(0),
          'donate: [[CRYPTO:%s]]' % base58check(0), 'pay [[CRYPTO:%s]] 0.5 ETH' % eth()]:
    add(t)

# Dates and dates of birth
for t in ['I was born on [[DATE_OF_BIRTH:14 March 1987]].', 'DOB: [[DATE_OF_BIRTH:1990-07-21]]',
          'Date of birth [[DATE_OF_BIRTH:03/22/1979]]', 'geboren am [[DATE_OF_BIRTH:12.05.1983]]',
          'Geburtsdatum: [[DATE_OF_BIRTH:1. Januar 1970]]', 'née le [[DATE_OF_BIRTH:8 juillet 1992]]',
          'date de naissance : [[DATE_OF_BIRTH:05/11/1968]]', 'nacido el [[DATE_OF_BIRTH:23 de abril de 1985]]',
          'fecha de nacimiento: [[DATE_OF_BIRTH:30/09/2001]]', 'Born [[DATE_OF_BIRTH:June 3, 1975]] in Ohio',
          'birthday: [[DATE_OF_BIRTH:Feb 29, 1996]]', 'mein Geburtstag ist der [[DATE_OF_BIRTH:24.12.1999]]',
          'The meeting is on [[DATE:2024-05-14]].', 'Termin am [[DATE:03.06.2024]] um 10 Uhr',
          'rendez-vous le [[DATE:12 mars 2025]]', 'la cita es el [[DATE:5 de mayo de 2024]]',
          'Invoice dated [[DATE:January 15, 2024]]', 'deadline [[DATE:11/30/2024]]', 'Abgabe bis [[DATE:31.10.2024]]',
          'on [[DATE:2 Oct 2023]] we moved', 'Lieferung am [[DATE:7. März 2025]]', 'le [[DATE:1er janvier 2024]] tout change',
          'vence el [[DATE:15/08/2025]]', 'from [[DATE:2023-01-01]] to [[DATE:2023-12-31]]', 'signed on [[DATE:21-06-2022]]',
          'Kündigung zum [[DATE:30.06.25]]']:
    add(t)

# Street addresses
for t in ['I live at [[ADDRESS:221B Baker Street]], London.', 'Ship it to [[ADDRESS:1600 Pennsylvania Avenue]] NW',
          'my address is [[ADDRESS:42 Elm St.]] Springfield', 'Office: [[ADDRESS:350 Fifth Avenue]], New York, NY 10118',
          'we moved to [[ADDRESS:17 Maple Drive]]', 'deliver to [[ADDRESS:8 Rosewood Lane]], Apt 4',
          'Ich wohne in der [[ADDRESS:Hauptstraße 12]], 10115 Berlin.', 'Adresse: [[ADDRESS:Berliner Str. 45a]]',
          'Lieferadresse [[ADDRESS:Am Markt 3]], 04109 Leipzig', 'Meine Anschrift: [[ADDRESS:Lindenweg 7]]',
          'Treffpunkt [[ADDRESS:Königsallee 92]] in Düsseldorf', "J'habite au [[ADDRESS:12 rue de la Paix]], 75002 Paris.",
          'Adresse : [[ADDRESS:5 avenue Victor Hugo]]', 'livraison au [[ADDRESS:27 boulevard Saint-Michel]]',
          'Vivo en la [[ADDRESS:Calle Mayor 5]], Madrid.', 'Mi dirección es [[ADDRESS:Avenida de la Constitución 18]]',
          'envíalo a [[ADDRESS:Paseo de Gracia 43]], Barcelona', 'dirección: [[ADDRESS:C/ Alcalá 120]]',
          'Our new office is [[ADDRESS:10 Downing Street]].', 'send the keys to [[ADDRESS:4 Privet Drive]]']:
    add(t)

# Person names (cues, honorifics, greetings, sign-offs, dictionary, and some the detector will miss)
for t in ['My name is [[PERSON:Sarah Connor]].', 'Hi, I am [[PERSON:Thomas Becker]] from accounting.',
          'Ich heiße [[PERSON:Lena Schmidt]] und komme aus [[ADDRESS:Köln]].', "Je m'appelle [[PERSON:Camille Dubois]].",
          'Me llamo [[PERSON:Javier Ruiz]] y vivo en [[ADDRESS:Sevilla]].', 'Dear [[PERSON:Mr. Henderson]], thank you for your letter.'.replace('Mr. Henderson]]', 'Henderson]]').replace('[[PERSON:', 'Mr. [[PERSON:'),
          'Please forward this to [[PERSON:Maria Garcia]].', 'Hallo [[PERSON:Jonas]], wie geht es dir?',
          'Bonjour [[PERSON:Nathalie]], merci pour ton aide.', 'Hola [[PERSON:Lucía]], ¿quedamos mañana?',
          'Best regards,\n[[PERSON:Michael Brown]]', 'Viele Grüße\n[[PERSON:Katrin Weber]]',
          'Cordialement,\n[[PERSON:Julien Moreau]]', 'Saludos,\n[[PERSON:Ana Martínez]]',
          'Frau [[PERSON:Hoffmann]] hat angerufen.', 'Mme [[PERSON:Lefebvre]] arrive demain.', 'Sra. [[PERSON:López]] no está.',
          'Dr. [[PERSON:Patel]] will see you now.', 'I had lunch with [[PERSON:Emily Clark]] yesterday.',
          '[[PERSON:Peter]] said the report is late.', 'Ask [[PERSON:Olivia]] about the budget.',
          'Meeting with [[PERSON:Zbigniew Kowalski]] at noon', '[[PERSON:Hans-Peter Schulz]] leitet das Projekt.',
          'Can you send it to [[PERSON:Sophie]] too?', 'signed: [[PERSON:Robert Taylor]]', 'Name: [[PERSON:Ingrid Larsson]]',
          'Mi nombre es [[PERSON:Carmen Ortega]]', 'Ruf [[PERSON:Stefan]] an, er weiß Bescheid.',
          '[[PERSON:Aisha Rahman]] joined the team.', 'I spoke to [[PERSON:Kwame Mensah]] this morning.',
          # hard ones: lower case, unknown names, names that are words
          'my name is [[PERSON:priya]] btw', 'Talk to [[PERSON:Siobhan]] in HR.', '[[PERSON:Xiulan Qiao]] is our new CTO.',
          'Will [[PERSON:Grace]] come to the party?', '[[PERSON:Rose]] and [[PERSON:Jack]] are late again.',
          'Tell [[PERSON:Dmitrii Volkov]] the truck is here.', 'el señor [[PERSON:Fuentes]] llamó',
          'mon collègue [[PERSON:Baptiste]] est malade', 'Grüß [[PERSON:Oma Erna]] von mir!',
          '[[PERSON:Mr. Kim]] will join later'.replace('[[PERSON:Mr. Kim]]', 'Mr. [[PERSON:Kim]]')]:
    add(t)

# Messages with several kinds at once
add('Hi, I am [[PERSON:Anna Schneider]], [[EMAIL:anna.schneider@example.de]], Tel. [[PHONE:%s]].' % phone('DE'))
add('Name: [[PERSON:John Miller]]\nSSN: [[US_SSN:%s]]\nDOB: [[DATE_OF_BIRTH:04/12/1980]]\nPhone: [[PHONE:%s]]' % (ssn(), phone('US')))
add('Please refund [[CREDIT_CARD:%s]] or wire it to [[IBAN:%s]].' % (card('4'), iban('GB')))
add('Server [[IP_ADDRESS:%s]] (MAC [[MAC_ADDRESS:%s]]) sent mail to [[EMAIL:ops@example.net]]' % (ipv4(), mac(':')))
add("Je m'appelle [[PERSON:Claire Bernard]], j'habite [[ADDRESS:8 rue Victor Hugo]] et mon numéro est le [[PHONE:%s]]." % phone('FR'))
add('Soy [[PERSON:Diego Fernández]], mi móvil es [[PHONE:%s]] y mi correo [[EMAIL:diego.f@correo.es]].' % phone('ES'))
add('Bitte überweise 50 € auf [[IBAN:%s]] und schick die Bestätigung an [[EMAIL:kasse@verein.de]].' % iban('DE'))
add('Patient [[PERSON:Emma Wilson]], born [[DATE_OF_BIRTH:17 August 1962]], lives at [[ADDRESS:12 Oak Road]].')
add('Visit [[URL:https://shop.example.com/order/77812]] or call [[PHONE:%s]].' % phone('GB'))
add('ETH [[CRYPTO:%s]] / BTC [[CRYPTO:%s]]' % (eth(), base58check(0)))
add('Ich bin [[PERSON:Felix Wagner]], geboren am [[DATE_OF_BIRTH:3. Mai 1991]], wohnhaft [[ADDRESS:Goethestraße 21]].')
add('Card [[CREDIT_CARD:%s]], CVV sent separately, billing zip 94107.' % card('5', sep=' ').replace('5', '5', 1))
add('My ITIN is [[US_ITIN:%s]] and my email [[EMAIL:tax.me@example.com]]' % itin())
add('Passport [[PASSPORT:K1234567]] and phone [[PHONE:%s]]' % phone('NL'))

# Clean messages (no personal data), including hard negatives
clean = [
    'What is the capital of France?', 'Summarise this article in three bullet points.', 'Write a haiku about autumn rain.',
    'Wie spät ist es in Tokio?', 'Peux-tu traduire ce paragraphe en anglais ?', '¿Cuál es la receta de la paella?',
    'Explain the difference between TCP and UDP.', 'The quick brown fox jumps over the lazy dog.',
    'Order #48213 ships tomorrow.', 'The total is $1,234.56 including tax.', 'Version 1.2.3 fixes the crash.',
    'We open at 09:30 and close at 18:00.', 'Add 250 g flour and 3 eggs.', 'Room 404 is on the fourth floor.',
    'The population grew from 1,200,000 to 1,350,000.', 'Take Route 66 west for 200 miles.',
    'ISBN 978-3-16-148410-0 is on the back cover.', 'Ticket 4111 1111 1111 1112 is invalid.'.replace('4111 1111 1111 1112', bad_card()),
    'The test IBAN %s has a wrong check digit.' % bad_iban('DE'), 'Error code 0x80070005 when saving.',
    'Score was 3-1 after extra time.', 'Ratio 16:9, resolution 1920x1080.', 'pi is about 3.14159265',
    'Tracking number 1Z999AA10123456784', 'Set the timeout to 30000 ms.', 'The year 1984 was a novel by Orwell.',
    'Use git commit -m "fix" then push.', 'SKU 000-00-0000 is a placeholder in the catalogue.',
    'Invoice INV-2024-00017 is paid.', 'Temperature dropped to -5 °C overnight.', 'Die Sitzung dauert 90 Minuten.',
    'Le train part du quai 7.', 'El precio es de 19,99 €.', 'Model number XR-2000 is discontinued.',
    'Please reply in English.', 'Is 127 a prime number?', 'Compute 123456789 * 987654321.',
    'Set volume to 11.', 'The meeting moved to next week.', 'Thanks, that helps a lot!',
    'Our Paris office is closed on Mondays.', 'Apple released a new iPhone.', 'Lisbon is warmer than Berlin in winter.',
    'The Amazon river is very long.', 'May I ask a question?', 'Grace periods apply to late payments.',
    'Will this work on Linux?', 'Mark the task as done.', 'Frank feedback is welcome.', 'Victoria Station is busy today.',
    'Can you check 10.5.2 of the spec?', 'Press Ctrl+Alt+Del.', 'The recipe serves 4-6 people.',
    'Port 8080 is already in use.', 'Subnet mask 255.255.255.0 hides nothing personal? Actually ignore it.'.replace(' hides nothing personal? Actually ignore it.', ' is the default.'),
    'The function returns 404 on missing keys.', 'HTTP/1.1 200 OK', 'Wir sehen uns im Mai.', "Rendez-vous en juin.",
    'Nos vemos en agosto.', 'Chapter 3, verse 16.', 'He scored 98 out of 100.', 'Use SHA-256 for hashing.',
    'The gene BRCA1 is on chromosome 17.', 'Flight LH 454 departs at 13:05.', 'Lot 7 sold for 12,500 dollars.',
    'Seats 12A and 12B are free.', 'The bill number is 2024/117/A.', 'Bank holidays differ by state.',
    'Der Zug hat 12 Minuten Verspätung.', "L'appartement fait 54 m².", 'La reunión es a las 17:00.',
    'Remember to water the plants.', 'What does IBAN stand for?', 'How do I find my IP address on Windows?',
    'Explain what a MAC address is.', 'Is a bitcoin address case-sensitive?', 'Which date format does ISO 8601 use?',
    'Tell me about credit card fraud prevention.', 'Where can I renew my passport?', 'What is a social security number used for?',
]
for c in clean: add(c)

# ---------------------------------------------------------------- held-out messages
# Written after the detector was tuned on the messages above and never tuned on: the README
# reports both sets, this one as the honest estimate.
H = []
for t in [
    'Reach me on [[PHONE:%s]] or by mail: [[EMAIL:k.oconnor@uni-example.ie]]' % phone('GB'),
    'Hey, quick one: can you text [[PHONE:%s]]? It is my new number.' % phone('US'),
    'Notfallkontakt: [[PERSON:Brigitte Hahn]], [[PHONE:%s]]' % phone('DE'),
    'Mi hermano [[PERSON:Álvaro]] vive en [[ADDRESS:Calle de Toledo 44]].',
    'Votre conseiller, [[PERSON:Mathieu Girard]], vous rappellera au [[PHONE:%s]].' % phone('FR'),
    'Refund failed for card ending in 4421 — the full number was [[CREDIT_CARD:%s]].' % card('4'),
    'Amex: [[CREDIT_CARD:%s]]' % card('34', 15),
    'Kontoinhaber [[PERSON:Jürgen Vogel]], IBAN [[IBAN:%s]]' % iban('AT'),
    'Pour le loyer : [[IBAN:%s]]' % iban('FR', spaced=False),
    'Beneficiary IBAN [[IBAN:%s]], reference 2291' % iban('NL'),
    'Cuenta corriente [[IBAN:%s]] a nombre de [[PERSON:Rocío Prieto]]' % iban('ES'),
    'W-2 shows SSN [[US_SSN:%s]] for the employee' % ssn(),
    'social sec # [[US_SSN:%s]]' % ssn(),
    'Applicant ITIN [[US_ITIN:%s]]' % itin(),
    'Our VPN endpoint is [[IP_ADDRESS:%s]]; do not share it.' % ipv4(),
    'Seen from [[IP_ADDRESS:%s]] at 03:12 UTC' % ipv6(),
    'device [[MAC_ADDRESS:%s]] keeps dropping off' % mac('-'),
    'My portfolio is at [[URL:https://janedoe.dev/work]].',
    'Instagram: [[URL:https://www.instagram.com/lucia.mv/]]',
    'Tip jar (BTC): [[CRYPTO:%s]]' % bech32_addr(0),
    'USDT on ERC-20 to [[CRYPTO:%s]]' % eth(),
    'DOB [[DATE_OF_BIRTH:7/4/1990]], MRN 448812',
    'Ich bin am [[DATE_OF_BIRTH:29.02.1988]] geboren.',
    'né le [[DATE_OF_BIRTH:3 février 1979]] à Lyon',
    'su fecha de nacimiento es el [[DATE_OF_BIRTH:12/10/1955]]',
    'Check-in [[DATE:2025-03-08]], check-out [[DATE:2025-03-12]]',
    'Le contrat expire le [[DATE:30 septembre 2026]].',
    'Das Paket kam am [[DATE:14. Februar 2024]] an.',
    'Please arrive by [[DATE:Dec 1, 2024]].',
    'Mail it to [[ADDRESS:77 Sunset Boulevard]], Los Angeles',
    'New flat: [[ADDRESS:Schillerstraße 8]], 80336 München',
    'RDV au [[ADDRESS:3 place de la République]]',
    'Our shop is at [[ADDRESS:Avenida Diagonal 640]]',
    'This is [[PERSON:Oliver Hughes]] from the Leeds branch.',
    'Liebe [[PERSON:Franziska]], vielen Dank für die Einladung!',
    'Merci [[PERSON:Thierry]] pour le dossier.',
    'Gracias, [[PERSON:Marta]], nos vemos el lunes.',
    'Kind regards,\n[[PERSON:Priya Sharma]]',
    'Ms. [[PERSON:Okafor]] approved the loan.',
    'Herr [[PERSON:Dietrich]] ist heute im Homeoffice.',
    'I forwarded it to [[PERSON:Tomasz]] and [[PERSON:Agnieszka]].',
    '[[PERSON:Yuki Tanaka]] presented the results.',
    'Ask [[PERSON:Aoife Brennan]] for the keys.',
    'passport: [[PASSPORT:L898902C3]]',
    'Reisepassnummer [[PASSPORT:C7T3L2M91]]'.replace('Reisepassnummer', 'Reisepass-Nr.'),
    'Everything for [[PERSON:Ahmed Hassan]]: phone [[PHONE:%s]], email [[EMAIL:a.hassan@example.com]], born [[DATE_OF_BIRTH:1984-11-30]]' % phone('DE'),
    'Wire [[IBAN:%s]] or card [[CREDIT_CARD:%s]], whichever is easier' % (iban('IT'), card('5')),
    'Call [[PHONE:%s]] (Madrid) or [[PHONE:%s]] (Paris)' % (phone('ES'), phone('FR')),
]:
    H.append(t)
for c in ['How many bytes are in a kilobyte?', 'Convert 98.6 F to Celsius.', 'The invoice total was 4,210.00 EUR.',
          'Build 20240311.2 passed all checks.', 'Meet at gate B12 at 07:45.', 'Bestellnummer 100245871 ist unterwegs.',
          'Le colis 6A12345678901 est en transit.', 'El vuelo IB3166 sale a las 10:10.', 'Use port 443 for HTTPS.',
          'What does 192 mean in binary?', 'Sort the list 5, 3, 9, 1.', 'Chapter 12 covers hash tables.',
          'The serial is SN-7731-AX-22.', 'Add the 2 eggs at minute 15.', 'I need a summary of the Q3 report.',
          'Berlin has 3.7 million inhabitants.', 'Is June a good month for Iceland?', 'Summer in Spain is hot.',
          'April showers bring May flowers.', 'The Hope diamond is in Washington.', 'Version 10.0.19045 of Windows',
          'Order 2024-117-88 is delayed.', 'Temperature 21.5°C, humidity 40%', 'Reference number 7781 2290 3341']:
    H.append(c)

# ---------------------------------------------------------------- write
MARK = re.compile(r'\[\[([A-Z_]+):(.+?)\]\]', re.S)
def strip(marked):
    text, ents, pos = b'', [], 0
    for m in MARK.finditer(marked):
        text += marked[pos:m.start()].encode()
        start = len(text)
        text += m.group(2).encode()
        ents.append({'type': m.group(1), 'start': start, 'end': len(text)})
        pos = m.end()
    text += marked[pos:].encode()
    return text.decode(), ents

here = os.path.dirname(os.path.abspath(__file__))
for name, msgs in [('messages.jsonl', M), ('holdout/holdout.jsonl', H)]:
    os.makedirs(os.path.dirname(os.path.join(here, name)), exist_ok=True)
    with open(os.path.join(here, name), 'w', encoding='utf-8') as f:
        for marked in msgs:
            text, ents = strip(marked)
            f.write(json.dumps({'text': text, 'entities': ents}, ensure_ascii=False) + '\n')
    print('%s: %d messages, %d entities' % (name, len(msgs), sum(len(strip(x)[1]) for x in msgs)))
