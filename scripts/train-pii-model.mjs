// Trains the PII detector's word model (data/pii/word_model.txt): a multinomial logistic
// regression that says from a word's letters alone whether it looks like a person's name, a place
// or an ordinary word. It sees character n-grams (with word boundaries, so prefixes and
// suffixes: -ski, -ović, -sen, -ez, -ou, Mc-, Al-), the word's length and whether it has a hyphen,
// an apostrophe or letters outside ASCII; so it also scores names that are in no list.
// Run once, by hand; the build compiles the committed output in (CMakeLists.txt).
//
//   apt-get install wamerican wngerman wfrench wspanish witalian wdutch wportuguese wbrazilian wpolish
//   node scripts/train-pii-model.mjs            # prints progress and held-out accuracy
//   node scripts/train-pii-model.mjs --score Wojciechowski Kubernetes   # what the model says
//
// Examples: names = data/pii/given_names.txt ∪ surnames.txt (never data/pii/heldout/), places =
// the one-word entries of data/pii/places.txt, words = lower-case entries of the Debian word
// lists (at most 30,000 a language, drawn by a hash), less anything in the name and place lists.
// A word in two classes (names that are also words, "will", "mark") is left out: the lists
// decide those. One example in ten (by hash) is held out to report the accuracy.
// The features must stay in step with word_features() in src/privacy/word_model.cpp.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const here = path.dirname(new URL(import.meta.url).pathname);
const dataDir = path.join(here, '..', 'data', 'pii');
const kBits = 17;                  // 2^17 hashed feature buckets
const kClasses = ['name', 'place', 'word'];
const kEpochs = 5;
const kMaxN = 4;
const kPerLanguage = 30000;

function fnvBytes(h, bytes) {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
const fnv = (s) => fnvBytes(0x811c9dc5, Buffer.from(s, 'utf8'));

// The feature buckets of a lower-case word: "n:" + each n-gram (n = 1..4) of ^word$, "L:" + the
// length in code points (capped at 12), and "h:", "a:", "u:" flags for a hyphen, an apostrophe
// and a letter outside ASCII; plus the bias "b:".
export function wordFeatures(word) {
  const cps = Array.from('^' + word + '$');
  const out = [fnv('b:')];
  for (let n = 1; n <= kMaxN; ++n)
    for (let i = 0; i + n <= cps.length; ++i) {
      if (n === 1 && (i === 0 || i === cps.length - 1)) continue;
      out.push(fnv(`${n}:` + cps.slice(i, i + n).join('')));
    }
  out.push(fnv('L:' + Math.min(cps.length - 2, 12)));
  if (word.includes('-')) out.push(fnv('h:'));
  if (word.includes("'") || word.includes('’')) out.push(fnv('a:'));
  if (/[^\x00-\x7f]/.test(word)) out.push(fnv('u:'));
  const mask = (1 << kBits) - 1;
  return out.map((h) => h & mask);
}

function readList(file) {
  return fs.readFileSync(path.join(dataDir, file), 'utf8').split('\n').filter(Boolean);
}

function dictionaryWords() {
  const dicts = ['american-english', 'ngerman', 'french', 'spanish', 'italian', 'dutch', 'portuguese', 'brazilian',
                 'polish'];
  const words = new Set();
  for (const d of dicts) {
    const file = path.join('/usr/share/dict', d);
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: apt-get install the word lists (header)`);
    const all = fs.readFileSync(file, 'utf8').split('\n')
      .filter((w) => /^\p{Ll}[\p{Ll}\p{M}'\-]*$/u.test(w) && w.length >= 2 && !w.endsWith("'s"));
    // Large lists (Polish has 4 million inflected forms) are thinned by a hash, not by position.
    // English, the language most text is in, is kept whole.
    const keep = d === 'american-english' ? 1 : Math.max(1, Math.ceil(all.length / kPerLanguage));
    for (const w of all) if (fnv(w) % keep === 0) words.add(w.normalize('NFC'));
    process.stderr.write(`  ${d}: ${all.length} lower-case entries, ${words.size} words so far\n`);
  }
  return words;
}

function examples() {
  const names = new Set([...readList('given_names.txt'), ...readList('surnames.txt')]);
  const places = new Set(readList('places.txt').filter((p) => !p.includes(' ')));
  const words = dictionaryWords();
  const ambiguous = new Set(readList('word_names.txt'));
  const out = [];
  const add = (w, y) => { if (!ambiguous.has(w)) out.push({ w, y, f: wordFeatures(w) }); };
  for (const w of names) if (!words.has(w)) add(w, 0);
  for (const w of places) if (!names.has(w) && !words.has(w)) add(w, 1);
  for (const w of words) add(w, 2);
  return out;
}

function softmax(z) {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function train(set) {
  const K = kClasses.length, D = 1 << kBits;
  const w = new Float64Array(D * K), avg = new Float64Array(D * K);
  const counts = [0, 0, 0];
  for (const ex of set) counts[ex.y]++;
  // Each class weighs the same in total (there are six times as many words as names).
  const classWeight = counts.map((c) => set.length / (K * c));
  let steps = 0;
  for (let epoch = 0; epoch < kEpochs; ++epoch) {
    const rate = 0.05 / (1 + 0.5 * epoch);
    let loss = 0;
    // A fixed shuffle per epoch (by hash of the word and epoch) keeps the output reproducible.
    const order = set.map((ex, i) => [fnv(ex.w + '#' + epoch), i]).sort((a, b) => a[0] - b[0]);
    for (const [, i] of order) {
      const ex = set[i];
      const z = new Array(K).fill(0);
      for (const f of ex.f) for (let k = 0; k < K; ++k) z[k] += w[f * K + k];
      const p = softmax(z);
      loss -= Math.log(Math.max(p[ex.y], 1e-12)) * classWeight[ex.y];
      ++steps;
      for (let k = 0; k < K; ++k) {
        const g = rate * classWeight[ex.y] * ((k === ex.y ? 1 : 0) - p[k]);
        if (g === 0) continue;
        for (const f of ex.f) {
          w[f * K + k] += g;
          avg[f * K + k] += g * steps;  // averaged SGD: sum of updates weighted by when they came
        }
      }
    }
    process.stderr.write(`epoch ${epoch + 1}/${kEpochs}: mean loss ${(loss / set.length).toFixed(4)}\n`);
  }
  // Averaged weights: w - avg / steps (the mean of the weights over all steps).
  return w.map((v, i) => v - avg[i] / (steps + 1));
}

function accuracy(weights, set) {
  const K = kClasses.length;
  const confusion = kClasses.map(() => new Array(K).fill(0));
  const cuts = [0.05, 0.1, 0.2, 0.3];
  const above = kClasses.map(() => cuts.map(() => 0));  // P(word) <= cut, per true class
  for (const ex of set) {
    const z = new Array(K).fill(0);
    for (const f of ex.f) for (let k = 0; k < K; ++k) z[k] += weights[f * K + k];
    confusion[ex.y][z.indexOf(Math.max(...z))]++;
    const p = softmax(z);
    cuts.forEach((c, i) => { if (p[2] <= c) above[ex.y][i]++; });
  }
  return { confusion, cuts, above };
}

// int8 weights with one scale, as hex: a header line, then 64 bytes (128 hex digits) a line.
function write(weights) {
  let max = 0;
  for (const v of weights) max = Math.max(max, Math.abs(v));
  const scale = max / 127;
  const bytes = Buffer.alloc(weights.length);
  weights.forEach((v, i) => bytes.writeInt8(Math.max(-127, Math.min(127, Math.round(v / scale))), i));
  const lines = [`word-model 1 bits=${kBits} classes=${kClasses.join(',')} scale=${scale.toPrecision(8)}`];
  const hex = bytes.toString('hex');
  for (let i = 0; i < hex.length; i += 128) lines.push(hex.slice(i, i + 128));
  fs.writeFileSync(path.join(dataDir, 'word_model.txt'), lines.join('\n') + '\n');
  return Array.from(bytes, (b) => (b > 127 ? b - 256 : b) * scale);
}

function readModel() {
  const [header, ...lines] = fs.readFileSync(path.join(dataDir, 'word_model.txt'), 'utf8').trim().split('\n');
  const scale = Number(/scale=(\S+)/.exec(header)[1]);
  return Array.from(Buffer.from(lines.join(''), 'hex'), (b) => (b > 127 ? b - 256 : b) * scale);
}

// `--score WORD...` prints what the committed model says of each word.
function score(words) {
  const weights = readModel(), K = kClasses.length;
  for (const word of words) {
    const z = new Array(K).fill(0);
    for (const f of wordFeatures(word.toLowerCase())) for (let k = 0; k < K; ++k) z[k] += weights[f * K + k];
    console.log(word, softmax(z).map((p, k) => `${kClasses[k]} ${p.toFixed(3)}`).join(' '));
  }
}

function main() {
  const all = examples();
  const isTest = (ex) => fnv('test:' + ex.w) % 10 === 0;
  const trainSet = all.filter((ex) => !isTest(ex)), testSet = all.filter(isTest);
  process.stderr.write(`${trainSet.length} training words, ${testSet.length} held out ` +
                       `(${kClasses.map((c, k) => `${c} ${all.filter((e) => e.y === k).length}`).join(', ')})\n`);
  const quantised = write(train(trainSet));
  const { confusion, cuts, above } = accuracy(quantised, testSet);
  process.stderr.write('held-out confusion (rows: truth; columns: name place word):\n');
  confusion.forEach((row, k) => {
    const n = row.reduce((a, b) => a + b, 0);
    process.stderr.write(`  ${kClasses[k].padEnd(6)} ${row.join(' ')}  recall ${(row[k] / n).toFixed(3)}; ` +
                         cuts.map((c, i) => `P(word)<=${c}: ${(above[k][i] / n).toFixed(3)}`).join(', ') + '\n');
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--score') score(process.argv.slice(3));
  else main();
}
