#!/usr/bin/env python3
"""Writes fresh.jsonl: hand-written chat messages with their personal data labelled.

Every message below was written by hand, one by one; nothing is drawn from templates or from
the detector's word lists. Each entity is given as (type, exact substring), in the order it
appears in the text; the byte offsets are computed here, so they cannot drift from the text.
The script also checks what a label can get wrong by hand: card numbers pass Luhn, IBANs pass
mod-97, and every span starts and ends on a word boundary.

    python3 tests/data/pii-fresh/make_fresh.py            # rewrite fresh.jsonl
    python3 tests/data/pii-fresh/make_fresh.py --counts   # print counts per type and language
"""
import collections
import json
import os
import sys

P, A, D, B = "PERSON", "ADDRESS", "DATE", "DATE_OF_BIRTH"
E, T, I, C = "EMAIL", "PHONE", "IBAN", "CREDIT_CARD"

# (language, message, [(type, substring), ...]); an empty list is a message without personal data.
ENGLISH = [
    ("en", "Hi, my name is priya and I just moved to Leeds for work. Can you suggest how to find a GP nearby?",
     [(P, "priya"), (A, "Leeds")]),
    ("en", "Can you polish this email before I send it: 'Hi team, the slides for Monday are attached, shout if anything is missing. Thanks a lot, Jurgen'",
     [(P, "Jurgen")]),
    ("en", "Write a short birthday message for my colleague Rose, she's turning 40 on Friday and loves gardening.",
     [(P, "Rose")]),
    ("en", "My daughter Hope starts kindergarten next week and she's super nervous. Any tips for the first morning?",
     [(P, "Hope")]),
    ("en", "Will and I are planning a trip to Iceland in March, what should we pack?",
     [(P, "Will")]),
    ("en", "Can you help me reply to Mark? He wants the budget numbers by Thursday and I don't have them yet.",
     [(P, "Mark")]),
    ("en", "I was born 4 Feb 1987. How many days old am I today, roughly?",
     [(B, "4 Feb 1987")]),
    ("en", "DOB 1990-07-03, 172 cm, 68 kg. What's my BMI and is that in the normal range?",
     [(B, "1990-07-03")]),
    ("en", "Please fill this form out for me. Name: Daniel Okafor, Address: 1842 Maple Grove Rd, Apt 3B, Columbus, OH 43215, Phone: (614) 555-0187",
     [(P, "Daniel Okafor"), (A, "1842 Maple Grove Rd, Apt 3B"), (T, "(614) 555-0187")]),
    ("en", "Our new place is Flat 2, 47 Harrow Lane, Sheffield S7 1AB. How do I register for council tax?",
     [(A, "Flat 2, 47 Harrow Lane")]),
    ("en", "I relocated to Tampere last autumn and I still can't figure out the bus app, is there an English version?",
     [(A, "Tampere")]),
    ("en", "I'm originally from Ibadan but I've lived in Manchester for ten years now. Does that change anything for my visa renewal?",
     [(A, "Ibadan"), (A, "Manchester")]),
    ("en", "email my landlord at k.brennan@outlook.com and tell him the boiler is broken again, keep it firm but polite",
     [(E, "k.brennan@outlook.com")]),
    ("en", "Draft a complaint to Dr. Okonkwo's practice: my appointment on 14 March 2025 was cancelled with no notice at all.",
     [(P, "Okonkwo"), (D, "14 March 2025")]),
    ("en", "Translate into Japanese for Mrs. Tanaka: 'We look forward to seeing you at our office on 2025-05-19.'",
     [(P, "Tanaka"), (D, "2025-05-19")]),
    ("en", "My card 4539 1488 0343 6467 got charged twice by the airline. How do I dispute the second charge?",
     [(C, "4539 1488 0343 6467")]),
    ("en", "Here are the details for the deposit, can you write them up as a neat table? Account holder Fiona McAllister, IBAN GB79 BARC 2003 5347 2188 56",
     [(P, "Fiona McAllister"), (I, "GB79 BARC 2003 5347 2188 56")]),
    ("en", "Text me on +44 7700 900461 when the parcel arrives -- wait, you can't do that, can you? Write it as a note for the courier then.",
     [(T, "+44 7700 900461")]),
    ("en", "my boss chen xiaoling asked me to summarize this report by end of day, keep it under 200 words",
     [(P, "chen xiaoling")]),
    ("en", "Kim Min-jun and Park Ji-woo are presenting tomorrow. Write a two-sentence intro for each of them.",
     [(P, "Kim Min-jun"), (P, "Park Ji-woo")]),
    ("en", "How do I say 'happy anniversary, my love' in Korean? My wife Seo-yeon would be so surprised.",
     [(P, "Seo-yeon")]),
    ("en", "Our nanny Thandiwe Dlamini needs a reference letter. She worked for us from 1 June 2021 to 31 August 2024 and was wonderful with the twins.",
     [(P, "Thandiwe Dlamini"), (D, "1 June 2021"), (D, "31 August 2024")]),
    ("en", "I'm a nurse. Rewrite this handover note more clearly: pt Abebe Bekele, DOB 11/23/1958, penicillin allergy, BP stable overnight.",
     [(P, "Abebe Bekele"), (B, "11/23/1958")]),
    ("en", "Does this CV header look ok? Arjun Mehta | arjun.mehta92@gmail.com | +91 98765 43210 | Bengaluru",
     [(P, "Arjun Mehta"), (E, "arjun.mehta92@gmail.com"), (T, "+91 98765 43210"), (A, "Bengaluru")]),
    ("en", "My mom's address is 27 Nehru Street, Chennai 600017. How should I write it on an international courier form?",
     [(A, "27 Nehru Street")]),
    ("en", "I'm sending a gift to my host family at 2-14-7 Kichijoji Honcho, Musashino-shi, Tokyo 180-0004. What order do the address lines go in on the label?",
     [(A, "2-14-7 Kichijoji Honcho")]),
    ("en", "Yuki Watanabe from accounting keeps cc'ing me on every thread. How do I politely ask her to stop?",
     [(P, "Yuki Watanabe")]),
    ("en", "I need a cover letter. I'm Wang Lei, a data analyst living in Vancouver, applying for a junior BI role.",
     [(P, "Wang Lei"), (A, "Vancouver")]),
    ("en", "Hey, it's Omar again. Can we pick up where we left off on the lease summary?",
     [(P, "Omar")]),
    ("en", "My grandmother Layla Hassan was born on 2 January 1941 in Aleppo. Help me write a short biography for her family album.",
     [(P, "Layla Hassan"), (B, "2 January 1941"), (A, "Aleppo")]),
    ("en", "Book a table for Camila Rojas, party of 4, Saturday at 7pm. Actually just write me the message to send to the restaurant.",
     [(P, "Camila Rojas")]),
    ("en", "Valentina, my roommate, owes me $340 for utilities. How do I bring it up without it getting awkward?",
     [(P, "Valentina")]),
    ("en", "I'm Dmitri Volkov and I live at 88 Queen Street West, Apt 1204, Toronto. Does standard tenant insurance cover water damage from the unit above?",
     [(P, "Dmitri Volkov"), (A, "88 Queen Street West, Apt 1204")]),
    ("en", "Ivana Horvat asked me to proofread her thesis abstract. Can you check the grammar if I paste it?",
     [(P, "Ivana Horvat")]),
    ("en", "Why does this query return nothing? SELECT * FROM users WHERE email = 'maria.gonzalez@acme-corp.com';",
     [(E, "maria.gonzalez@acme-corp.com")]),
    ("en", "What should I say when I call the clinic at 212-555-0143 to ask whether Dr. Patel has any openings this month?",
     [(T, "212-555-0143"), (P, "Patel")]),
    ("en", "write a limerick about my friend bill who always forgets his keys",
     [(P, "bill")]),
    ("en", "My tenant Sunita Reddy moved out on 30 September 2024. How long do I have to return her deposit?",
     [(P, "Sunita Reddy"), (D, "30 September 2024")]),
    ("en", "I'll be at the Hilton in Lisbon from the 3rd, any dinner spots within walking distance?",
     [(A, "Lisbon")]),
    ("en", "We're based in Eindhoven now. Which international schools take kids mid-year?",
     [(A, "Eindhoven")]),
    ("en", "Currently living in Ann Arbor, moving to Austin in June. Make me a moving checklist.",
     [(A, "Ann Arbor"), (A, "Austin")]),
    ("en", "Hi, I'm Grace. I need help writing my wedding vows to Tomás, something funny but not too cheesy.",
     [(P, "Grace"), (P, "Tomás")]),
    ("en", "My aunt June is visiting from Cork next week, what can we do in town with a 70-year-old who hates walking?",
     [(P, "June"), (A, "Cork")]),
    ("en", "Summarize: 'Meeting notes 12/05/2024. Attendees: Sarah O'Neill, Rajesh Kumar, Ana Lima. Action: Rajesh to send the draft by Friday.'",
     [(D, "12/05/2024"), (P, "Sarah O'Neill"), (P, "Rajesh Kumar"), (P, "Ana Lima"), (P, "Rajesh")]),
    ("en", "Gift ideas for Noah? He's 7 and obsessed with dinosaurs and volcanoes.",
     [(P, "Noah")]),
    ("en", "My son Jaden Brooks got suspended today. Help me write an email to Principal Harris asking for a meeting.",
     [(P, "Jaden Brooks"), (P, "Harris")]),
    ("en", "Rent goes to Hannah Schmidt, IBAN DE24 3705 0299 0045 6128 73. Is that enough info for a transfer from a US bank?",
     [(P, "Hannah Schmidt"), (I, "DE24 3705 0299 0045 6128 73")]),
    ("en", "my cc is 5425 2334 3010 9903 exp 04/27, is it safe to type it into a site that doesn't show the padlock?",
     [(C, "5425 2334 3010 9903")]),
    ("en", "Is 3782 822463 10005 the right grouping for an Amex number when I type it into a form?",
     [(C, "3782 822463 10005")]),
    ("en", "Reminder for me: dentist on 2025-11-04 at 10:30, Dr. Lindqvist, 555 Elm Street Suite 210. Turn it into a calendar entry.",
     [(D, "2025-11-04"), (P, "Lindqvist"), (A, "555 Elm Street Suite 210")]),
    ("en", "Hello! My name's Mohammed Al-Farsi and I'm applying for a master's in public health. Could you proofread my statement?",
     [(P, "Mohammed Al-Farsi")]),
    ("en", "i'm kofi, 23, from Kumasi, and i want to learn python from scratch. where do i start?",
     [(P, "kofi"), (A, "Kumasi")]),
    ("en", "The parcel needs to go to 221 Oakwood Drive, Unit 5, not the office. How do I change that in the order?",
     [(A, "221 Oakwood Drive, Unit 5")]),
    ("en", "As requested, my details: Emily Carter, born 19/08/1995, emily.carter@protonmail.com. Put them in the header of the application.",
     [(P, "Emily Carter"), (B, "19/08/1995"), (E, "emily.carter@protonmail.com")]),
    ("en", "Write a short toast for Aisha and Tunde's wedding, they've been together since their first year at uni.",
     [(P, "Aisha"), (P, "Tunde")]),
    ("en", "My coworker Nguyen Thi Mai wants to know how a Roth IRA works. Can you explain it simply so I can forward it?",
     [(P, "Nguyen Thi Mai")]),
    ("en", "How do I fit this into a US-style address form: 17 Rue Oberkampf, 75011 Paris, France?",
     [(A, "17 Rue Oberkampf")]),
    ("en", "Send the invoice to accounts@brightleaf-design.co.uk and copy in Liam Doherty, he approves anything over 5k.",
     [(E, "accounts@brightleaf-design.co.uk"), (P, "Liam Doherty")]),
    ("en", "Elena was born on the 22nd of October 1990. Which day of the week was that?",
     [(P, "Elena"), (B, "22nd of October 1990")]),
    ("en", "The passport office printed the wrong date of birth: it should read 07 Sep 1976, not 09 Jul 1976. What form fixes that?",
     [(B, "07 Sep 1976"), (B, "09 Jul 1976")]),
    ("en", "Is my son's vaccine schedule right? Leo, DOB: 2023-02-14, had his 2-month shots on 2023-04-18.",
     [(P, "Leo"), (B, "2023-02-14"), (D, "2023-04-18")]),
    ("en", "Landlord's number is 020 7946 0321, he's called Mr Ahmed and he hasn't fixed the damp in 3 months. What are my options?",
     [(T, "020 7946 0321"), (P, "Ahmed")]),
    ("en", "Tell me a clean joke I can send to Will. He's had a rough week at the hospital.",
     [(P, "Will")]),
    ("en", "Is it rude to call my manager Hope by her first name in an email to her boss?",
     [(P, "Hope")]),
    ("en", "My teacher, Ms. Folake Adebayo-Smith, wants a note explaining my absence on 9 January 2025. Can you write one my dad can sign?",
     [(P, "Folake Adebayo-Smith"), (D, "9 January 2025")]),
    ("en", "We live at 4 Kingfisher Close, Nottingham. Which bin goes out this Wednesday, green or black?",
     [(A, "4 Kingfisher Close")]),
    ("en", "I'm staying with my cousin in Mombasa until the end of the month, is it safe to drink the tap water?",
     [(A, "Mombasa")]),
    ("en", "my phone is 07700 900812 and my email is tom.h.fraser@yahoo.co.uk, fill both into this contact card template",
     [(T, "07700 900812"), (E, "tom.h.fraser@yahoo.co.uk")]),
    ("en", "Help me address a formal letter to Professor Hiroshi Yamamoto at Kyoto University about a research visit.",
     [(P, "Hiroshi Yamamoto")]),
    ("en", "Reply to Lucía for me: she asked if the meeting on 5/6/2025 can move to the afternoon. Say yes, 3pm works.",
     [(P, "Lucía"), (D, "5/6/2025")]),
    ("en", "I'm Brianna, I just started at Target and my schedule says 6-2, does that mean 6am to 2pm?",
     [(P, "Brianna")]),
    ("en", "Make this more professional: 'yo dave, send me the q3 numbers asap'",
     [(P, "dave")]),
    ("en", "Jean-Baptiste Moreau and I are co-founding a startup. What should a founders' agreement cover?",
     [(P, "Jean-Baptiste Moreau")]),
    ("en", "Is this IBAN formatted right for a SEPA transfer? FR62 3000 3012 3400 0512 9874 512",
     [(I, "FR62 3000 3012 3400 0512 9874 512")]),
    ("en", "Ship to 350 West 42nd Street, Apt 7C, New York, NY 10036. Lay that out as a shipping label and leave the name line empty.",
     [(A, "350 West 42nd Street, Apt 7C")]),
    ("en", "Please write a reference for my student Zhang Wei, who got the top mark in my statistics course.",
     [(P, "Zhang Wei")]),
    ("en", "My father, Rahul Sharma (DOB 15-08-1962), needs travel insurance for a two-week trip. What should I look for?",
     [(P, "Rahul Sharma"), (B, "15-08-1962")]),
    ("en", "Chidi and Amaka are coming for dinner, one is vegan and the other can't eat gluten. Menu ideas?",
     [(P, "Chidi"), (P, "Amaka")]),
    ("en", "I moved to Halifax in 2022. Can I still deduct the moving expenses on this year's return?",
     [(A, "Halifax")]),
    ("en", "Shorten this: 'Hi all, quick reminder that the office is closed on Monday for the bank holiday. Cheers, Siobhan'",
     [(P, "Siobhan")]),
    ("en", "Rewrite this so it sounds less angry: 'Stop sending me these reports, I already said no twice. Rafael'",
     [(P, "Rafael")]),
    ("en", "I got a text from +1 415 555 0199 saying my package is on hold and I need to pay a fee. Scam?",
     [(T, "+1 415 555 0199")]),
    ("en", "hey it's marcus again, did you keep the notes from my essay outline?",
     [(P, "marcus")]),
    ("en", "How do you write the name Ahmad Karimi in Persian script?",
     [(P, "Ahmad Karimi")]),
    ("en", "my little brother ethan keeps losing at chess, teach me a simple opening to show him",
     [(P, "ethan")]),
    ("en", "Pls write a sick note to school: Olivia Bennett (Year 4) was ill on Jan. 5th, 2026 and stayed home.",
     [(P, "Olivia Bennett"), (D, "Jan. 5th, 2026")]),
    ("en", "Fill in the insurance claim: policyholder Kwame Asante-Boateng, date of birth March 30, 1979, incident date 3rd of June, 2025.",
     [(P, "Kwame Asante-Boateng"), (B, "March 30, 1979"), (D, "3rd of June, 2025")]),
    ("en", "How would my pen pal in Spain expect my address to be written? It's 16 Wattle Crescent, Ballarat VIC 3350.",
     [(A, "16 Wattle Crescent")]),
    ("en", "We're a bit lost. My husband Sipho and I just got to Durban and the car rental desk is closed. What now?",
     [(P, "Sipho"), (A, "Durban")]),
    ("en", "Can you make an acrostic poem out of the name Mei Ling for her graduation card?",
     [(P, "Mei Ling")]),
]

ENGLISH_CLEAN = [
    ("en", "Will it rain this afternoon if the pressure keeps dropping? I'm curious how barometers actually work.", []),
    ("en", "I hope the rose bushes bloom again after I pruned them so hard in November.", []),
    ("en", "Mark every cell in column B above 4.5 in yellow. What's the conditional formatting rule?", []),
    ("en", "npm audit says lodash 4.17.20 has a prototype pollution issue. Is 4.17.21 a drop-in upgrade?", []),
    ("en", "Windows 10 build 10.0.19045 keeps failing KB5034441 with error 0x80070643. Any fix that doesn't need a reinstall?", []),
    ("en", "Our plugin is at v2.3.1.4 and the changelog is a mess. Suggest a format we could switch to.", []),
    ("en", "Order 4829173650 still says processing after nine days. Is that normal?", []),
    ("en", "The tracking number 1Z999AA10123456784 hasn't updated since Tuesday, who do I contact?", []),
    ("en", "Is $1,299.99 a fair price for a 65-inch OLED TV or should I wait for the sales?", []),
    ("en", "What's the difference between ISBN 978-0-306-40615-7 and 0-306-40615-2? Same book?", []),
    ("en", "Paris is the capital of France, but which city was the capital before it?", []),
    ("en", "How can the 14:32 train from Zurich to Milan take under four hours through the mountains?", []),
    ("en", "Can I grant read access to a Google Drive folder without giving edit rights?", []),
    ("en", "Is part number BN44-00932C compatible with a UN55TU7000 TV?", []),
    ("en", "The standup moved from 10:15 to 11:45. How do I update the whole Outlook series at once?", []),
    ("en", "What's 17.5% of 2,340, and then 20% VAT on top of that?", []),
    ("en", "Should I use Python 3.12.1 or stay on 3.11.7 for TensorFlow 2.15?", []),
    ("en", "Summer in Seville is brutally hot. Which month is the best compromise for visiting Andalusia?", []),
    ("en", "Is it true that Sydney isn't the capital of Australia?", []),
    ("en", "Where are the jacking points on a 2015 Civic? I want to jack it up to swap the tyres.", []),
    ("en", "Invoice INV-2024-00871 totals 3,450.00 EUR but the line items only add up to 3,405.00. Where's the mistake likely?", []),
    ("en", "Router firmware V1.1.4 Build 20230912 Rel.61204 keeps dropping 5 GHz. Is there a newer one?", []),
    ("en", "Column A has 10-digit codes like 5012345678 and Excel turns them into 5.01E+09. How do I stop it?", []),
    ("en", "Rosemary or thyme for a roast leg of lamb?", []),
    ("en", "My flight is at 06:40 and bag drop closes 45 minutes before. The drive takes 55 minutes, when do I leave?", []),
    ("en", "The serial on the box is SN-7H3K-92QX-0041. Is that what the warranty page means by product ID?", []),
    ("en", "How many calories are in 250 g of cooked basmati rice?", []),
    ("en", "Will and shall: is there still a difference in British English?", []),
    ("en", "My score went from 1180 to 1450 after two months of practice. Is 1500 realistic by May?", []),
    ("en", "What does HTTP status 429 mean and how long should the client back off?", []),
]

GERMAN = [
    ("de", "Hallo, ich bin Jürgen Wagner und wohne jetzt in Fulda. Wie melde ich meinen Wohnsitz um?",
     [(P, "Jürgen Wagner"), (A, "Fulda")]),
    ("de", "Bitte formuliere eine Kündigung für meine Wohnung in der Lindenstraße 14, 36037 Fulda, zum 31.03.2025.",
     [(A, "Lindenstraße 14"), (D, "31.03.2025")]),
    ("de", "Geb. 12.03.1979 in Chemnitz, verheiratet, zwei Kinder. Schreibt man das heute noch so in den Lebenslauf?",
     [(B, "12.03.1979"), (A, "Chemnitz")]),
    ("de", "Kannst du Frau Dr. Schneider kurz schreiben, dass ich am 4. November 2025 leider nicht kommen kann?",
     [(P, "Schneider"), (D, "4. November 2025")]),
    ("de", "Meine IBAN ist DE97 1203 0000 1034 5678 92, reicht das für eine Überweisung aus der Schweiz oder brauche ich noch den BIC?",
     [(I, "DE97 1203 0000 1034 5678 92")]),
    ("de", "Mach mir eine E-Mail-Signatur: Lena Hoffmann, Tel. 0151 23456789, lena.hoffmann@gmx.de",
     [(P, "Lena Hoffmann"), (T, "0151 23456789"), (E, "lena.hoffmann@gmx.de")]),
    ("de", "Mein Sohn Emil ist am 02.08.2019 geboren. Ab wann muss er in die Schule?",
     [(P, "Emil"), (B, "02.08.2019")]),
    ("de", "Kannst du das kürzer machen? 'Liebe Grüße und danke für alles, was ihr für uns getan habt, eure Ayşe'",
     [(P, "Ayşe")]),
    ("de", "Meine Oma Hildegard Krause zieht ins Pflegeheim in der Berliner Str. 45a in Kassel. Was muss ich alles ummelden?",
     [(P, "Hildegard Krause"), (A, "Berliner Str. 45a")]),
    ("de", "Ich bin gerade in Rostock und suche eine Apotheke, die sonntags offen hat.",
     [(A, "Rostock")]),
    ("de", "Herr Nowak aus der Buchhaltung will die Belege bis Freitag. Wie sage ich ihm, dass das knapp wird?",
     [(P, "Nowak")]),
    ("de", "Wir sind letztes Jahr nach Freiburg gezogen, welcher Stromanbieter ist dort günstig?",
     [(A, "Freiburg")]),
    ("de", "Schreib eine Glückwunschkarte für Tobias und Mehmet zur Hochzeit, gerne etwas locker.",
     [(P, "Tobias"), (P, "Mehmet")]),
]

GERMAN_CLEAN = [
    ("de", "Die Rose auf meinem Balkon hat Blattläuse. Was hilft ohne Chemie?", []),
    ("de", "Bestellnummer 3018472956 wurde storniert, aber das Geld ist nach zwei Wochen immer noch nicht zurück.", []),
    ("de", "Das Update auf Version 2.14.3 bricht mit Fehlercode 0xC1900101 ab, was bedeutet das?", []),
    ("de", "Ist Berlin auch flächenmäßig größer als Hamburg?", []),
]

FRENCH = [
    ("fr", "Je m'appelle Camille Lefèvre et j'habite au 8 rue des Tanneurs, 67000 Strasbourg. Tu peux relire ma lettre de motivation ?",
     [(P, "Camille Lefèvre"), (A, "8 rue des Tanneurs")]),
    ("fr", "Comment écrire « née le 14 juillet 1992 » dans un CV en anglais ?",
     [(B, "14 juillet 1992")]),
    ("fr", "Mon numéro c'est le 06 12 48 93 57, tu peux me le mettre au format international ?",
     [(T, "06 12 48 93 57")]),
    ("fr", "Corrige mon message : « Salut Thomas, je t'envoie les photos demain. Bisous, Amélie »",
     [(P, "Thomas"), (P, "Amélie")]),
    ("fr", "Je me suis installée à Nantes il y a deux mois et je cherche un club de volley pour adultes.",
     [(A, "Nantes")]),
    ("fr", "Mon rendez-vous à la préfecture est le 03/02/2026, quels papiers dois-je apporter ?",
     [(D, "03/02/2026")]),
    ("fr", "Écris un mot d'excuse pour ma fille Inès Benali, absente le 12 mars 2025 pour une otite.",
     [(P, "Inès Benali"), (D, "12 mars 2025")]),
    ("fr", "Mon IBAN c'est FR62 3000 3012 3400 0512 9874 512, c'est normal qu'il ait 27 caractères ?",
     [(I, "FR62 3000 3012 3400 0512 9874 512")]),
    ("fr", "Comment dire à M. Mamadou Diallo que sa haie dépasse chez nous sans le vexer ?",
     [(P, "Mamadou Diallo")]),
    ("fr", "Je suis originaire de Douala et je vis maintenant à Lille, est-ce que je peux garder mon compte bancaire camerounais ?",
     [(A, "Douala"), (A, "Lille")]),
    ("fr", "Ajoute à ma signature : jeanne.roux@orange.fr, +33 6 71 22 40 98",
     [(E, "jeanne.roux@orange.fr"), (T, "+33 6 71 22 40 98")]),
    ("fr", "Mon grand-père Lucien est né le 1er avril 1938, ça fait quel âge à son prochain anniversaire ?",
     [(P, "Lucien"), (B, "1er avril 1938")]),
]

FRENCH_CLEAN = [
    ("fr", "Paris est-elle vraiment plus peuplée que Marseille si on compte l'agglomération ?", []),
    ("fr", "La facture n° 2024-1187 indique 149,90 € TTC, combien fait la TVA à 20 % ?", []),
    ("fr", "Pierre qui roule n'amasse pas mousse : que veut dire ce proverbe exactement ?", []),
]

SPANISH = [
    ("es", "Fecha de nac.: 03/07/1990. ¿Cómo lo pongo en el formulario de la embajada, que pide mes/día/año?",
     [(B, "03/07/1990")]),
    ("es", "Me llamo Alejandro Ruiz y vivo en Calle de Toledo 48, 2º izda., Madrid. ¿Me ayudas con una reclamación a la compañía del gas?",
     [(P, "Alejandro Ruiz"), (A, "Calle de Toledo 48, 2º izda.")]),
    ("es", "Mi hija Lucía nació el 5 de mayo de 2018, ¿qué vacunas le tocan ahora?",
     [(P, "Lucía"), (B, "5 de mayo de 2018")]),
    ("es", "Acabo de mudarme a Valparaíso y no conozco a nadie, ¿cómo hago amigos a los 30?",
     [(A, "Valparaíso")]),
    ("es", "Escríbele a la señora Carmen Ortega que la reunión pasa al 17/10/2025, con un tono formal.",
     [(P, "Carmen Ortega"), (D, "17/10/2025")]),
    ("es", "Mi número es +34 612 34 56 78, ¿cómo lo escribo en un formulario de Estados Unidos?",
     [(T, "+34 612 34 56 78")]),
    ("es", "Revisa esta nota: 'Te dejo las llaves debajo de la maceta. Un abrazo, Marisol'",
     [(P, "Marisol")]),
    ("es", "Soy de Guadalajara pero vivo en Monterrey desde 2019, ¿dónde renuevo la credencial?",
     [(A, "Guadalajara"), (A, "Monterrey")]),
    ("es", "Me rechazan la tarjeta 4916 3385 0608 2832 en la web del hotel, ¿puede ser por el 3D Secure?",
     [(C, "4916 3385 0608 2832")]),
    ("es", "Mi jefe, Santiago Herrera, quiere el informe el lunes. Ayúdame a pedirle un día más.",
     [(P, "Santiago Herrera")]),
    ("es", "¿Está bien escrito mi IBAN ES60 0049 1500 0512 3456 7892 para cobrar la nómina?",
     [(I, "ES60 0049 1500 0512 3456 7892")]),
    ("es", "mi novia se llama ximena y cumple años el sábado, ¿qué le regalo?",
     [(P, "ximena")]),
]

SPANISH_CLEAN = [
    ("es", "Tengo dolores de cabeza cuando paso mucho rato delante de la pantalla, ¿qué puede ser?", []),
    ("es", "El pedido 7730219845 llegó incompleto, ¿cómo redacto la queja a la tienda?", []),
    ("es", "¿Madrid o Barcelona tiene mejor transporte público?", []),
]

ITALIAN = [
    ("it", "Mi chiamo Giulia Bianchi e abito in Via Garibaldi 23 a Torino: mi aiuti a scrivere una lettera all'amministratore di condominio?",
     [(P, "Giulia Bianchi"), (A, "Via Garibaldi 23")]),
    ("it", "Sono nato il 21/11/1983, quanti anni avrò nel 2030?",
     [(B, "21/11/1983")]),
    ("it", "Mi sono trasferito a Trieste per lavoro e cerco un corso di sloveno serale.",
     [(A, "Trieste")]),
    ("it", "Puoi scrivere alla Sig.ra Francesca Romano che la consegna arriverà il 9 aprile 2025?",
     [(P, "Francesca Romano"), (D, "9 aprile 2025")]),
    ("it", "Metti nel modulo il mio cellulare, 347 812 4569, e la mail l.ricci@libero.it",
     [(T, "347 812 4569"), (E, "l.ricci@libero.it")]),
    ("it", "Sistemami questa mail: 'Ciao Marco, ti mando il preventivo entro stasera. A presto, Lorenzo'",
     [(P, "Marco"), (P, "Lorenzo")]),
    ("it", "Data di nascita: 08-02-1971. Cos'altro serve per rinnovare la carta d'identità?",
     [(B, "08-02-1971")]),
    ("it", "Il mio IBAN è IT23 X030 6909 6061 0000 0063 178, come lo comunico al datore di lavoro?",
     [(I, "IT23 X030 6909 6061 0000 0063 178")]),
    ("it", "Mia nonna Assunta vive da sola a Matera e non vuole la badante, come ne parlo con lei?",
     [(P, "Assunta"), (A, "Matera")]),
]

ITALIAN_CLEAN = [
    ("it", "Roma è davvero costruita su sette colli?", []),
    ("it", "Il codice prodotto 8051234567890 sulla scatola è un EAN valido?", []),
    ("it", "La versione 3.8.2 dell'app si blocca all'avvio su Android 14, cosa posso provare?", []),
]

DUTCH = [
    ("nl", "Ik woon op de Oudegracht 231 in Utrecht, in welke container moet glas?",
     [(A, "Oudegracht 231")]),
    ("nl", "Mijn naam is Sanne de Vries en ik zoek een huisarts die nog patiënten aanneemt.",
     [(P, "Sanne de Vries")]),
    ("nl", "Vul voor mij in: geboren op 17-06-1988 te Zwolle, nationaliteit Nederlands.",
     [(B, "17-06-1988"), (A, "Zwolle")]),
    ("nl", "We zijn net verhuisd naar Groningen, hoe vraag ik een parkeervergunning aan?",
     [(A, "Groningen")]),
    ("nl", "Herinner me eraan Joost van den Berg morgen te bellen op 06-48213957.",
     [(P, "Joost van den Berg"), (T, "06-48213957")]),
    ("nl", "Kun je een kort bedankje schrijven voor juf Fatma? Ze gaat met pensioen.",
     [(P, "Fatma")]),
    ("nl", "Klopt dit rekeningnummer voor de huur: NL61 RABO 0314 7258 36?",
     [(I, "NL61 RABO 0314 7258 36")]),
    ("nl", "Mijn afspraak bij de tandarts is op 12 januari 2026, zet je dat in een herinnering?",
     [(D, "12 januari 2026")]),
]

DUTCH_CLEAN = [
    ("nl", "Is Amsterdam nou de hoofdstad, of Den Haag?", []),
    ("nl", "Mijn pakket met trackingcode 3SABCD1234567 staat al een week op 'onderweg'.", []),
    ("nl", "Hoeveel kost 2,5 kilo appels als een kilo 2,49 euro is?", []),
]

PORTUGUESE = [
    ("pt", "Moro em Coimbra desde o ano passado e ainda não tenho médico de família. Como peço um?",
     [(A, "Coimbra")]),
    ("pt", "Chamo-me João Pereira e moro na Rua das Flores, 72, 4.º Esq., no Porto. Podes rever esta reclamação?",
     [(P, "João Pereira"), (A, "Rua das Flores, 72, 4.º Esq.")]),
    ("pt", "Nasci em 25/12/1994, posso pedir o passaporte online?",
     [(B, "25/12/1994")]),
    ("pt", "O meu telemóvel é +351 912 345 678, põe isso no cabeçalho do currículo.",
     [(T, "+351 912 345 678")]),
    ("pt", "Escreve uma mensagem de parabéns para a Inês Carvalho, ela acabou o doutoramento.",
     [(P, "Inês Carvalho")]),
    ("pt", "Estou morando em Curitiba agora e preciso de um dentista que atenda sábado.",
     [(A, "Curitiba")]),
    ("pt", "Revisa: 'Pessoal, obrigado pela festa de despedida, vou sentir saudades. Abraço, Tiago'",
     [(P, "Tiago")]),
    ("pt", "Minha consulta é no dia 14 de agosto de 2025, o que levo?",
     [(D, "14 de agosto de 2025")]),
    ("pt", "Meu e-mail é ana.souza88@hotmail.com, pode escrever a resposta para o banco com ele?",
     [(E, "ana.souza88@hotmail.com")]),
]

PORTUGUESE_CLEAN = [
    ("pt", "Lisboa é mais antiga que Roma?", []),
    ("pt", "O pedido nº 5567128390 ainda não foi enviado, é normal demorar tanto?", []),
    ("pt", "A versão 1.22.4 do aplicativo tem um bug no login, já corrigiram?", []),
]

POLISH = [
    ("pl", "Nazywam się Małgorzata Wiśniewska i mieszkam w Gdańsku. Pomożesz mi napisać podanie o urlop?",
     [(P, "Małgorzata Wiśniewska"), (A, "Gdańsku")]),
    ("pl", "Mój adres to ul. Mickiewicza 12/4, 30-059 Kraków. Jak to zapisać na paczce za granicę?",
     [(A, "ul. Mickiewicza 12/4")]),
    ("pl", "Urodziłem się 3 marca 1985, ile lat składkowych potrzebuję do emerytury?",
     [(B, "3 marca 1985")]),
    ("pl", "Mój numer to +48 512 345 678, dopisz go do ogłoszenia o sprzedaży roweru.",
     [(T, "+48 512 345 678")]),
    ("pl", "Napisz podziękowanie dla pani Krystyny Zając za opiekę nad dziećmi.",
     [(P, "Krystyny Zając")]),
    ("pl", "Przeprowadziłam się do Wrocławia i szukam dobrego fryzjera.",
     [(A, "Wrocławia")]),
    ("pl", "data urodzenia: 1979-11-30. Czy to wystarczy do formularza w przychodni?",
     [(B, "1979-11-30")]),
    ("pl", "Czy ten numer konta jest dobry do przelewu SEPA: PL68 2490 2000 3000 0045 1827 6632?",
     [(I, "PL68 2490 2000 3000 0045 1827 6632")]),
    ("pl", "Popraw: 'Cześć Ania, jutro nie dam rady przyjść. Pozdrawiam, Kuba'",
     [(P, "Ania"), (P, "Kuba")]),
]

POLISH_CLEAN = [
    ("pl", "Czy Warszawa jest większa od Krakowa pod względem powierzchni?", []),
    ("pl", "Numer zamówienia 6102938475, jak sprawdzić jego status?", []),
    ("pl", "Wersja 5.4.12 ma błąd przy logowaniu, czy jest już poprawka?", []),
]

TURKISH = [
    ("tr", "Benim adım Ayşe Yılmaz, Antalya'da yaşıyorum. Bana bir özgeçmiş taslağı hazırlar mısın?",
     [(P, "Ayşe Yılmaz"), (A, "Antalya")]),
    ("tr", "Adresim Bağdat Cad. No: 154 D: 7, Kadıköy. Kargo formuna nasıl yazmalıyım?",
     [(A, "Bağdat Cad. No: 154 D: 7")]),
    ("tr", "Doğum tarihim 14.05.1993, emekliliğime kaç yıl var?",
     [(B, "14.05.1993")]),
    ("tr", "Telefonum 0532 418 27 63, bunu uluslararası formatta yazar mısın?",
     [(T, "0532 418 27 63")]),
    ("tr", "Mehmet Kaya Bey'e kısa bir teşekkür mesajı yaz, bize taşınmada çok yardım etti.",
     [(P, "Mehmet Kaya")]),
    ("tr", "Geçen ay Ankara'ya taşındım, ikametgahımı nasıl değiştiririm?",
     [(A, "Ankara")]),
    ("tr", "Randevum 3 Ekim 2025 tarihinde, hatırlatma metni yazar mısın?",
     [(D, "3 Ekim 2025")]),
    ("tr", "IBAN'ım TR33 0006 1005 1978 6457 8413 26, maaş için işverene böyle mi göndereyim?",
     [(I, "TR33 0006 1005 1978 6457 8413 26")]),
    ("tr", "Şu mesajı düzelt: 'Sevgili Elif, doğum günün kutlu olsun! Sevgiler, Burak'",
     [(P, "Elif"), (P, "Burak")]),
]

TURKISH_CLEAN = [
    ("tr", "Deniz kenarında yürümek tansiyona iyi gelir mi?", []),
    ("tr", "Sipariş numarası 8827364510 olan kargom nerede kaldı?", []),
    ("tr", "İstanbul Türkiye'nin başkenti mi, yoksa Ankara mı?", []),
]

SWEDISH = [
    ("sv", "Jag heter Linnea Johansson och bor på Storgatan 21 i Umeå. Kan du hjälpa mig skriva till hyresvärden?",
     [(P, "Linnea Johansson"), (A, "Storgatan 21")]),
    ("sv", "Född 1991-04-09, hur många år har jag kvar till pension?",
     [(B, "1991-04-09")]),
    ("sv", "Mitt nummer är 070-123 45 67, skriv det i internationellt format.",
     [(T, "070-123 45 67")]),
    ("sv", "Jag har flyttat till Luleå och behöver vinterdäck, vilka är bäst?",
     [(A, "Luleå")]),
    ("sv", "Förkorta det här: 'Tack så mycket för middagen i lördags, det var jättetrevligt. Kram, Björn'",
     [(P, "Björn")]),
    ("sv", "Min tandläkartid är den 2 december 2025, kan du skriva en påminnelse?",
     [(D, "2 december 2025")]),
    ("sv", "Skicka svaret till erik.lindqvist@telia.se och be om en ny tid.",
     [(E, "erik.lindqvist@telia.se")]),
    ("sv", "Är mitt IBAN rätt skrivet: SE42 3000 0000 0381 6452 9071?",
     [(I, "SE42 3000 0000 0381 6452 9071")]),
    ("sv", "Min kollega Åsa Lindgren fyller femtio, skriv en rolig vers till kortet.",
     [(P, "Åsa Lindgren")]),
]

SWEDISH_CLEAN = [
    ("sv", "Varför sover björnen hela vintern?", []),
    ("sv", "Ordernummer 4410293857 har inte skickats än, vad ska jag skriva till butiken?", []),
    ("sv", "Stämmer det att Stockholm är byggt på fjorton öar?", []),
]

MESSAGES = (ENGLISH + ENGLISH_CLEAN + GERMAN + GERMAN_CLEAN + FRENCH + FRENCH_CLEAN
            + SPANISH + SPANISH_CLEAN + ITALIAN + ITALIAN_CLEAN + DUTCH + DUTCH_CLEAN
            + PORTUGUESE + PORTUGUESE_CLEAN + POLISH + POLISH_CLEAN + TURKISH + TURKISH_CLEAN
            + SWEDISH + SWEDISH_CLEAN)


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        x = int(ch) * (2 if i % 2 else 1)
        total += x - 9 if x > 9 else x
    return total % 10 == 0


def iban_ok(compact):
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def check_value(kind, value, text):
    compact = value.replace(" ", "")
    if kind == C:
        assert compact.isdigit() and luhn_ok(compact), (value, text)
    if kind == I:
        assert iban_ok(compact), (value, text)


def spans(text, entities):
    """Finds each substring after the previous one; returns UTF-8 byte offsets."""
    out, cursor = [], 0
    for kind, value in entities:
        start = text.find(value, cursor)
        assert start >= 0, f"{value!r} not found (in order) in {text!r}"
        end = start + len(value)
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        assert not before.isalnum() and not after.isalnum(), f"{value!r} is inside a word in {text!r}"
        check_value(kind, value, text)
        byte_start = len(text[:start].encode("utf-8"))
        byte_end = byte_start + len(value.encode("utf-8"))
        out.append({"type": kind, "start": byte_start, "end": byte_end})
        cursor = end
    return out


def print_counts():
    langs = collections.Counter()
    types = collections.Counter()
    per_lang_types = collections.defaultdict(collections.Counter)
    for lang, text, entities in MESSAGES:
        langs[(lang, bool(entities))] += 1
        for kind, _ in entities:
            types[kind] += 1
            per_lang_types[lang][kind] += 1
    total_pii = sum(n for (lang, pii), n in langs.items() if pii)
    print(f"messages {len(MESSAGES)}: with personal data {total_pii}, clean {len(MESSAGES) - total_pii}")
    for lang in dict.fromkeys(l for l, _, _ in MESSAGES):
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(per_lang_types[lang].items()))
        print(f"  {lang}: {langs[(lang, True)]} with, {langs[(lang, False)]} clean; {kinds}")
    print("entities " + str(sum(types.values())) + ": "
          + ", ".join(f"{k} {n}" for k, n in types.most_common()))


def main():
    texts = [text for _, text, _ in MESSAGES]
    assert len(texts) == len(set(texts)), "duplicate message"
    lines = []
    for _, text, entities in MESSAGES:
        row = {"text": text, "entities": spans(text, entities)}
        lines.append(json.dumps(row, ensure_ascii=False))
    if "--counts" in sys.argv[1:]:
        print_counts()
        return
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fresh.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} messages to {path}")


if __name__ == "__main__":
    main()
