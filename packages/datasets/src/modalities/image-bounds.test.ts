// An image header is a claim: width x height x channels is checked against maxBytes, and against
// the pixel data actually present, before anything is decoded; an image whose data is shorter
// than its header says is a DatasetFormatError naming the file, not a picture padded with zeros.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetFormatError } from '../errors.js';
import { flatJpeg, greyPng } from '../test-fixtures.js';
import { decodeImage } from './image.js';
import { PNG } from 'pngjs';

const MiB = 2 ** 20;
const here = dirname(fileURLToPath(import.meta.url));

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** `png` with its IHDR claiming `width x height` (CRC fixed, so only the claim is wrong). */
function pngClaiming(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(png);
  const v = new DataView(out.buffer);
  v.setUint32(16, width);
  v.setUint32(20, height);
  v.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** `jpeg` with its baseline frame header (SOF0) claiming `width x height`. */
function jpegClaiming(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Uint8Array.from(jpeg);
  const sof = out.findIndex((b, i) => b === 0xff && out[i + 1] === 0xc0);
  const v = new DataView(out.buffer);
  v.setUint16(sof + 5, height);
  v.setUint16(sof + 7, width);
  return out;
}

function rgbPng(width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height * 4; i++) png.data[i] = (i * 7) & 255;
  return PNG.sync.write(png, { colorType: 2 });
}

function thrown(fn: () => unknown): DatasetFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetFormatError);
    return e as DatasetFormatError;
  }
  throw new Error('expected a DatasetFormatError, the image was decoded');
}

const ramp = (n: number, k: number) => Array.from({ length: n }, (_, i) => (i * k) % 256);

describe('image headers are checked against the data present and maxBytes', () => {
  it.each<[string, Uint8Array, number, number]>([
    ['8-bit grey', greyPng(16, 16, ramp(256, 1), 8), 16, 400_000],
    ['16-bit grey', greyPng(16, 16, ramp(256, 250), 16), 16, 40_000],
    ['RGB, wider and taller', rgbPng(16, 16), 600, 600],
  ])('a %s PNG whose header claims more pixels than its data holds is refused, naming the file', (_, png, w, h) => {
    const err = thrown(() => decodeImage(pngClaiming(png, w, h), 'short.png'));
    expect(err.file).toBe('short.png');
    expect(err.message).toMatch(/^short\.png.*pixel data/);
  });

  it('a PNG cut inside its data is refused', () => {
    const png = greyPng(32, 32, ramp(1024, 3), 8);
    expect(() => decodeImage(png.subarray(0, png.length - 30), 'cut.png')).toThrow(DatasetFormatError);
  });

  it('a JPEG whose frame header claims more pixels than its scan data can code is refused before decoding', () => {
    const err = thrown(() => decodeImage(jpegClaiming(flatJpeg(16, 16, [200, 30, 60]), 3000, 3000), 'short.jpg'));
    expect(err.file).toBe('short.jpg');
    expect(err.message).toMatch(/^short\.jpg.*scan data/);
  });

  it('a JPEG cut inside its scan data is refused', () => {
    const jpg = flatJpeg(64, 64, [10, 200, 30]);
    const err = thrown(() => decodeImage(jpg.subarray(0, jpg.length - 40), 'cut.jpg'));
    expect(err.file).toBe('cut.jpg');
  });

  it('maxBytes bounds width x height x channels (as float32) before decoding', () => {
    const png = greyPng(64, 64, ramp(4096, 5), 8);
    expect(() => decodeImage(png, 'a.png', { maxBytes: 64 * 64 * 4 - 1 })).toThrow(/a\.png.*maxBytes/);
    expect(decodeImage(png, 'a.png', { maxBytes: 64 * 64 * 4 }).data.length).toBe(64 * 64);
    const jpg = flatJpeg(16, 16, [1, 2, 3]);
    expect(() => decodeImage(jpg, 'a.jpg', { maxBytes: 16 * 16 * 3 * 4 - 1 })).toThrow(/a\.jpg.*maxBytes/);
    expect(decodeImage(jpg, 'a.jpg', { maxBytes: 16 * 16 * 3 * 4 }).data.length).toBe(16 * 16 * 3);
  });
});

interface Probe {
  ok: boolean;
  name?: string;
  message?: string;
  maxRss: number;
}

/** Decodes `file` with `decodeImage` in a fresh Node process; returns the outcome and peak RSS. */
function probe(file: string): Probe {
  const script = [
    'const [mod, file] = process.argv.slice(1);',
    "const { readFileSync } = await import('node:fs');",
    'const { decodeImage } = await import(mod);',
    'let r = { ok: true };',
    'try { decodeImage(readFileSync(file), file); } catch (e) { r = { ok: false, name: e?.name, message: String(e?.message) }; }',
    'r.maxRss = process.resourceUsage().maxRSS * 1024;',
    'console.log(JSON.stringify(r));',
  ].join('\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, join(here, 'image.ts'), file], { cwd: join(here, '..', '..'), encoding: 'utf8', timeout: 60_000 });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !line.startsWith('{')) throw new Error(`probe of ${file} exited ${res.status}: ${res.stderr.slice(-2000)}`);
  return JSON.parse(line) as Probe;
}

describe('peak memory on images with lying headers', { timeout: 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'r3d-image-rss-'));
  let baseline: Probe;
  const write = (name: string, bytes: Uint8Array) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };
  const bounded = (file: string): Probe => {
    const r = probe(file);
    const size = statSync(file).size;
    console.log(`decodeImage(${file.slice(tmp.length + 1)}): ${size} bytes, peak RSS +${((r.maxRss - baseline.maxRss) / MiB).toFixed(1)} MiB over the baseline, ${r.ok ? 'decoded' : `${r.name}: ${r.message}`}`);
    expect(r.maxRss).toBeLessThanOrEqual(baseline.maxRss + 4 * size + 64 * MiB);
    return r;
  };
  beforeAll(() => {
    baseline = probe(write('valid.png', greyPng(16, 16, ramp(256, 1), 8)));
    expect(baseline.ok).toBe(true);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('PNG: a 16 x 16 image whose header claims 6000 x 6000 is refused', () => {
    const r = bounded(write('claims.png', pngClaiming(greyPng(16, 16, ramp(256, 1), 8), 6000, 6000)));
    expect(r.name).toBe('DatasetFormatError');
  });

  it('JPEG: a 16 x 16 image whose header claims 3000 x 3000 is refused', () => {
    const r = bounded(write('claims.jpg', jpegClaiming(flatJpeg(16, 16, [200, 30, 60]), 3000, 3000)));
    expect(r.name).toBe('DatasetFormatError');
  });
});
