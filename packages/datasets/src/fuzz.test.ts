// Seeded mutation fuzzing: every parser, fed >= 1000 corrupted copies of a valid fixture, either
// returns a valid (finite) result or throws its format error (DatasetFormatError; the .npy parser
// of @r3d-ts/tensor-io, which the loaders read features with, its NpyFormatError), never anything else.
import { encodeNpy, NpyFormatError, parseNpy } from '@r3d-ts/tensor-io';
import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from './errors.js';
import { Rng } from './random.js';
import { decodeDepthPng, decodeImage } from './modalities/image.js';
import { parseTimeSeriesCsv } from './modalities/timeseries.js';
import { parseSkeleton } from './ntu/skeleton.js';
import { parseActionLabels } from './utkinect/labels.js';
import { parseDepthXml } from './utkinect/depth-xml.js';
import { parseAnnotationCsv } from './darai/annotations.js';
import { parseGroundTruth, parseMapping } from './futr/layout.js';
import { depthXml, flatJpeg, greyPng, skeletonText, UTK_LABELS } from './test-fixtures.js';

const N = 1000;

/** One seeded mutation: truncate, flip bytes, delete / duplicate a token (text) or a byte run (binary). */
function mutate(src: Uint8Array, rng: Rng, text: boolean): Uint8Array {
  const b = Array.from(src);
  const kind = rng.int(0, 3);
  if (kind === 0) return Uint8Array.from(b.slice(0, rng.int(0, b.length)));
  if (kind === 1) {
    const flips = rng.int(1, 4);
    for (let i = 0; i < flips; i++) {
      const k = rng.int(0, b.length - 1);
      b[k] = text && rng.next() < 0.5 ? rng.pick([0x20, 0x0a, 0x2c, 0x2d, 0x2e, 0x3c, 0x3e, 0x4e, 0x30, 0x39]) : b[k]! ^ (1 << rng.int(0, 7));
    }
    return Uint8Array.from(b);
  }
  // Token (text) or byte-run (binary) span.
  let start = rng.int(0, b.length - 1);
  let end = Math.min(b.length, start + rng.int(1, 8));
  if (text) {
    const ws = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x2c;
    while (start > 0 && !ws(b[start - 1])) start--;
    end = start;
    while (end < b.length && !ws(b[end])) end++;
    if (end < b.length) end++;
  }
  const span = b.slice(start, end);
  return kind === 2 ? Uint8Array.from([...b.slice(0, start), ...b.slice(end)]) : Uint8Array.from([...b.slice(0, end), ...span, ...b.slice(end)]);
}

const finite = (a: ArrayLike<number>) => { for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) throw new Error(`non-finite value at ${i}`); };

function fuzz(name: string, fixture: Uint8Array, text: boolean, parse: (bytes: Uint8Array) => void, seed: number, formatError: new (...args: never[]) => Error = DatasetFormatError) {
  it(`${name}: ${N} mutations give a valid result or ${formatError.name}`, () => {
    const rng = new Rng(seed);
    let ok = 0;
    let rejected = 0;
    parse(fixture); // the unmutated fixture is valid
    for (let i = 0; i < N; i++) {
      const m = mutate(fixture, rng, text);
      try {
        parse(m);
        ok++;
      } catch (e) {
        if (!(e instanceof formatError)) throw new Error(`${name} mutation ${i} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        rejected++;
      }
    }
    expect(ok + rejected).toBe(N);
    expect(rejected).toBeGreaterThan(0);
  });
}

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe('fuzz', () => {
  fuzz('npy', encodeNpy({ shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 3) }), false, (b) => { parseNpy(b, 'f.npy'); }, 1, NpyFormatError);
  fuzz('skeleton', enc(skeletonText('18446744073709551615', 2)), true, (b) => {
    const sk = parseSkeleton(dec(b), 'f.skeleton');
    for (const f of sk.frames) for (const body of f.bodies) { finite(body.joints); finite([body.leanX, body.leanY]); BigInt(body.id); }
  }, 2);
  fuzz('UTKinect labels', enc(UTK_LABELS), true, (b) => {
    for (const s of parseActionLabels(dec(b), 'l.txt').values()) for (const r of s.ranges) finite([r.start, r.end, r.classIndex]);
  }, 3);
  fuzz('UTKinect depth XML', enc(depthXml('depthImg7', 4, 3, Array.from({ length: 12 }, (_, i) => 100 * i))), true, (b) => { finite(parseDepthXml(dec(b), 'd.xml').data); }, 4);
  fuzz('DARai annotations', enc('Activity,start_frame,end_frame\nGetting ingredients,0,12\nMixing, 13, 40\n'), true, (b) => {
    for (const s of parseAnnotationCsv(dec(b), 'a.csv')) finite([s.start, s.end]);
  }, 5);
  fuzz('time-series CSV', enc('time,ax,ay,az\n0.00,0.1,9.8,0\n0.01,0.2,9.7,0.1\n0.02,0.3,9.9,-0.1\n'), true, (b) => {
    const ts = parseTimeSeriesCsv(dec(b), 'i.csv');
    finite(ts.times);
    finite(ts.data);
  }, 6);
  fuzz('mapping', enc('0 Getting ingredients\n1 Mixing\n2 Pouring\n'), true, (b) => { parseMapping(dec(b), 'm.txt'); }, 7);
  fuzz('groundTruth', enc('a/0001.jpg, Mixing, Pour milk\na/0002.jpg,UNDEFINED,UNDEFINED\na/0003.jpg,Pouring,Pour\n'), true, (b) => { parseGroundTruth(dec(b), 'g.txt'); }, 8);
  fuzz('16-bit depth PNG', greyPng(4, 3, Array.from({ length: 12 }, (_, i) => 1000 * i), 16), false, (b) => { finite(decodeDepthPng(b, { normalise: true }, 'd.png').data); }, 9);
  fuzz('JPEG', flatJpeg(8, 8, [200, 30, 60]), false, (b) => { finite(decodeImage(b, 'c.jpg').data); }, 10);
});
