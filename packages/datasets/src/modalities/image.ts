// PNG and JPEG decoding. Node-only (exported from `./node`): pngjs inflates with Node's zlib and
// reads through Buffer and streams, so a browser bundle cannot carry it.
import { DEFAULT_MAX_BYTES } from '@r3d-ts/tensor-io';
import { Unzlib } from 'fflate';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { DatasetFormatError } from '../errors.js';
import { type FrameSize, minMaxNormalise, resizeBilinear } from './resize.js';

/** A decoded image: `channels` values per pixel, row-major, in the file's own units. */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  /** 8 or 16 (PNG); 8 for JPEG. */
  bitDepth: number;
  data: Float32Array;
}

/** Limits `decodeImage` checks against the header before decoding. */
export interface DecodeImageOptions {
  /** Most pixels (width x height) in millions; default 40. */
  maxMegapixels?: number;
  /** Most bytes of the decoded float32 pixels (width x height x channels x 4); default 4 GiB (tensor-io's `DEFAULT_MAX_BYTES`). */
  maxBytes?: number;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47];

function wrap(file: string, what: string, e: unknown): DatasetFormatError {
  if (e instanceof DatasetFormatError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new DatasetFormatError({ file, offset: 0, expected: what, found: msg, cause: e });
}

/**
 * Decodes a PNG (8- or 16-bit, grey, grey+alpha, RGB, RGBA or palette) or a baseline JPEG. Values
 * keep the file's units (0..255 or 0..65535) so 16-bit depth in millimetres survives; alpha is
 * dropped. The header is checked before anything is decoded: width x height against
 * `maxMegapixels` (default 40), width x height x channels as float32 against `maxBytes` (default
 * 4 GiB), and against the data present: a PNG's pixel data must inflate to all the rows its header
 * claims, a JPEG's scan data must be long enough to code all its blocks and end in a marker. So
 * a lying or cut header is refused rather than decoded with the rest filled with zeros. Anything
 * else throws `DatasetFormatError` naming `file`.
 *
 * @example
 * const img = decodeImage(readFileSync('MDepth-00000001.png'), 'MDepth-00000001.png'); // channels 1, bitDepth 16
 */
export function decodeImage(bytes: Uint8Array, file = '<buffer>', options: DecodeImageOptions = {}): RawImage {
  const maxMP = options.maxMegapixels ?? 40;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number of bytes, got ${String(maxBytes)}`);
  if (bytes.length >= 4 && PNG_SIG.every((b, i) => bytes[i] === b)) return decodePng(bytes, file, maxMP, maxBytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes, file, maxMP, maxBytes);
  throw new DatasetFormatError({ file, offset: 0, expected: 'a PNG (\\x89PNG) or JPEG (\\xFF\\xD8\\xFF) signature' });
}

/** Width x height x channels against the limits, before a decoder allocates them. */
function checkSize(file: string, offset: number, width: number, height: number, channels: number, maxMP: number, maxBytes: number): void {
  if (width * height > maxMP * 1e6) {
    throw new DatasetFormatError({ file, offset, expected: `an image of at most ${maxMP} megapixels`, found: `${width}x${height}` });
  }
  const need = width * height * channels * 4;
  if (need > maxBytes) {
    throw new DatasetFormatError({ file, offset, expected: `an image of at most ${maxBytes} bytes as float32 (the maxBytes option)`, found: `${width}x${height}x${channels}: ${need} bytes` });
  }
}

/** Samples per pixel of each PNG colour type, as stored in the pixel data. */
const PNG_SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;
/** Compressed bytes per push while counting: at most ~4 MiB of output held at a time. */
const COUNT_CHUNK = 4096;

/**
 * The pixel data a PNG header promises (filter bytes included) against what its IDAT chunks
 * inflate to, counted in small pieces so that a lie costs no memory. pngjs allocates the promised
 * size up front and fills what the data does not reach with zeros, so the check comes first.
 */
function checkPngData(bytes: Uint8Array, file: string): void {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const depth = bytes[24]!;
  const samples = PNG_SAMPLES[bytes[25]!];
  // an unknown colour type or bit depth is pngjs's to report (it allocates nothing for it)
  if (samples == null || ![1, 2, 4, 8, 16].includes(depth)) return;
  const bits = samples * depth;
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bits) / 8)) : 0);
  const need = bytes[28] === 1
    ? ADAM7.reduce((a, [x0, y0, dx, dy]) => a + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)), 0)
    : rows(width, height);
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 8 <= bytes.length; ) {
    const length = v.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, Math.min(at + 8 + length, bytes.length)));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  let produced = 0;
  const ENOUGH = Symbol('enough');
  const counter = new Unzlib((chunk) => {
    produced += chunk.length;
    if (produced >= need) throw ENOUGH;
  });
  let detail = '';
  try {
    for (let i = 0; i < idat.length; i++) {
      const data = idat[i]!;
      for (let at = 0; at < data.length; at += COUNT_CHUNK) counter.push(data.subarray(at, at + COUNT_CHUNK));
    }
    counter.push(new Uint8Array(0), true);
  } catch (err) {
    if (err === ENOUGH) return;
    detail = ` (${err instanceof Error ? err.message : String(err)})`;
  }
  if (produced < need) {
    throw new DatasetFormatError({ file, offset: 33, expected: `pixel data of ${need} bytes for the ${width}x${height} image its header claims`, found: `${produced} bytes${detail}` });
  }
}

function decodePng(bytes: Uint8Array, file: string, maxMP: number, maxBytes: number): RawImage {
  // IHDR sits at a fixed place; refuse absurd or unbacked sizes before pngjs allocates them.
  if (bytes.length >= 29 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR') {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const colorType = bytes[25];
    checkSize(file, 16, v.getUint32(16), v.getUint32(20), colorType === 0 || colorType === 4 ? 1 : 3, maxMP, maxBytes);
    checkPngData(bytes, file);
  }
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true } as never);
  } catch (e) {
    throw wrap(file, 'a valid PNG image', e);
  }
  const { width, height } = png;
  const meta = png as unknown as { depth?: number; colorType?: number; data: ArrayLike<number> };
  const depth = meta.depth ?? 8;
  const grey = meta.colorType === 0 || meta.colorType === 4;
  const channels = grey ? 1 : 3;
  const src = meta.data;
  const n = width * height;
  if (src.length < n * 4) throw new DatasetFormatError({ file, offset: 0, expected: `${n} RGBA pixels after decoding`, found: `${src.length / 4}` });
  // Sub-byte grey stays at its own scale under skipRescale: bring it to 0..255 like 8-bit.
  const k = depth < 8 && meta.colorType !== 3 ? 255 / (2 ** depth - 1) : 1;
  const data = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) data[i * channels + c] = src[i * 4 + c]! * k;
  }
  return { width, height, channels, bitDepth: depth === 16 ? 16 : 8, data };
}

/** What a JPEG's markers say before any decoding: its frame and how much scan data it holds. */
interface JpegLayout {
  width: number;
  height: number;
  progressive: boolean;
  /** Sampling factors (h, v) of each component. */
  sampling: Array<[number, number]>;
  /** Bytes of entropy-coded scan data, over all scans. */
  scanBytes: number;
  /** Whether the file ends inside scan data (no marker after it). */
  cut: boolean;
  /** Byte offset of the frame header. */
  sofAt: number;
}

function jpegLayout(bytes: Uint8Array): JpegLayout | undefined {
  const n = bytes.length;
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  let layout: JpegLayout | undefined;
  let scanBytes = 0;
  let cut = false;
  let at = 2;
  while (at + 1 < n) {
    if (bytes[at] !== 0xff || bytes[at + 1] === 0xff) {
      at++; // fill bytes, or bytes jpeg-js will complain about
      continue;
    }
    const marker = bytes[at + 1]!;
    at += 2;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    if (marker === 0xd9 || at + 2 > n) break;
    const end = at + u16(at);
    if ((marker === 0xc0 || marker === 0xc1 || marker === 0xc2) && !layout && end <= n && at + 8 <= n) {
      const count = bytes[at + 7]!;
      const sampling: Array<[number, number]> = [];
      for (let c = 0; c < count && at + 10 + 3 * c < n; c++) sampling.push([bytes[at + 9 + 3 * c]! >> 4, bytes[at + 9 + 3 * c]! & 15]);
      layout = { width: u16(at + 5), height: u16(at + 3), progressive: marker === 0xc2, sampling, scanBytes: 0, cut: false, sofAt: at - 2 };
    }
    if (marker !== 0xda) {
      at = end;
      continue;
    }
    // entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a restart marker
    let j = end;
    for (; j < n; j++) {
      if (bytes[j] !== 0xff) continue;
      if (j + 1 >= n) {
        j = n;
        break;
      }
      const next = bytes[j + 1]!;
      if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) j++;
      else break;
    }
    scanBytes += Math.max(0, j - end);
    if (j >= n) cut = true;
    at = j;
  }
  if (!layout) return undefined;
  layout.scanBytes = scanBytes;
  layout.cut = cut;
  return layout;
}

/**
 * The scan data a JPEG header promises against what the file holds: every 8x8 block of every
 * component costs at least two bits in a sequential scan (a DC and an end-of-block code) and one
 * in a progressive one, and the last scan must end in a marker. jpeg-js allocates every block
 * the header claims before it reads the scan, and reads zeros past the end of the data.
 */
function checkJpegData(layout: JpegLayout, file: string): void {
  const { width, height, sampling } = layout;
  if (sampling.length === 0 || sampling.some(([h, v]) => !(h >= 1 && h <= 4 && v >= 1 && v <= 4))) return; // jpeg-js reports bad sampling
  const hMax = Math.max(...sampling.map(([h]) => h));
  const vMax = Math.max(...sampling.map(([, v]) => v));
  const blocks = sampling.reduce((a, [h, v]) => a + Math.ceil(Math.ceil((width * h) / hMax) / 8) * Math.ceil(Math.ceil((height * v) / vMax) / 8), 0);
  const minBytes = Math.ceil((blocks * (layout.progressive ? 1 : 2)) / 8);
  if (layout.scanBytes < minBytes) {
    throw new DatasetFormatError({ file, offset: layout.sofAt, expected: `scan data of at least ${minBytes} bytes for the ${width}x${height} image its header claims (${blocks} blocks)`, found: `${layout.scanBytes} bytes` });
  }
  if (layout.cut) throw new DatasetFormatError({ file, offset: layout.sofAt, expected: 'scan data that ends in a marker (EOI)', found: 'a file that ends inside its scan data: truncated' });
}

function decodeJpeg(bytes: Uint8Array, file: string, maxMP: number, maxBytes: number): RawImage {
  const layout = jpegLayout(bytes);
  if (layout) {
    checkSize(file, layout.sofAt, layout.width, layout.height, 3, maxMP, maxBytes);
    checkJpegData(layout, file);
  }
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: maxMP, maxMemoryUsageInMB: 256 });
  } catch (e) {
    throw wrap(file, 'a valid baseline JPEG image', e);
  }
  const n = img.width * img.height;
  if (!(n > 0) || img.data.length < n * 3) {
    throw new DatasetFormatError({ file, offset: 0, expected: 'a JPEG with a non-empty RGB frame', found: `${img.width}x${img.height}` });
  }
  const data = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) data[i] = img.data[i]!;
  return { width: img.width, height: img.height, channels: 3, bitDepth: 8, data };
}

/**
 * Decodes an RGB frame (JPEG or PNG) to Float32 RGB in [0, 1], `H x W x 3`, resized bilinearly
 * to `size` when given. Grey images are repeated over the three channels.
 *
 * @example
 * const rgb = decodeRgbFrame(readFileSync('colorImg190.jpg'), { height: 120, width: 160 });
 */
export function decodeRgbFrame(bytes: Uint8Array, size?: FrameSize, file = '<buffer>'): { height: number; width: number; data: Float32Array } {
  const img = decodeImage(bytes, file);
  const scale = img.bitDepth === 16 ? 65535 : 255;
  const n = img.width * img.height;
  const rgb = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = img.data[i * img.channels + (img.channels === 1 ? 0 : c)]! / scale;
  }
  if (!size) return { height: img.height, width: img.width, data: rgb };
  return { ...size, data: resizeBilinear(rgb, img.height, img.width, 3, size) };
}

/**
 * Decodes a depth PNG (8- or 16-bit; NTU masked depth is 16-bit millimetres with zero background)
 * to its raw values, first channel only, resized bilinearly to `size` when given and, with
 * `normalise: true`, min-max normalised to [0, 1].
 *
 * @example
 * const d = decodeDepthPng(readFileSync('MDepth-00000001.png'), { size: { height: 224, width: 224 }, normalise: true });
 */
export function decodeDepthPng(bytes: Uint8Array, options: { size?: FrameSize; normalise?: boolean } = {}, file = '<buffer>'): { height: number; width: number; data: Float32Array; bitDepth: number } {
  if (!(bytes.length >= 4 && PNG_SIG.every((b, i) => bytes[i] === b))) {
    throw new DatasetFormatError({ file, offset: 0, expected: 'a PNG depth image (\\x89PNG signature)' });
  }
  const img = decodeImage(bytes, file);
  const n = img.width * img.height;
  let data: Float32Array = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = img.data[i * img.channels]!;
  let { height, width } = img;
  if (options.size) {
    data = resizeBilinear(data, height, width, 1, options.size);
    ({ height, width } = options.size);
  }
  if (options.normalise) minMaxNormalise(data);
  return { height, width, data, bitDepth: img.bitDepth };
}
