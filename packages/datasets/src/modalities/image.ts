import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { DatasetFormatError } from '../errors.js';

/** A decoded image: `channels` values per pixel, row-major, in the file's own units. */
export interface RawImage {
  width: number;
  height: number;
  channels: number;
  /** 8 or 16 (PNG); 8 for JPEG. */
  bitDepth: number;
  data: Float32Array;
}

/** Target size of a resized frame. */
export interface FrameSize {
  height: number;
  width: number;
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
 * dropped. Anything else throws `DatasetFormatError`.
 *
 * @example
 * const img = decodeImage(readFileSync('MDepth-00000001.png'), 'MDepth-00000001.png'); // channels 1, bitDepth 16
 */
export function decodeImage(bytes: Uint8Array, file = '<buffer>', options: { maxMegapixels?: number } = {}): RawImage {
  const maxMP = options.maxMegapixels ?? 40;
  if (bytes.length >= 4 && PNG_SIG.every((b, i) => bytes[i] === b)) return decodePng(bytes, file, maxMP);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return decodeJpeg(bytes, file, maxMP);
  throw new DatasetFormatError({ file, offset: 0, expected: 'a PNG (\\x89PNG) or JPEG (\\xFF\\xD8\\xFF) signature' });
}

function decodePng(bytes: Uint8Array, file: string, maxMP: number): RawImage {
  // IHDR sits at a fixed place; refuse absurd sizes before pngjs allocates them.
  if (bytes.length >= 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const w = v.getUint32(16);
    const h = v.getUint32(20);
    if (w * h > maxMP * 1e6) {
      throw new DatasetFormatError({ file, offset: 16, expected: `an image of at most ${maxMP} megapixels`, found: `${w}x${h}` });
    }
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

function decodeJpeg(bytes: Uint8Array, file: string, maxMP: number): RawImage {
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
 * Bilinear resize with half-pixel centres (the convention of OpenCV `INTER_LINEAR`, PIL
 * `BILINEAR` without antialiasing, and PyTorch `interpolate(align_corners=False)`): output pixel
 * (y, x) samples the source at ((y + 0.5) * H / h - 0.5, (x + 0.5) * W / w - 0.5), clamped to the
 * edges. No antialiasing: strong downscales alias, as in the released R3D preprocessing.
 *
 * @example
 * const small = resizeBilinear(frame, 424, 512, 1, { height: 120, width: 160 });
 */
export function resizeBilinear(src: ArrayLike<number>, height: number, width: number, channels: number, size: FrameSize): Float32Array {
  const { height: oh, width: ow } = size;
  const out = new Float32Array(oh * ow * channels);
  if (oh === height && ow === width) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return out;
  }
  const sy = height / oh;
  const sx = width / ow;
  const x0s = new Int32Array(ow);
  const x1s = new Int32Array(ow);
  const fxs = new Float32Array(ow);
  for (let x = 0; x < ow; x++) {
    const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), width - 1);
    x0s[x] = Math.floor(fx);
    x1s[x] = Math.min(x0s[x]! + 1, width - 1);
    fxs[x] = fx - x0s[x]!;
  }
  for (let y = 0; y < oh; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, height - 1);
    const wy = fy - y0;
    for (let x = 0; x < ow; x++) {
      const x0 = x0s[x]!;
      const x1 = x1s[x]!;
      const wx = fxs[x]!;
      for (let c = 0; c < channels; c++) {
        const a = src[(y0 * width + x0) * channels + c]!;
        const b = src[(y0 * width + x1) * channels + c]!;
        const d = src[(y1 * width + x0) * channels + c]!;
        const e = src[(y1 * width + x1) * channels + c]!;
        const top = a + (b - a) * wx;
        const bottom = d + (e - d) * wx;
        out[(y * ow + x) * channels + c] = top + (bottom - top) * wy;
      }
    }
  }
  return out;
}

/**
 * Min-max normalises one frame to [0, 1] in place (what R3D's depth encoder expects). A constant
 * frame (e.g. all background) becomes all zeros rather than NaN.
 *
 * @example
 * minMaxNormalise(depthFrame); // min -> 0, max -> 1
 */
export function minMaxNormalise(frame: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  if (!(range > 0) || !Number.isFinite(range)) {
    frame.fill(0);
    return frame;
  }
  for (let i = 0; i < frame.length; i++) frame[i] = (frame[i]! - lo) / range;
  return frame;
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

/** Reads and decodes an RGB frame file; see `decodeRgbFrame`. */
export function readRgbFrame(path: string, size?: FrameSize): { height: number; width: number; data: Float32Array } {
  return decodeRgbFrame(readFile(path), size, path);
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

/** Normalises a depth volume (T frames of H x W) frame by frame and resizes it; returns T*h*w values. */
export function prepareDepthFrames(frames: Float32Array, count: number, height: number, width: number, size?: FrameSize): Float32Array {
  const oh = size?.height ?? height;
  const ow = size?.width ?? width;
  const out = new Float32Array(count * oh * ow);
  for (let t = 0; t < count; t++) {
    const src = frames.subarray(t * height * width, (t + 1) * height * width);
    const r = size ? resizeBilinear(src, height, width, 1, size) : Float32Array.from(src);
    out.set(minMaxNormalise(r), t * oh * ow);
  }
  return out;
}

/** Reads a file, turning a missing file into a `DatasetFormatError` naming it. */
export function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DatasetFormatError({ file: path, expected: 'a readable file', found: (e as NodeJS.ErrnoException).code ?? String(e), cause: e });
  }
}
