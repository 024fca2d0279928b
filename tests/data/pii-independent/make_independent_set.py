#!/usr/bin/env python3
"""Writes the independent PII evaluation set (independent.jsonl beside this script).

Made by a different method than the development set in tests/data/pii: sentence templates in
nine languages (EN, DE, FR, ES, IT, NL, PT, PL, TR), written before the detector was tuned on
them, filled at random (fixed seed) with
  - given names and surnames from data/pii/ (the detector's own lists) AND from
    data/pii/heldout/ (one name in ten, left out of the detector's lists), half each,
  - romanised names of cultures the lists barely cover (Chinese, Japanese, Korean, Arabic,
    Indian, African), written out below and used nowhere in the detector,
  - places from data/pii/places.txt and data/pii/heldout/places.txt,
  - street addresses in the formats of 12 countries, generated from those names,
  - dates in the written forms of each language.
Messages without personal data carry version strings, build and order numbers, tracking
numbers, prices, times, product codes, names that are words and places that locate nobody.

Personal data is marked [[TYPE:value]] in the templates; the marks are removed and each value's
byte span in the UTF-8 text recorded (the format of tests/data/pii/README.md). ADDRESS spans
are the street line (number, street, flat) without postcode and city, or the place itself where
a place locates the writer ("I live in [[ADDRESS:Lyon]]").
Run: python3 tests/data/pii-independent/make_independent_set.py
"""
import json, os, random, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', '..', 'data', 'pii')
# Another seed and output file (argv) draw a fresh set from the same templates, e.g. to check
# that scores do not depend on the particular names drawn: make_independent_set.py 7 /tmp/fresh.jsonl
rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 20261207)


def read(name):
    with open(os.path.join(DATA, name), encoding='utf-8') as f:
        return [l.strip() for l in f if l.strip()]


WORDS = set(read('word_names.txt'))


def usable(n):
    # Plain names of 3+ letters that are not also common words (those are tested on their own).
    return len(n) >= 3 and n not in WORDS and re.fullmatch(r"[^\W\d_]+(?:[-'][^\W\d_]+)?", n) and not re.search(
        '[\u0400-\u04ff\u0370-\u03ff]', n)


def title(n):
    return '-'.join("'".join(p[:1].upper() + p[1:] for p in part.split("'")) for part in n.split('-'))


GIVEN = [[title(n) for n in read(f) if usable(n)] for f in ('given_names.txt', 'heldout/given_names.txt')]
SUR = [[title(n) for n in read(f) if usable(n)] for f in ('surnames.txt', 'heldout/surnames.txt')]
PLACES = [[title(n) if ' ' not in n else ' '.join(title(w) if i == 0 or w not in ('de', 'del', 'la', 'di', 'am', 'an', 'der', 'sur', 'en') else w for i, w in enumerate(n.split()))
           for n in read(f) if n not in WORDS and re.fullmatch(r"[^\W\d_]+(?:[ -][^\W\d_]+)?", n) and len(n) >= 4]
          for f in ('places.txt', 'heldout/places.txt')]

# Romanised full names, none of them taken from the detector's sources.
OTHER_NAMES = [
    'Wang Xiuying', 'Li Na', 'Zhang Wei', 'Liu Yang', 'Chen Jie', 'Xiulan Qiao', 'Huang Min', 'Zhou Lei',
    'Haruto Sato', 'Yui Takahashi', 'Ren Yamamoto', 'Aoi Nakamura', 'Sota Kobayashi', 'Hina Watanabe',
    'Min-jun Kim', 'Seo-yeon Park', 'Ji-ho Choi', 'Ha-eun Jung', 'Do-hyun Kang',
    'Omar Al-Farsi', 'Layla Haddad', 'Youssef Benali', 'Fatima Zahra El Idrissi', 'Khalid Mansour',
    'Aarav Sharma', 'Priya Iyer', 'Vikram Reddy', 'Ananya Gupta', 'Rohan Deshpande', 'Lakshmi Narayanan',
    'Chinedu Okafor', 'Ngozi Adeyemi', 'Kwame Mensah', 'Amara Diallo', 'Wanjiru Kamau', 'Thabo Nkosi',
    'Nguyen Thi Lan', 'Tran Van Minh', 'Siosaia Taufa', 'Aroha Ngata', 'Mehmet Yıldız', 'Elif Şahin',
]


def given():
    return rng.choice(GIVEN[rng.random() < 0.5])


def surname():
    return rng.choice(SUR[rng.random() < 0.5])


def full_name():
    r = rng.random()
    if r < 0.2:
        return rng.choice(OTHER_NAMES)
    return f'{given()} {surname()}'


def place():
    return rng.choice(PLACES[rng.random() < 0.3])


def P(v):
    return f'[[PERSON:{v}]]'


def A(v):
    return f'[[ADDRESS:{v}]]'


# ---------------------------------------------------------------- addresses (street line marked)
def num(lo=1, hi=250):
    return str(rng.randint(lo, hi))


def addr_us():
    st = rng.choice(['St', 'Street', 'Ave', 'Avenue', 'Blvd', 'Rd', 'Road', 'Dr', 'Lane'])
    d = rng.choice(['', ' NW', ' SE', ''])
    line = f'{num(10, 9999)} {rng.choice([surname(), place().split()[0]])} {st}{d}'
    if rng.random() < 0.3:
        line += f', Apt {rng.randint(1, 40)}{rng.choice("ABC")}'
    return f'{A(line)}, {place()}, {rng.choice(["CA", "NY", "TX", "WA", "IL", "DC"])} {rng.randint(10000, 99999)}'


def addr_uk():
    pc = f'{rng.choice(["SW1A", "EC1V", "M1", "B15", "LS6", "EH8"])} {rng.randint(1, 9)}{rng.choice("ABDEFGHJ")}{rng.choice("LNPQRSTU")}'
    line = f'{num()} {surname()} {rng.choice(["Street", "Road", "Lane", "Close", "Gardens", "Terrace", "Crescent"])}'
    if rng.random() < 0.3:
        line = f'Flat {rng.randint(1, 12)}, ' + line
    return f'{A(line)}, {place()} {pc}'


def addr_de():
    base = rng.choice([f'{surname()}straße', f'{surname()}str.', f'{surname()}weg', f'{surname()}allee',
                       f'{surname()}platz', f'{surname()}gasse', f'{place().split()[0]}er Straße'])
    return f'{A(base + " " + num() + rng.choice(["", "", "a", "b"]))}, {rng.randint(10000, 99999)} {place()}'


def addr_fr():
    line = f'{num()}{rng.choice(["", "", " bis"])} {rng.choice(["rue", "avenue", "boulevard", "place", "allée", "impasse", "chemin"])} {rng.choice(["de la ", "du ", "des ", ""])}{rng.choice([surname(), place().split()[0]])}'
    return f'{A(line)}, {rng.randint(10000, 95999)} {place()}'


def addr_es():
    kind = rng.choice(['Calle', 'C/', 'Avenida', 'Avda.', 'Paseo', 'Plaza', 'Camino'])
    line = f'{kind} {rng.choice(["de ", "del ", ""])}{rng.choice([surname(), place().split()[0]])} {num()}'
    if rng.random() < 0.4:
        line += f', {rng.randint(1, 9)}º {rng.choice("ABCD")}'
    return f'{A(line)}, {rng.randint(10000, 52999)} {place()}'


def addr_it():
    kind = rng.choice(['Via', 'Viale', 'Piazza', 'Corso', 'Vicolo', 'Largo'])
    return f'{A(kind + " " + rng.choice([surname(), given() + " " + surname(), place().split()[0]]) + " " + num())}, {rng.randint(10, 98)}{rng.randint(100, 999)} {place()}'


def addr_nl():
    base = rng.choice([f'{surname()}straat', f'{surname()}laan', f'{surname()}weg', f'{surname()}gracht',
                       f'{surname()}plein', f'{surname()}kade', f'{surname()}singel'])
    return f'{A(base + " " + num())}, {rng.randint(1000, 9999)} {rng.choice("ABCDEFGHJKLMNPRSTVWXZ")}{rng.choice("ABCDEFGHJKLMNPRSTVWXZ")} {place()}'


def addr_pt():
    kind = rng.choice(['Rua', 'Avenida', 'Travessa', 'Praça', 'Largo'])
    line = f'{kind} {rng.choice(["da ", "do ", "de ", ""])}{rng.choice([surname(), given() + " " + surname()])}, {num()}'
    return f'{A(line)}, {rng.randint(1000, 9999)}-{rng.randint(100, 999)} {place()}'


def addr_pl():
    line = f'ul. {rng.choice([surname(), given() + " " + surname()])} {num()}{rng.choice(["", "/" + str(rng.randint(1, 60))])}'
    return f'{A(line)}, {rng.randint(10, 99)}-{rng.randint(100, 999)} {place()}'


def addr_tr():
    line = f'{rng.choice([surname(), place().split()[0]])} {rng.choice(["Cad.", "Caddesi", "Sok.", "Sokak", "Bulvarı"])} No: {num(1, 120)}'
    return f'{A(line)}, {place()}'


def addr_in():
    line = f'{rng.choice(["Flat", "House No.", "Plot"])} {rng.randint(1, 99)}{rng.choice(["", "B", "A"])}, {rng.choice(["MG Road", "Nehru Nagar", "Gandhi Marg", "Station Road", "Park Street", "Anna Salai"])}'
    return f'{A(line)}, {place()} {rng.randint(110001, 699999)}'


def addr_jp():
    line = f'{rng.randint(1, 9)}-{rng.randint(1, 30)}-{rng.randint(1, 20)} {rng.choice(["Shibuya", "Ginza", "Umeda", "Nishi-Shinjuku", "Sakae", "Tenjin"])}'
    return f'{A(line)}, {rng.choice(["Shibuya-ku", "Chuo-ku", "Kita-ku", "Naka-ku"])}, {rng.choice(["Tokyo", "Osaka", "Nagoya", "Fukuoka"])} {rng.randint(100, 999)}-{rng.randint(1000, 9999)}'


ADDR = {'en': [addr_us, addr_uk, addr_in, addr_jp], 'de': [addr_de], 'fr': [addr_fr], 'es': [addr_es],
        'it': [addr_it], 'nl': [addr_nl], 'pt': [addr_pt], 'pl': [addr_pl], 'tr': [addr_tr]}

# ---------------------------------------------------------------- dates
MONTHS = {
    'en': ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
    'de': ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
    'fr': ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
    'es': ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'],
    'it': ['gennaio', 'febbraio', 'marzo', 'aprile', 'maggio', 'giugno', 'luglio', 'agosto', 'settembre', 'ottobre', 'novembre', 'dicembre'],
    'nl': ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'],
    'pt': ['janeiro', 'fevereiro', 'março', 'abril', 'maio', 'junho', 'julho', 'agosto', 'setembro', 'outubro', 'novembro', 'dezembro'],
    'pl': ['stycznia', 'lutego', 'marca', 'kwietnia', 'maja', 'czerwca', 'lipca', 'sierpnia', 'września', 'października', 'listopada', 'grudnia'],
    'tr': ['Ocak', 'Şubat', 'Mart', 'Nisan', 'Mayıs', 'Haziran', 'Temmuz', 'Ağustos', 'Eylül', 'Ekim', 'Kasım', 'Aralık'],
}
WEEKDAY = {'en': 'Monday', 'de': 'Montag', 'fr': 'lundi', 'es': 'lunes', 'it': 'lunedì', 'nl': 'maandag',
           'pt': 'segunda-feira', 'pl': 'poniedziałek', 'tr': 'Pazartesi'}


def date(lang):
    y, m, d = rng.randint(1940, 2025), rng.randint(1, 12), rng.randint(1, 28)
    mn = MONTHS[lang][m - 1]
    forms = [f'{d:02d}.{m:02d}.{y}', f'{d}/{m}/{y}', f'{y}-{m:02d}-{d:02d}']
    if lang == 'en':
        sfx = 'th' if 10 < d < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')
        forms += [f'{mn} {d}, {y}', f'{d} {mn} {y}', f'{d}{sfx} of {mn} {y}', f'{mn} {d}{sfx}, {y}', f'{m}/{d}/{y}',
                  f'{mn[:3]} {d}, {y}']
    elif lang == 'de':
        forms += [f'{d}. {mn} {y}', f'{d}.{m}.{str(y)[2:]}']
    elif lang == 'fr':
        forms += [f'{d} {mn} {y}', f'1er {mn} {y}' if d == 1 else f'{d} {mn} {y}']
    elif lang == 'es':
        forms += [f'{d} de {mn} de {y}']
    elif lang == 'pt':
        forms += [f'{d} de {mn} de {y}']
    elif lang in ('it', 'nl', 'pl', 'tr'):
        forms += [f'{d} {mn} {y}']
    return rng.choice(forms)


# ---------------------------------------------------------------- templates (written before tuning)
# {N} full name, {G} given name, {S} surname, {ADDR} address, {PL} place, {D} date.
PERSON_T = {
    'en': ['My name is {N} and I need help with my account.', 'Please forward this to {N}, she handles billing.',
           'Can you ask {N} to call me back?', 'Meeting notes: {N} will present the budget on Thursday.',
           'Hi {G}, thanks for the quick reply!', 'I spoke with {N} from HR yesterday.',
           'Dear Mr. {S}, your parcel is ready.', 'This is {N}, I ordered a laptop last week.',
           'Draft an email to {N} declining the offer politely.', 'Our landlord {N} raised the rent again.',
           'Best regards,\n{N}', 'Tell {G} the meeting moved to 3pm.', 'lol {G} {S} is so late again',
           '{N} said the server is down.', 'Write a birthday card for my grandmother {N}.'],
    'de': ['Mein Name ist {N}, ich habe eine Frage zur Rechnung.', 'Bitte leite das an {N} weiter.',
           'Sehr geehrter Herr {S}, vielen Dank für Ihre Nachricht.', 'Hallo {G}, kannst du mich zurückrufen?',
           'Ich heiße {N} und wohne seit kurzem hier.', 'Frau {S} ist heute nicht im Büro.',
           'Schreib eine Mail an {N} wegen des Termins.', 'Viele Grüße\n{N}', '{N} hat gestern angerufen.'],
    'fr': ["Je m'appelle {N} et j'ai un problème avec ma commande.", 'Bonjour {G}, merci pour ton aide.',
           'Pouvez-vous transmettre ce message à {N} ?', 'Madame {S} vous rappellera demain.',
           'Cordialement,\n{N}', 'Mon collègue {N} est en congé cette semaine.', 'Écris une lettre à {N} pour le remercier.'],
    'es': ['Me llamo {N} y quiero cambiar mi contraseña.', 'Hola {G}, ¿quedamos mañana?',
           'Por favor, envía el informe a {N}.', 'La señora {S} llegará tarde.', 'Saludos,\n{N}',
           'Mi jefe {N} no contesta los correos.', 'Escribe un mensaje a {N} para felicitarle.'],
    'it': ['Mi chiamo {N} e vorrei disdire l\'abbonamento.', 'Ciao {G}, ci vediamo stasera?',
           'Per favore inoltra questa email a {N}.', 'Il signor {S} ha chiamato stamattina.', 'Cordiali saluti,\n{N}',
           'Il mio medico, il dottor {N}, è in ferie.'],
    'nl': ['Mijn naam is {N} en ik heb een vraag over mijn bestelling.', 'Hoi {G}, bel je me straks terug?',
           'Stuur dit alsjeblieft door naar {N}.', 'Mevrouw {S} is vandaag afwezig.', 'Met vriendelijke groet,\n{N}',
           'Ik heb gisteren met {N} gesproken.'],
    'pt': ['Meu nome é {N} e preciso de ajuda com o pedido.', 'Olá {G}, tudo bem?', 'Por favor, encaminhe isto para {N}.',
           'O senhor {S} ligou hoje cedo.', 'Atenciosamente,\n{N}', 'Falei com {N} sobre o contrato.'],
    'pl': ['Nazywam się {N} i mam pytanie o fakturę.', 'Cześć {G}, dzięki za pomoc!', 'Proszę przekazać to do {N}.',
           'Pan {S} zadzwoni jutro.', 'Pozdrawiam,\n{N}'],
    'tr': ['Benim adım {N}, siparişim hakkında bir sorum var.', 'Merhaba {G}, yarın görüşelim mi?',
           'Lütfen bunu {N} kişisine iletin.', 'Sayın {N}, başvurunuz alınmıştır.', 'Saygılarımla,\n{N}'],
}
LOWER_T = {'en': ['my name is {n}', 'hey its {n} here, can u help'], 'de': ['ich heiße {n}'],
           'fr': ["je m'appelle {n}"], 'es': ['me llamo {n}'], 'it': ['mi chiamo {n}'], 'pt': ['meu nome é {n}'],
           'nl': ['mijn naam is {n}']}
WORDNAME_T = ['Ask Will about the invoice, he knows.', 'My sister Rose lives abroad now.', 'Call Frank before noon.',
              'I met Grace at the conference.', 'Have you heard from Bill lately?', 'Mark said he would be late.',
              'Ich habe mit Frank gesprochen.', 'Tell Hope I said thanks.']
WORDNAME_NAMES = {0: 'Will', 1: 'Rose', 2: 'Frank', 3: 'Grace', 4: 'Bill', 5: 'Mark', 6: 'Frank', 7: 'Hope'}

ADDRESS_T = {
    'en': ['Please ship it to {ADDR}.', 'My address is {ADDR}.', 'I moved to {ADDR} last month.',
           'Send the invoice to {ADDR}, attn. accounts.', 'deliver to {ADDR} pls'],
    'de': ['Meine Adresse ist {ADDR}.', 'Bitte liefern Sie an {ADDR}.', 'Ich wohne jetzt in der {ADDR}.'],
    'fr': ['Mon adresse : {ADDR}.', "J'habite au {ADDR}.", 'Merci de livrer au {ADDR}.'],
    'es': ['Mi dirección es {ADDR}.', 'Envíelo a {ADDR}, por favor.', 'Vivo en {ADDR}.'],
    'it': ['Il mio indirizzo è {ADDR}.', 'Spedite il pacco a {ADDR}.', 'Abito in {ADDR}.'],
    'nl': ['Mijn adres is {ADDR}.', 'Stuur het pakket naar {ADDR}.', 'Ik woon op {ADDR}.'],
    'pt': ['Meu endereço é {ADDR}.', 'Entregue em {ADDR}, por favor.', 'Moro na {ADDR}.'],
    'pl': ['Mój adres to {ADDR}.', 'Proszę wysłać paczkę na adres {ADDR}.'],
    'tr': ['Adresim {ADDR}.', 'Kargoyu {ADDR} adresine gönderin.'],
}
PLACE_T = {
    'en': ['I live in {PL} with my two kids.', "I'm at the Hilton in {PL} until Friday.", 'I grew up in {PL}.',
           "We're based in {PL} now.", 'I moved to {PL} last year for work.'],
    'de': ['Ich wohne in {PL}.', 'Ich lebe seit drei Jahren in {PL}.', 'Ich komme aus {PL}.'],
    'fr': ["J'habite à {PL} depuis 2019.", 'Je vis à {PL} avec ma famille.', 'Je suis né à {PL}.'],
    'es': ['Vivo en {PL} desde hace años.', 'Soy de {PL}.', 'Estoy en {PL} esta semana.'],
    'it': ['Abito a {PL}.', 'Vivo a {PL} da due anni.', 'Sono di {PL}.'],
    'nl': ['Ik woon in {PL}.', 'Ik kom uit {PL}.'],
    'pt': ['Moro em {PL}.', 'Sou de {PL}.'],
    'tr': ["{PL}'da yaşıyorum.", "{PL}'dan geliyorum."],
}
DOB_T = {
    'en': ['I was born on {D}.', 'DOB: {D}', 'Date of birth {D}, please update my profile.', 'born {D} in a small town'],
    'de': ['Ich bin am {D} geboren.', 'Geburtsdatum: {D}', 'geb. {D}'],
    'fr': ['Je suis né le {D}.', 'Date de naissance : {D}'],
    'es': ['Nací el {D}.', 'Fecha de nacimiento: {D}'],
    'it': ['Sono nato il {D}.', 'Data di nascita: {D}'],
    'nl': ['Ik ben geboren op {D}.', 'Geboortedatum: {D}'],
    'pt': ['Nasci em {D}.', 'Data de nascimento: {D}'],
    'pl': ['Urodziłem się {D}.', 'Data urodzenia: {D}'],
    'tr': ['Doğum tarihim {D}.', 'Doğum tarihi: {D}'],
}
DATE_T = {
    'en': ['The appointment is on {W}, {D}.', 'Contract signed {D}.', 'My flight is on {D}.'],
    'de': ['Der Termin ist am {W}, {D}.', 'Vertrag vom {D}.'],
    'fr': ['Le rendez-vous est le {W} {D}.', 'Facture du {D}.'],
    'es': ['La cita es el {W} {D}.', 'Contrato firmado el {D}.'],
    'it': ['L\'appuntamento è {W} {D}.', 'Fattura del {D}.'],
    'nl': ['De afspraak is op {W} {D}.'],
    'pt': ['A consulta é na {W}, {D}.'],
    'pl': ['Wizyta jest w {W}, {D}.'],
    'tr': ['Randevu {D} {W} günü.'],
}
CLEAN = [
    'Update to v1.2.3.4 fixed the crash.', 'Windows version 10.0.19045.2006 is installed.', 'Build 22621.1702 fails to boot.',
    'Order #123-4567890-1234567 has not arrived yet.', 'Tracking number 1Z999AA10123456784, still in transit.',
    'The price went from $1,299.99 to $999.00.', 'Meeting at 14:30, room 4.12.', 'Product code SKU-88213-XL is out of stock.',
    'Firmware 3.10.2.15 breaks the wifi.', 'Install python 3.11.4 and node 20.11.1 first.', 'Kernel 6.1.0-18-amd64 panics on boot.',
    'Chrome 120.0.6099.109 is the latest.', 'Ticket INC0012345 was closed.', 'Invoice 2023-00456 totals 1.234,56 EUR.',
    'Bestellnummer 302-1234567-8912345, Lieferung verspätet.', 'Version 2.4.1 kostet 19,99 €.', 'Le train part à 08h45 du quai 3.',
    'El pedido 450012345 llega mañana.', 'Ordine n. 1234567890 spedito.', 'Bestelling 8765432109 is onderweg.',
    'Pedido 9988776655 confirmado.', 'Zamówienie nr 1234567 wysłane.', 'Sipariş numarası 123456789 kargoda.',
    'Will it rain in May?', 'May I ask a question about the long page layout?', 'Grace period ends on the 15th.',
    'Frank feedback is welcome.', 'Mark the box and bill the client.', 'Rose petals and young leaves.',
    'Paris is the capital of France.', 'What is the population of Tokyo?', 'Translate "Berlin" into Polish.',
    'Explain the history of Rome in three sentences.',
    'The ratio is 3/4 and the score 12-7.', 'Error 0x80070005 when updating.', 'Use port 8080 and timeout 30000 ms.',
    'ISBN 978-3-16-148410-0 is the second edition.', 'Call stack depth 255 exceeded at line 1024.',
    'Pay 3 x 49,90 € in instalments.', 'Room 1204, floor 12, building B.', 'Set the resolution to 1920x1080 at 144 Hz.',
    'Der Zug fährt um 17:45 ab Gleis 9.', 'La réunion dure 1h30.', 'La versión 4.2.0 salió ayer.', 'Model XPS-9530-7000 has 32 GB.',
    'Serial SN4H7K2L9P shows in the app.', 'The package weighs 2.5 kg and costs 14.99.', 'Q3 revenue grew 12.5% to 4.2 billion.',
    'Summarize the plot of Pride and Prejudice.', 'Write a poem about the sea in autumn.', 'How do I reverse a linked list in C++?',
    'Was ist der Unterschied zwischen TCP und UDP?', 'Comment faire une pâte à crêpes ?', '¿Cuál es la capital de Australia?',
    'Qual è la differenza tra Python e Java?', 'Hoe laat is het in New York?', 'Como faço um bolo de cenoura?',
    'Jak działa fotosynteza?', 'Türkiye\'nin başkenti neresidir?', 'Docker image node:20.11-alpine3.19 is broken.',
    'Release 2024.03.1 ships on schedule.', 'npm ERR! code E404 on package@1.0.0-beta.3.', 'Budget: 12.000 € for 2025.',
    'Step 3 of 10: configure 192 workers.', 'The meeting is at 9 am in Conference Room Berlin.', 'We sold 1.234.567 units.',
]


def fill(lang, template):
    out = template
    if '{N}' in out:
        out = out.replace('{N}', P(full_name()))
    if '{G}' in out:
        out = out.replace('{G}', P(given()))
    if '{S}' in out:
        out = out.replace('{S}', P(surname()))
    if '{ADDR}' in out:
        out = out.replace('{ADDR}', rng.choice(ADDR[lang])())
    if '{PL}' in out:
        out = out.replace('{PL}', A(place()))
    return out


def messages():
    langs = list(PERSON_T)
    out = []
    for _ in range(150):
        lang = rng.choice(langs)
        out.append(fill(lang, rng.choice(PERSON_T[lang])))
    for lang, ts in LOWER_T.items():
        for t in ts:
            out.append(t.replace('{n}', P(full_name().lower())))
    for i, t in enumerate(WORDNAME_T):
        out.append(t.replace(WORDNAME_NAMES[i], P(WORDNAME_NAMES[i]), 1))
    for _ in range(110):
        lang = rng.choice(list(ADDRESS_T))
        out.append(fill(lang, rng.choice(ADDRESS_T[lang])))
    for lang in ('en', 'en', 'en'):  # the anglophone formats once more each
        for f in ADDR['en']:
            out.append(f'Ship to {f()}.')
    for _ in range(50):
        lang = rng.choice(list(PLACE_T))
        out.append(fill(lang, rng.choice(PLACE_T[lang])))
    for _ in range(60):
        lang = rng.choice(list(DOB_T))
        out.append(rng.choice(DOB_T[lang]).replace('{D}', f'[[DATE_OF_BIRTH:{date(lang)}]]'))
    for _ in range(40):
        lang = rng.choice(list(DATE_T))
        out.append(rng.choice(DATE_T[lang]).replace('{W}', WEEKDAY[lang]).replace('{D}', f'[[DATE:{date(lang)}]]'))
    for _ in range(25):  # several kinds in one message
        lang = rng.choice(['en', 'de', 'fr', 'es'])
        out.append(fill(lang, rng.choice(PERSON_T[lang])) + ' ' + fill(lang, rng.choice(ADDRESS_T[lang])))
    out.append('Sort the list: [[IP_ADDRESS:10.0.0.1]], [[IP_ADDRESS:10.0.0.2]], [[IP_ADDRESS:10.0.0.10]].')
    out += CLEAN
    for i in range(len(CLEAN), 180):  # clean messages with random numbers in the same shapes
        k = rng.randrange(6)
        out.append([f'Upgraded to v{rng.randint(1, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}.{rng.randint(0, 9999)} today.',
                    f'Order #{rng.randint(100, 999)}-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)} shipped.',
                    f'Build {rng.randint(10000, 29999)}.{rng.randint(100, 9999)} is out.',
                    f'Total: {rng.randint(1, 999)},{rng.randint(10, 99)} € incl. VAT, ref {rng.randint(10000000, 99999999)}.',
                    f'The meeting is at {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}, see page {rng.randint(2, 400)}.',
                    f'Item {rng.choice("ABCDEFGH")}{rng.randint(100, 999)}-{rng.randint(1000, 9999)} restocked, {rng.randint(2, 500)} units.'][k])
    return out


MARK = re.compile(r'\[\[([A-Z_]+):(.+?)\]\]', re.S)


def strip(marked):
    marked = marked.replace(']] [[PERSON:', ' ')  # a given name and a surname side by side are one name
    text, ents, pos = b'', [], 0
    for m in MARK.finditer(marked):
        text += marked[pos:m.start()].encode()
        value = m.group(2).encode()
        ents.append({'type': m.group(1), 'start': len(text), 'end': len(text) + len(value)})
        text += value
        pos = m.end()
    text += marked[pos:].encode()
    return {'text': text.decode(), 'entities': ents}


def main():
    rows = [strip(m) for m in messages()]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, 'independent.jsonl')
    with open(out, 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    pii = sum(1 for r in rows if r['entities'])
    print(f'{len(rows)} messages, {pii} with personal data, {len(rows) - pii} without')


if __name__ == '__main__':
    main()
