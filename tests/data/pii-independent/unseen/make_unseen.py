#!/usr/bin/env python3
"""Writes unseen.jsonl: messages in phrasings the detector's cues were NOT tuned on, written by
hand after the tuning and never tuned on afterwards (a check of how far the cues generalise
beyond the templates of make_independent_set.py). Same [[TYPE:value]] marks and output format.
Run: python3 tests/data/pii-independent/unseen/make_unseen.py
"""
import json, os, re

MESSAGES = [
    # persons, new phrasings
    "Could you draft a reply to [[PERSON:Héloïse Marchetti]] about the refund?",
    "[[PERSON:Bartholomew Quinn]] from accounting keeps cc'ing me.",
    "Remind me to congratulate [[PERSON:Olusegun Bankole]] on Friday.",
    "Who is [[PERSON:Ingrid Halvorsen]]? She emailed me twice.",
    "I had lunch with [[PERSON:Tomasz Zieliński]] and his wife.",
    "Signed, [[PERSON:Rosalind Achterberg]]",
    "Thanks a lot, [[PERSON:Jurgen]]!",
    "Can [[PERSON:Mateus Carvalho]] join the call?",
    "Please schedule a call between [[PERSON:Aiko Fujimoto]] and [[PERSON:Lars Eriksson]].",
    "Hast du [[PERSON:Jonas Brandt]] schon geantwortet?",
    "Kannst du [[PERSON:Sabine]] sagen, dass ich später komme?",
    "J'ai vu [[PERSON:Margaux Lefèvre]] hier au marché.",
    "Dis à [[PERSON:Karim]] que la réunion est annulée.",
    "¿Has hablado con [[PERSON:Lucía Fernández]]?",
    "Dile a [[PERSON:Diego]] que me llame.",
    "Ho parlato con [[PERSON:Federico Rinaldi]] ieri sera.",
    "Heb je [[PERSON:Daan Jansen]] al gezien?",
    "Você falou com [[PERSON:Beatriz Almeida]]?",
    "Rozmawiałem z [[PERSON:Piotr Nowak]] wczoraj.",
    "[[PERSON:Ayşe Demir]] bugün gelmedi.",
    "our new intern is [[PERSON:kwabena asante]]",
    "The contract is between ACME Corp and [[PERSON:Nikolai Petrov]].",
    "Patient: [[PERSON:Gwendolyn Price]]",
    "Recipient: [[PERSON:Yusuf Al-Rashid]]",
    "[[PERSON:Mei Ling Tan]] will cover for me.",
    "My daughter [[PERSON:Saoirse]] has a fever.",
    "I'm writing on behalf of my father, [[PERSON:Edmund Whitaker]].",
    "Please add Dr. [[PERSON:Anjali Menon]] to the list.",
    # addresses, new phrasings
    "Our office moved to [[ADDRESS:455 Market St, Suite 300]], San Francisco, CA 94105.",
    "Return address: [[ADDRESS:27 Old Gloucester Street]], London WC1N 3AX",
    "Lieferadresse: [[ADDRESS:Lindenallee 17]], 50968 Köln",
    "Envoyez le colis au [[ADDRESS:8 boulevard Haussmann]], 75009 Paris.",
    "La fiesta es en [[ADDRESS:Calle de Serrano 41]], 28001 Madrid.",
    "Consegna in [[ADDRESS:Corso Buenos Aires 33]], 20124 Milano.",
    "Het feest is op [[ADDRESS:Prinsengracht 263]], Amsterdam.",
    "A festa é na [[ADDRESS:Rua Oscar Freire, 900]], São Paulo.",
    "Paczka na [[ADDRESS:ul. Piotrkowska 104]], 90-926 Łódź.",
    "Toplantı [[ADDRESS:Bağdat Caddesi No: 210]], Kadıköy adresinde.",
    "Ship to [[ADDRESS:House No. 12, Park Street]], Kolkata 700016.",
    "My hotel is at [[ADDRESS:2-11-3 Meguro]], Meguro-ku, Tokyo.",
    "Send the keys to [[ADDRESS:14 Rosebank Road]], Cape Town.",
    # places that locate a person, new phrasings
    "I've been living in [[ADDRESS:Porto]] since 2018.",
    "We just relocated to [[ADDRESS:Melbourne]].",
    "I'm originally from [[ADDRESS:Guadalajara]] but I live in [[ADDRESS:Denver]] now.",
    "Ich bin gerade in [[ADDRESS:Leipzig]] unterwegs.",
    "Je suis installée à [[ADDRESS:Bordeaux]] depuis un an.",
    "Ahora vivo en [[ADDRESS:Valparaíso]].",
    "Attualmente vivo a [[ADDRESS:Bologna]].",
    "Wij wonen in [[ADDRESS:Utrecht]].",
    "Estou morando em [[ADDRESS:Curitiba]].",
    "Mieszkam w [[ADDRESS:Gdańsk]].",
    # dates, new phrasings
    "My birthday is [[DATE_OF_BIRTH:14 February 1987]].",
    "DOB [[DATE_OF_BIRTH:1979-11-02]], MRN withheld.",
    "She was born [[DATE_OF_BIRTH:July 4th, 2001]].",
    "Geburtstag: [[DATE_OF_BIRTH:29.02.1996]]",
    "Né le [[DATE_OF_BIRTH:12 juillet 1975]] à Lyon.",
    "Fecha de nac.: [[DATE_OF_BIRTH:08/06/1990]]",
    "The hearing was moved to [[DATE:Tuesday, 9 September 2025]].",
    "Rechnung vom [[DATE:02.01.2024]] ist noch offen.",
    "On [[DATE:2023-12-24]] the shop is closed.",
    "Il contratto scade il [[DATE:31 dicembre 2026]].",
    # clean messages, new shapes
    "Bump lodash from 4.17.20 to 4.17.21.",
    "macOS 14.4.1 (23E224) breaks the driver.",
    "Android 13, build TQ3A.230901.001 is pending.",
    "Your Amazon order 112-7654321-7654321 ships tomorrow.",
    "USPS tracking 9400 1000 0000 0000 0000 00 shows delivered.",
    "Subtotal 89.97, shipping 4.99, total 94.96.",
    "Train ICE 1234 leaves at 7:42 from platform 11.",
    "The GPU has 24 GB and draws 450 W.",
    "Part number 0R-7781-A2, rev C.",
    "Use npm 10.2.4 with node 20.11.0.",
    "Reading is my favourite hobby.",
    "Will you be at the standup?",
    "Hope you are well!",
    "Grace notes make the melody softer.",
    "Long story short: it works.",
    "Berlin is bigger than Munich.",
    "Compare the climate of Lisbon and Madrid.",
    "Write a haiku about Kyoto in autumn.",
    "The Louvre is in Paris.",
    "Set the timeout to 00:30:00 and retries to 5.",
    "Coordinates 48.8584, 2.2945 are approximate.",
    "Score was 3:1 after 90 minutes.",
    "SKU 100-200-300 is discontinued.",
    "Order number 4500123456 was cancelled.",
    "Le ticket 2024-0042 est résolu.",
    "Die Version 3.2.1 behebt den Fehler.",
    "El modelo XR-500 cuesta 299 €.",
]

MARK = re.compile(r'\[\[([A-Z_]+):(.+?)\]\]', re.S)


def strip(marked):
    text, ents, pos = b'', [], 0
    for m in MARK.finditer(marked):
        text += marked[pos:m.start()].encode()
        value = m.group(2).encode()
        ents.append({'type': m.group(1), 'start': len(text), 'end': len(text) + len(value)})
        text += value
        pos = m.end()
    text += marked[pos:].encode()
    return {'text': text.decode(), 'entities': ents}


if __name__ == '__main__':
    here = os.path.dirname(os.path.abspath(__file__))
    rows = [strip(m) for m in MESSAGES]
    with open(os.path.join(here, 'unseen.jsonl'), 'w', encoding='utf-8') as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + '\n')
    print(f'{len(rows)} messages, {sum(1 for r in rows if r["entities"])} with personal data')
