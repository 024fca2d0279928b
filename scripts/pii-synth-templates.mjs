// Sentence templates of make-pii-synth-set.mjs. Slots: {P} given name + surname, {G} given name,
// {S} surname, {p} {g} the same in lower case (PERSON); {A} street line, {L} a town that locates a
// person (ADDRESS); {c} a town that does not, {Z} a postcode (unlabelled); {B} date of birth,
// {D} date; {V} version, {N} order/build/ticket number, {X} product, {K} company, {T} time,
// {H} commit hash, {M} {m} a month (also in lower case), {I} a version shaped like an IP address, {R} a capitalised name of no person
// (a brand, car, airline, book, dish, element, dog breed, country, made-up product) (unlabelled). A template starting
// with ~ is chat: a third of its messages are written all in lower case.

const EN_PII = [
  'My name is {P} and I need help with my account.', '~hi, this is {G} from the front desk', '~{G} said the printer is broken again',
  'Please forward this to {P}.', 'Can you ask {G} to call me back?', 'I had lunch with {P} yesterday.',
  'Dear {P}, thank you for your order.', 'Best regards,\n{P}', '~thanks {g}!', '~ping {g} about the deploy',
  'Mr. {S} will join the meeting at {T}.', 'Ms. {S} approved the budget.', 'Dr. {S} is on call tonight.',
  '{P} is our new team lead.', 'The contract was signed by {P} and {P}.', '~my sister {G} lives in {L} now',
  'I live at {A}, {Z} {c}.', 'Ship it to {A}, {c} {Z}.', 'Our new address is {A}.', '~we moved to {L} last year',
  "I'm based in {L}.", '~i grew up in {L} but now i live in {L}', 'Send the keys to {P}, {A}.', "I'm from {L}, originally.",
  'I was born on {B}.', 'Date of birth: {B}', 'Patient: {P}, DOB {B}', "{P}'s birthday is {B}.",
  'The appointment is on {D}.', 'Name: {P}\nAddress: {A}\n{Z} {c}', '~{g} and {g} are coming to the party',
  'Tell {G} that the report is ready.', 'Invite {P} to the review.', "I'm meeting {G} {S} at the station.",
  'Happy birthday, {G}!', 'Congratulations to {P} on the promotion.', 'Who is {P}?', 'Thanks, {G}. I will check.',
  "{G}'s laptop needs a new battery.", 'According to {P}, the numbers are fine.', '~met {p} at the gym today',
  'Please contact {P} at the reception.', 'Hey {G}, are you free tomorrow?', 'We stayed with {G} in {L} for a week.',
  '{P} and I will be late.', '~{g} {s} is in the lobby', '~just talked to {g}, all good', '~{g} says hi', 'Lunch with {G} and {G}?',
  '{S} will take over the project.', '~i live in {l} now', '~moving to {l} next month!', 'Coffee with {P} tomorrow.', '~is {g} around?',
  'Our office moved, my desk is now at {A}.', '~can you pick me up at {A}?', 'Deliver to: {A}, {Z} {c}',
];
const EN_CLEAN = [
  'Version {V} fixes the memory leak.', 'Build {N} failed on the release branch.', 'Order {N} was shipped on time.',
  'Upgrade to {V} before Friday.', 'The {X} is back in stock.', '{K} reported strong results this quarter.',
  'Ticket {N}: login page times out after {T}.', 'Commit {H} broke the tests.', 'Set the version to {I} in the manifest.',
  '~can someone review the PR for {V}?', 'The standup moves to {T} tomorrow.', 'Is {c} worth visiting in spring?',
  'What is the population of {c}?', 'Please restart the server after installing {V}.', 'Invoice {N} is overdue.',
  'The new {X} has a better battery.', 'Release Notes for {V}', 'Meeting Agenda: Budget, Hiring, Roadmap',
  '~lol that build took forever', 'Press Enter to continue.', 'The Board meets on Monday.', 'Use Python 3.12 with Node 20.',
  'Download the Windows installer from the Downloads page.', 'Amazon Web Services raised prices again.',
  'The weather in {c} will be rainy.', 'Our {c} office closes at {T} on Fridays.', 'Tracking number {N} shows no update.',
];
// Things that are not people in the places of people, and towns that locate no one.
const EN_NOT_PERSON = [
  'Ask {R} support about the refund.', 'I emailed {R} yesterday but got no answer.', '{R} said the outage is fixed.',
  'Thanks to {R} for sponsoring the meetup.', 'We switched from {R} to {R} last month.', 'Invite {R} to the channel.',
  '~has anyone tried {R}?', 'Meeting with {R} at {T} about the contract.', 'Can you forward this to {R}?', "{R}'s new release looks great.",
  'Hi team, {R} is down again.', 'Regards,\nThe {R} Team', 'Dear {R} customer, your order {N} has shipped.', 'I love {R}.',
  'Reminder: {R} renewal is due.', 'We are hiring at {R}!', 'Flights to {c} are cheaper in May.', 'Notes from the {R} workshop',
  '{R} and {R} are partners now.', 'My favourite is {R}.', 'I bought a {R} last week.', '~{r} keeps crashing on my laptop',
  'The {c} branch reported record sales.', 'Read chapter 3 of {R} before Monday.', 'I ordered the {R} with fries.',
];
const OTHER_NOT_PERSON = [
  'Frag mal beim {R} Support nach.', 'Ich habe {R} gestern geschrieben.', '{R} hat das Update veröffentlicht.', 'Danke an {R} für das Sponsoring.',
  'Demande au support {R}.', "J'ai écrit à {R} hier.", '{R} a publié la mise à jour.', 'Merci à {R} pour le soutien.',
  'Pregunta al soporte de {R}.', 'Le escribí a {R} ayer.', '{R} publicó la actualización.', 'Gracias a {R} por el patrocinio.',
  'Chiedi al supporto di {R}.', 'Vraag het even aan {R} support.', 'Pergunte ao suporte da {R}.', 'Zapytaj wsparcie {R}.', '{R} destek ekibine sor.',
];
// Months and weekdays, some of them also names (April, May, June, August), in places of names.
const EN_CALENDAR = ['{M} is always our busiest month.', '{M} showers bring flowers.', 'See you in {M}!', 'The {M} release is delayed.',
  '{M} and {M} are the quietest months.', 'Sales in {M} were up.', '~{m} was a rough month tbh', 'Budget review: {M}, {M} and {M}.'];
export const CLEAN_SHARED = [...EN_NOT_PERSON, ...OTHER_NOT_PERSON, ...EN_CALENDAR,
  'docker pull nginx:{V}', 'npm install react@{V}', 'ERROR 500 at {T} (request {N})', 'SKU {N} / lot {N}',
  'Chrome {I} on Windows 11', 'Kernel {V}-generic, build {N}', 'git checkout {H} && make -j8', 'Firmware {I} released',
];

const DE_PII = [
  'Ich heiße {P} und habe eine Frage zur Rechnung.', '~hi, hier ist {G}', 'Mein Name ist {P}.', 'Frau {S} ist heute nicht im Büro.',
  'Herr {S} ruft morgen zurück.', 'Kannst du {G} fragen, ob das passt?', 'Viele Grüße\n{P}', 'Liebe {G}, danke für alles!',
  'Ich wohne in der {A}, {Z} {c}.', 'Meine Adresse: {A}, {Z} {c}', '~wir sind nach {L} gezogen', 'Ich komme aus {L}.',
  'Ich lebe seit drei Jahren in {L}.', 'Geboren am {B} in {c}.', 'Geburtsdatum: {B}', 'Der Termin ist am {D}.',
  '{P} hat den Vertrag unterschrieben.', 'Gestern habe ich mit {G} telefoniert.', '~sag {g} bitte bescheid',
  'Bitte schick das Paket an {P}, {A}, {Z} {c}.', 'Dr. {S} hat heute Sprechstunde.', '{G} und {G} kommen auch.',
  'Wir haben {G} {S} eingestellt.', 'Laut {P} ist alles in Ordnung.', 'Meine Schwester {G} wohnt jetzt in {L}.',
];
const DE_CLEAN = ['Im {M} ist hier wenig los.', '{M} und {M} sind ruhige Monate.',
  'Version {V} behebt den Fehler beim Login.', 'Bestellung {N} wurde versandt.', 'Der Build {N} ist fehlgeschlagen.',
  'Bitte auf {V} aktualisieren.', 'Das {X} ist wieder verfügbar.', '{K} hat neue Zahlen veröffentlicht.',
  'Die Besprechung beginnt um {T} Uhr.', 'Wie ist das Wetter in {c}?', 'Rechnungsnummer {N} ist offen.',
  'Das Update {I} ist ab sofort verfügbar.', 'Neue Funktionen in Version {V}', '~kann jemand den PR reviewen?',
];
const FR_PII = [
  "Je m'appelle {P} et j'ai un souci avec ma commande.", '~salut, c\'est {G}', 'Madame {S} est absente aujourd\'hui.',
  'Monsieur {S} vous rappellera demain.', 'Demande à {G} de m\'envoyer le fichier.', 'Cordialement,\n{P}',
  "J'habite au {A}, {Z} {c}.", 'Mon adresse : {A}, {Z} {c}', "~on a déménagé à {L}", "J'habite à {L} depuis deux ans.",
  'Je suis né le {B} à {c}.', 'Date de naissance : {B}', 'Le rendez-vous est le {D}.', '{P} a signé le contrat.',
  "J'ai déjeuné avec {P} hier.", 'Merci {G} pour ton aide !', 'Ma collègue {G} vit à {L}.', '{G} et {G} arrivent ce soir.',
  'Envoyez le colis à {P}, {A}, {Z} {c}.', 'Selon {P}, tout est prêt.', 'Bonjour {G}, tu es libre demain ?',
];
const FR_CLEAN = ['En {M}, le bureau est fermé.',
  'La version {V} corrige le bug.', 'La commande {N} a été expédiée.', 'Le build {N} a échoué.', 'Mettez à jour vers {V}.',
  'Le {X} est de nouveau disponible.', '{K} a publié ses résultats.', 'La réunion commence à {T}.', 'Quel temps fait-il à {c} ?',
  'Facture {N} en attente.', '~qqn peut relire la PR ?',
];
const ES_PII = [
  'Me llamo {P} y tengo un problema con mi pedido.', '~hola, soy {G}', 'La señora {S} no está hoy.', 'El señor {S} llamará mañana.',
  'Pregúntale a {G} si puede venir.', 'Saludos,\n{P}', 'Vivo en {A}, {Z} {c}.', 'Mi dirección es {A}, {Z} {c}.',
  '~nos mudamos a {L} el año pasado', 'Vivo en {L} desde 2019.', 'Soy de {L}.', 'Nací el {B} en {c}.', 'Fecha de nacimiento: {B}',
  'La cita es el {D}.', '{P} firmó el contrato.', 'Ayer comí con {P}.', 'Gracias, {G}!', 'Mi hermana {G} vive en {L}.',
  '{G} y {G} llegan mañana.', 'Envía el paquete a {P}, {A}, {Z} {c}.', 'Según {P}, todo está listo.',
];
const ES_CLEAN = ['En {M} la oficina cierra.',
  'La versión {V} corrige el error.', 'El pedido {N} fue enviado.', 'La compilación {N} falló.', 'Actualiza a {V}.',
  'El {X} vuelve a estar disponible.', '{K} publicó sus resultados.', 'La reunión empieza a las {T}.', '¿Qué tiempo hace en {c}?',
  'Factura {N} pendiente.',
];
const IT_PII = [
  'Mi chiamo {P} e ho un problema con il mio ordine.', '~ciao, sono {G}', 'La signora {S} oggi non c\'è.', 'Il signor {S} richiamerà domani.',
  'Chiedi a {G} se può venire.', 'Cordiali saluti,\n{P}', 'Abito in {A}, {Z} {c}.', 'Il mio indirizzo è {A}, {Z} {c}.',
  '~ci siamo trasferiti a {L}', 'Vivo a {L} da tre anni.', 'Sono nato il {B} a {c}.', 'Data di nascita: {B}', "L'appuntamento è il {D}.",
  '{P} ha firmato il contratto.', 'Ieri ho pranzato con {P}.', 'Grazie {G}!', 'Mia sorella {G} vive a {L}.',
];
const IT_CLEAN = [
  'La versione {V} risolve il problema.', "L'ordine {N} è stato spedito.", 'La build {N} è fallita.', 'Aggiorna a {V}.',
  'Il {X} è di nuovo disponibile.', '{K} ha pubblicato i risultati.', 'La riunione inizia alle {T}.', 'Che tempo fa a {c}?',
];
const NL_PII = [
  'Mijn naam is {P} en ik heb een vraag.', '~hoi, met {G}', 'Mevrouw {S} is vandaag afwezig.', 'Meneer {S} belt morgen terug.',
  'Vraag {G} even of dat lukt.', 'Met vriendelijke groet,\n{P}', 'Ik woon op {A}, {Z} {c}.', 'Mijn adres is {A}, {Z} {c}.',
  '~we zijn verhuisd naar {L}', 'Ik woon sinds kort in {L}.', 'Ik kom uit {L}.', 'Geboren op {B} in {c}.', 'Geboortedatum: {B}',
  'De afspraak is op {D}.', '{P} heeft het contract getekend.', 'Gisteren heb ik met {P} gegeten.', 'Bedankt {G}!',
];
const NL_CLEAN = [
  'Versie {V} lost de fout op.', 'Bestelling {N} is verzonden.', 'Build {N} is mislukt.', 'Update naar {V}.',
  'De {X} is weer op voorraad.', '{K} heeft de cijfers gepubliceerd.', 'De vergadering begint om {T}.', 'Wat voor weer is het in {c}?',
];
const PT_PII = [
  'Meu nome é {P} e tenho uma dúvida.', '~oi, aqui é {G}', 'A senhora {S} não está hoje.', 'O senhor {S} vai ligar amanhã.',
  'Pergunte ao {G} se ele pode vir.', 'Atenciosamente,\n{P}', 'Moro na {A}, {Z} {c}.', 'Meu endereço é {A}, {Z} {c}.',
  '~a gente se mudou para {L}', 'Moro em {L} há dois anos.', 'Sou de {L}.', 'Nasci em {B} em {c}.', 'Data de nascimento: {B}',
  'A consulta é no dia {D}.', '{P} assinou o contrato.', 'Ontem almocei com {P}.', 'Obrigado, {G}!',
];
const PT_CLEAN = [
  'A versão {V} corrige o erro.', 'O pedido {N} foi enviado.', 'O build {N} falhou.', 'Atualize para {V}.',
  'O {X} voltou ao estoque.', '{K} publicou os resultados.', 'A reunião começa às {T}.', 'Como está o tempo em {c}?',
];
const PL_PII = [
  'Nazywam się {P} i mam pytanie.', '~cześć, tu {G}', 'Pani {S} jest dziś nieobecna.', 'Pan {S} oddzwoni jutro.',
  'Zapytaj {G}, czy może przyjść.', 'Pozdrawiam,\n{P}', 'Mieszkam przy {A}, {Z} {c}.', 'Mój adres to {A}, {Z} {c}.',
  '~przeprowadziliśmy się do {L}', 'Mieszkam w {L} od roku.', 'Jestem z {L}.', 'Urodziłem się {B} w {c}.', 'Data urodzenia: {B}',
  'Wizyta jest {D}.', '{P} podpisał umowę.', 'Dzięki, {G}!',
];
const PL_CLEAN = [
  'Wersja {V} naprawia błąd.', 'Zamówienie {N} zostało wysłane.', 'Build {N} się nie powiódł.', 'Zaktualizuj do {V}.',
  '{X} jest znowu dostępny.', '{K} opublikował wyniki.', 'Spotkanie zaczyna się o {T}.', 'Jaka jest pogoda w {c}?',
];
const TR_PII = [
  'Benim adım {P}, bir sorum var.', '~selam, ben {G}', '{S} Hanım bugün ofiste değil.', '{S} Bey yarın arayacak.',
  'Saygılarımla,\n{P}', 'Adresim: {A}, {Z} {c}', '~{L} şehrine taşındık', "{L}'da yaşıyorum.", 'Doğum tarihim {B}.',
  'Doğum tarihi: {B}', 'Randevu {D} tarihinde.', '{P} sözleşmeyi imzaladı.', 'Teşekkürler {G}!', 'Merhaba {G}, yarın müsait misin?',
];
const TR_CLEAN = [
  'Sürüm {V} hatayı düzeltiyor.', 'Sipariş {N} kargoya verildi.', 'Derleme {N} başarısız oldu.', '{V} sürümüne güncelleyin.',
  '{K} sonuçlarını açıkladı.', 'Toplantı {T} saatinde başlıyor.', '{c} hava durumu nasıl?',
];
// Names of Japanese, Chinese and Indian origin in English sentences.
const ASIAN_PII = [
  'My name is {P}.', '~hi, {G} here', 'Please ask {G} {S} to review this.', 'Mr. {S} will call you.', 'Ms. {S} approved it.',
  'Regards,\n{P}', 'I met {P} at the conference.', '{P} joined the team in March.', 'I live in {L}.', '~we moved to {L} in 2020',
  'Thanks, {G}!', 'Send it to {P}, {A}.', '{G} and {G} will present.', '~{g} is out sick today',
];

const T = {
  en: { pii: EN_PII, clean: EN_CLEAN }, gb: { pii: EN_PII.slice(0, 30), clean: EN_CLEAN.slice(0, 8) },
  in: { pii: ASIAN_PII, clean: [] }, ja: { pii: ASIAN_PII, clean: [] }, zh: { pii: ASIAN_PII, clean: [] },
  de: { pii: DE_PII, clean: DE_CLEAN }, fr: { pii: FR_PII, clean: FR_CLEAN }, es: { pii: ES_PII, clean: ES_CLEAN },
  it: { pii: IT_PII, clean: IT_CLEAN }, nl: { pii: NL_PII, clean: NL_CLEAN }, pt: { pii: PT_PII, clean: PT_CLEAN },
  pl: { pii: PL_PII, clean: PL_CLEAN }, tr: { pii: TR_PII, clean: TR_CLEAN },
};

// Frames: a cue before a slot and an ending after it, combined freely (each cue is in train or
// dev as a whole, so dev's cues are unseen). person: before a name; place: before a town that
// locates someone; elsewhere: before a town that does not.
export const FRAMES = {
  en: {
    person: ['I talked to', 'this is', 'my name is', 'ask', 'tell', 'cc', 'ping', 'say hi to', "I'm meeting", 'call', 'my colleague',
      'my boss', 'our neighbour', 'I was with', 'a message from', 'signed by', 'thanks', 'hi', 'hello', 'dear', 'my friend', 'I hired',
      'we invited', 'please welcome', 'the patient is', 'contact person:', 'my husband', 'my daughter', 'remind', 'I saw'],
    place: ['I live in', 'we moved to', "I'm based in", 'she lives in', 'we relocated to', 'I grew up in', "I'm from", 'currently living in',
      'just moved to', 'my home is in', 'our house is in', 'my parents live in', 'I was born in', 'we settled in', 'I stay in', 'my flat is in'],
    elsewhere: ['the weather in', 'flights to', 'the conference in', 'the population of', 'a hotel in', 'news from', 'the train to',
      'the stadium in', 'a report on', 'prices in'],
    end: ['', '.', '!', '?', ' today.', ' now.', ' about the invoice.', ' tomorrow at 5.', ' since 2019.', ', thanks.', ' with my family.', ' next week.'],
  },
  de: {
    person: ['ich habe mit', 'hier ist', 'ich heiße', 'frag', 'sag', 'mein Kollege', 'meine Chefin', 'unser Nachbar', 'eine Nachricht von',
      'danke', 'hallo', 'liebe', 'mein Freund', 'wir haben', 'bitte begrüßt', 'meine Tochter', 'erinnere'],
    place: ['ich wohne in', 'wir sind nach', 'ich lebe in', 'sie wohnt in', 'ich komme aus', 'ich bin in', 'meine Eltern wohnen in',
      'wir ziehen nach', 'ich bin geboren in', 'unser Haus steht in'],
    elsewhere: ['das Wetter in', 'Flüge nach', 'die Konferenz in', 'ein Hotel in', 'Nachrichten aus', 'der Zug nach'],
    end: ['', '.', '!', '?', ' heute.', ' gezogen.', ' seit 2019.', ', danke.', ' mit meiner Familie.', ' nächste Woche.'],
  },
  fr: {
    person: ["j'ai parlé à", "c'est", "je m'appelle", 'demande à', 'dis à', 'mon collègue', 'ma cheffe', 'notre voisin', 'un message de',
      'merci', 'bonjour', 'chère', 'mon ami', 'nous avons invité', 'ma fille', 'rappelle à'],
    place: ["j'habite à", 'nous avons déménagé à', 'je vis à', 'elle habite à', 'je viens de', 'je suis né à', 'mes parents vivent à',
      'on s\'installe à', 'notre maison est à'],
    elsewhere: ['la météo à', 'les vols pour', 'la conférence à', 'un hôtel à', 'les nouvelles de', 'le train pour'],
    end: ['', '.', ' !', ' ?', " aujourd'hui.", ' depuis 2019.', ', merci.', ' avec ma famille.', ' la semaine prochaine.'],
  },
  es: {
    person: ['hablé con', 'soy', 'me llamo', 'pregúntale a', 'dile a', 'mi compañero', 'mi jefa', 'nuestro vecino', 'un mensaje de',
      'gracias', 'hola', 'querida', 'mi amigo', 'invitamos a', 'mi hija', 'recuérdale a'],
    place: ['vivo en', 'nos mudamos a', 'ella vive en', 'soy de', 'nací en', 'mis padres viven en', 'me instalé en', 'nuestra casa está en'],
    elsewhere: ['el tiempo en', 'vuelos a', 'la conferencia en', 'un hotel en', 'noticias de', 'el tren a'],
    end: ['', '.', '!', '?', ' hoy.', ' desde 2019.', ', gracias.', ' con mi familia.', ' la próxima semana.'],
  },
  it: {
    person: ['ho parlato con', 'sono', 'mi chiamo', 'chiedi a', 'di\' a', 'il mio collega', 'la mia capa', 'un messaggio da', 'grazie', 'ciao', 'cara', 'mia figlia'],
    place: ['abito a', 'ci siamo trasferiti a', 'vivo a', 'lei vive a', 'sono di', 'sono nato a', 'i miei genitori vivono a'],
    elsewhere: ['il meteo a', 'voli per', 'la conferenza a', 'un albergo a', 'notizie da'],
    end: ['', '.', '!', '?', ' oggi.', ' dal 2019.', ', grazie.', ' con la mia famiglia.'],
  },
  nl: {
    person: ['ik sprak met', 'met', 'mijn naam is', 'vraag', 'zeg tegen', 'mijn collega', 'mijn baas', 'een bericht van', 'bedankt', 'hoi', 'beste', 'mijn dochter'],
    place: ['ik woon in', 'we zijn verhuisd naar', 'zij woont in', 'ik kom uit', 'ik ben geboren in', 'mijn ouders wonen in'],
    elsewhere: ['het weer in', 'vluchten naar', 'de conferentie in', 'een hotel in', 'nieuws uit'],
    end: ['', '.', '!', '?', ' vandaag.', ' sinds 2019.', ', bedankt.', ' met mijn gezin.'],
  },
  pt: {
    person: ['falei com', 'aqui é', 'meu nome é', 'pergunte ao', 'diga ao', 'meu colega', 'minha chefe', 'uma mensagem de', 'obrigado', 'oi', 'querida', 'minha filha'],
    place: ['moro em', 'nos mudamos para', 'ela mora em', 'sou de', 'nasci em', 'meus pais moram em'],
    elsewhere: ['o tempo em', 'voos para', 'a conferência em', 'um hotel em', 'notícias de'],
    end: ['', '.', '!', '?', ' hoje.', ' desde 2019.', ', obrigado.', ' com minha família.'],
  },
  pl: {
    person: ['rozmawiałem z', 'tu', 'nazywam się', 'zapytaj', 'powiedz', 'mój kolega', 'moja szefowa', 'wiadomość od', 'dzięki', 'cześć', 'droga'],
    place: ['mieszkam w', 'przeprowadziliśmy się do', 'ona mieszka w', 'jestem z', 'urodziłem się w'],
    elsewhere: ['pogoda w', 'loty do', 'konferencja w', 'hotel w'],
    end: ['', '.', '!', '?', ' dzisiaj.', ' od 2019.', ', dzięki.'],
  },
  tr: {
    person: ['benim adım', 'ben', 'sor', 'iş arkadaşım', 'müdürüm', 'teşekkürler', 'merhaba', 'sevgili', 'arkadaşım'],
    place: ['yaşadığım şehir', 'taşındığımız yer', 'memleketim', 'doğduğum yer'],
    elsewhere: ['hava durumu', 'uçuşlar', 'konferans yeri'],
    end: ['', '.', '!', '?', ' bugün.', ', teşekkürler.'],
  },
};

// Slot first: what follows a name or a place.
export const AFTER = {
  en: { person: ['called', 'said the build is green', 'wrote back', 'is sick today', 'will be late', 'sent the file', 'is on leave',
    'asked about the invoice', 'and I are going', 'has the keys', 'lives next door', 'booked the room', 'needs a ride', 'was promoted'],
    place: ['is where I live now', 'is home for us', 'is where my parents live', 'is where I grew up'] },
  de: { person: ['hat angerufen', 'hat geschrieben', 'ist heute krank', 'kommt später', 'hat die Datei geschickt', 'ist im Urlaub', 'hat die Schlüssel'],
    place: ['ist jetzt unser Zuhause', 'ist meine Heimatstadt'] },
  fr: { person: ['a appelé', 'a répondu', 'est malade', 'sera en retard', 'a envoyé le fichier', 'est en congé'], place: ['est ma ville natale'] },
  es: { person: ['llamó', 'escribió', 'está enfermo', 'llegará tarde', 'mandó el archivo', 'está de vacaciones'], place: ['es mi ciudad natal'] },
  it: { person: ['ha chiamato', 'ha scritto', 'è malato', 'arriva tardi'], place: ['è la mia città'] },
  nl: { person: ['belde', 'schreef terug', 'is ziek', 'komt later'], place: ['is mijn woonplaats'] },
  pt: { person: ['ligou', 'escreveu', 'está doente', 'vai chegar tarde'], place: ['é a minha cidade'] },
  pl: { person: ['dzwonił', 'napisał', 'jest chory', 'spóźni się'], place: ['to moje miasto'] },
  tr: { person: ['aradı', 'yazdı', 'bugün hasta', 'geç kalacak'], place: ['benim memleketim'] },
};

// Longer messages of everyday errands (support, HR, health, shipping, travel, family), added to
// each language's templates.
export const ERRANDS = {
  en: [
    'Hi support, my account is under {P} and the invoice went to the old address, {A}. Could you update it?',
    'Quick update: {G} from accounting will cover for me while I visit my parents in {L}.',
    'The parcel for {P} was left at {A} instead of the neighbour.', 'Booking reference {N} is for two guests: {P} and {P}.',
    'I moved from {L} to {L} in the summer, please change my billing address to {A}.',
    '~hey, {g} here. running late, the train from {c} is delayed', 'My son {G} has a fever, can Dr. {S} see him today?',
    'For the visa form: born {B} in {c}, currently residing at {A}.', 'Please add {P} to the shared drive, she starts on Monday.',
    "We're hosting the party at our place, {A}. {G} will bring the drinks.", 'Pickup: {A}. Recipient: {P}. Notes: ring twice.',
    '~omg {g} just got engaged!!', 'Can someone cover my shift? I have to drive to {L} to see my grandmother.',
    'Our landlord, Mr. {S}, says the heating will be fixed on {D}.', 'Emergency contact: {P} (sister).',
    'Reminder for {G}: the dentist appointment is on {D} at {T}.', 'The meeting with {K} moved to {T}; {P} will present.',
    'I used to live in {L}, then {L}, now I am back home.', "I'm {P}, the new tenant on the second floor.",
    'Release {V} is out. Thanks to everyone who tested the beta!', 'Ticket {N} is blocked until {K} replies.',
    'The {X} I ordered arrived broken, order {N}.', 'Version {V} of the app crashes on login, build {N}.',
    'Flight {N} to {c} departs at {T}.', 'Please review the changes in {H} before the release of {V}.',
  ],
  de: [
    'Hallo, ich bin {P} und wohne seit März in der {A}. Die Post kommt noch an die alte Adresse.',
    'Kurze Info: {G} vertritt mich, ich bin bei meinen Eltern in {L}.', 'Das Paket für {P} liegt bei den Nachbarn, {A}.',
    '~hey, {g} hier, bin gleich da', 'Mein Sohn {G} hat Fieber, hat Frau Dr. {S} heute einen Termin frei?',
    'Wir sind von {L} nach {L} gezogen, bitte ändern Sie meine Rechnungsadresse auf {A}.', 'Notfallkontakt: {P} (Bruder).',
    'Unser Vermieter, Herr {S}, sagt, die Heizung wird am {D} repariert.', 'Version {V} stürzt beim Start ab, Build {N}.',
    'Der Flug {N} nach {c} startet um {T}.', 'Das bestellte {X} kam kaputt an, Bestellung {N}.',
  ],
  fr: [
    "Bonjour, je suis {P} et j'habite au {A} depuis mars. Le courrier arrive encore à l'ancienne adresse.",
    'Petite info : {G} me remplace, je suis chez mes parents à {L}.', 'Le colis pour {P} a été laissé au {A}.',
    '~coucou, c\'est {g}, j\'arrive', 'Mon fils {G} a de la fièvre, le docteur {S} peut-il le voir ?', 'Contact en cas d\'urgence : {P} (sœur).',
    'Nous avons quitté {L} pour {L}, merci de mettre à jour mon adresse : {A}.', 'La version {V} plante au démarrage, build {N}.',
    'Le vol {N} pour {c} part à {T}.',
  ],
  es: [
    'Hola, soy {P} y vivo en {A} desde marzo. Las cartas siguen llegando a la dirección antigua.',
    'Aviso: {G} me cubre, estoy con mis padres en {L}.', 'El paquete para {P} lo dejaron en {A}.', '~hola, soy {g}, ya llego',
    'Mi hijo {G} tiene fiebre, ¿puede verlo la doctora {S} hoy?', 'Contacto de emergencia: {P} (hermano).',
    'Nos mudamos de {L} a {L}, por favor cambien mi dirección a {A}.', 'La versión {V} falla al iniciar, compilación {N}.',
    'El vuelo {N} a {c} sale a las {T}.',
  ],
  it: ['Ciao, sono {P} e abito in {A} da marzo.', 'Il pacco per {P} è stato lasciato in {A}.', 'Mio figlio {G} ha la febbre, il dottor {S} può vederlo oggi?',
    'Ci siamo trasferiti da {L} a {L}.', 'La versione {V} si blocca all\'avvio, build {N}.'],
  nl: ['Hallo, ik ben {P} en ik woon sinds maart op {A}.', 'Het pakket voor {P} ligt bij de buren op {A}.', 'Mijn zoon {G} heeft koorts, kan dokter {S} vandaag kijken?',
    'We zijn van {L} naar {L} verhuisd.', 'Versie {V} crasht bij het opstarten, build {N}.'],
  pt: ['Olá, sou {P} e moro na {A} desde março.', 'A encomenda para {P} ficou na {A}.', 'Meu filho {G} está com febre, a doutora {S} pode atendê-lo hoje?',
    'Nos mudamos de {L} para {L}.', 'A versão {V} trava ao iniciar, build {N}.'],
  pl: ['Dzień dobry, jestem {P} i od marca mieszkam przy {A}.', 'Paczka dla {P} została przy {A}.', 'Mój syn {G} ma gorączkę, czy doktor {S} może go dziś przyjąć?',
    'Przeprowadziliśmy się z {L} do {L}.', 'Wersja {V} zawiesza się przy starcie, build {N}.'],
  tr: ['Merhaba, ben {P}, mart ayından beri {A} adresinde oturuyorum.', '{P} için gelen paket {A} adresine bırakıldı.', 'Oğlum {G} ateşlendi, Dr. {S} bugün bakabilir mi?',
    'Sürüm {V} açılışta çöküyor, derleme {N}.'],
};

for (const [lang, list] of Object.entries(ERRANDS)) T[lang].pii = [...T[lang].pii, ...list];
for (const lang of ['ja', 'zh', 'in']) T[lang].pii = [...T[lang].pii, ...ERRANDS.en.slice(0, 12)];
export const TEMPLATES = T;
