// Test-only builders of hostile files (zip archives with chosen declared sizes, torch pickles with
// any view values, deflate streams of many zeros) and a child-process RSS probe. Not exported.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants, deflateRawSync } from 'node:zlib';

export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** One zip entry: `data` as stored in the archive (raw deflate when `method` is 8). */
export interface ZipInput {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  /** The declared uncompressed size (defaults to `data.length`, right for stored entries). */
  size?: number;
}

/**
 * A zip archive of `entries`, written field by field so a test can lie about any size. With
 * `zip64`, the central directory keeps every size and offset in zip64 extra fields (the 32-bit
 * ones set to 0xffffffff) and the end record points to a zip64 end record, as big archives do.
 */
export function zipFiles(entries: readonly ZipInput[], options: { zip64?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const z64 = options.zip64 === true;
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method ?? 0;
    const size = e.size ?? e.data.length;
    const local = new Uint8Array(30 + name.length + e.data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    local.set(e.data, 30 + name.length);
    // no CRC: the reader under test does not check it, and computing one over gigabytes would be slow
    const extra = z64 ? 28 : 0;
    const central = new Uint8Array(46 + name.length + extra);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 45, true);
    cv.setUint16(6, 45, true);
    cv.setUint16(10, method, true);
    cv.setUint32(20, z64 ? 0xffffffff : e.data.length, true);
    cv.setUint32(24, z64 ? 0xffffffff : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra, true);
    cv.setUint32(42, z64 ? 0xffffffff : offset, true);
    central.set(name, 46);
    if (z64) {
      const x = 46 + name.length;
      cv.setUint16(x, 0x0001, true);
      cv.setUint16(x + 2, 24, true);
      cv.setBigUint64(x + 4, BigInt(size), true);
      cv.setBigUint64(x + 12, BigInt(e.data.length), true);
      cv.setBigUint64(x + 20, BigInt(offset), true);
    }
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const tail = z64 ? 56 + 20 : 0;
  const out = new Uint8Array(offset + cdSize + tail + 22);
  let at = 0;
  for (const part of [...locals, ...centrals]) {
    out.set(part, at);
    at += part.length;
  }
  const ev = new DataView(out.buffer);
  if (z64) {
    ev.setUint32(at, 0x06064b50, true);
    ev.setBigUint64(at + 4, 44n, true);
    ev.setBigUint64(at + 24, BigInt(entries.length), true);
    ev.setBigUint64(at + 32, BigInt(entries.length), true);
    ev.setBigUint64(at + 40, BigInt(cdSize), true);
    ev.setBigUint64(at + 48, BigInt(offset), true);
    ev.setUint32(at + 56, 0x07064b50, true);
    ev.setBigUint64(at + 56 + 8, BigInt(at), true);
    ev.setUint32(at + 56 + 16, 1, true);
    at += tail;
  }
  ev.setUint32(at, 0x06054b50, true);
  ev.setUint16(at + 8, z64 ? 0xffff : entries.length, true);
  ev.setUint16(at + 10, z64 ? 0xffff : entries.length, true);
  ev.setUint32(at + 12, z64 ? 0xffffffff : cdSize, true);
  ev.setUint32(at + 16, z64 ? 0xffffffff : offset, true);
  return out;
}

/**
 * A raw deflate stream of `mib` MiB of zeros, about 1 KB per MiB: one full-flushed MiB repeated
 * (a full flush ends byte-aligned with a fresh dictionary, so copies concatenate), then an empty
 * final block. Building it never holds the zeros.
 */
export function deflatedZeros(mib: number): Uint8Array {
  const one = deflateRawSync(new Uint8Array(2 ** 20), { finishFlush: constants.Z_FULL_FLUSH });
  const out = new Uint8Array(one.length * mib + 2);
  for (let i = 0; i < mib; i++) out.set(one, i * one.length);
  out.set([0x03, 0x00], one.length * mib); // a final, empty fixed-Huffman block
  return out;
}

/** A protocol-2 pickle writer that writes any number where torch writes an int (to lie with). */
export class PickleBuilder {
  private readonly out: number[] = [0x80, 2];
  private memo = 0;
  private u32(n: number): void {
    this.out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  op(...b: number[]): this {
    this.out.push(...b);
    return this;
  }
  put(): this {
    if (this.memo < 256) this.op(0x71, this.memo++);
    else {
      this.op(0x72);
      this.u32(this.memo++);
    }
    return this;
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.op(0x58);
    this.u32(b.length);
    this.out.push(...b);
    return this.put();
  }
  /** An int as torch writes it (BININT1/2, BININT, LONG1 beyond 32 bits); a fraction as BINFLOAT. */
  num(n: number): this {
    if (!Number.isInteger(n)) {
      const b = new DataView(new ArrayBuffer(8));
      b.setFloat64(0, n, false);
      return this.op(0x47, ...new Uint8Array(b.buffer));
    }
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 255, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) {
      this.op(0x4a);
      this.u32(n >>> 0);
      return this;
    }
    let v = BigInt(n);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(v & 255n));
      v >>= 8n;
      if ((v === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (v === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)) break;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  global(module: string, name: string): this {
    this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
    return this.put();
  }
  tuple(items: readonly number[]): this {
    this.op(0x28);
    for (const i of items) this.num(i);
    return this.op(0x74).put();
  }
  bytes(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]);
  }
}

/** A tensor view as torch.save pickles it: a storage (key, type, numel) and offset, size, stride. */
export interface ViewSpec {
  key: string;
  dtype?: string;
  numel: number;
  offset: number;
  size: readonly number[];
  stride: readonly number[];
}

function writeView(p: PickleBuilder, v: ViewSpec): void {
  p.global('torch._utils', '_rebuild_tensor_v2');
  p.op(0x28, 0x28); // MARK args, MARK persistent id
  p.str('storage').global('torch', v.dtype ?? 'FloatStorage').str(v.key).str('cpu').num(v.numel);
  p.op(0x74).put().op(0x51); // TUPLE, BINPERSID
  p.num(v.offset).tuple(v.size).tuple(v.stride);
  p.op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).put(); // requires_grad, hooks
  p.op(0x74).put().op(0x52).put(); // TUPLE, REDUCE
}

/**
 * A `.pt` zip: the pickle of one bare tensor (`torch.save(t)`) or of a state dict (an array of
 * named views), its storages (stored) and any extra entries.
 */
export function ptFile(views: ViewSpec | ReadonlyArray<[string, ViewSpec]>, storages: Record<string, Uint8Array>, extra: readonly ZipInput[] = []): Uint8Array {
  const p = new PickleBuilder();
  if (Array.isArray(views)) {
    p.global('collections', 'OrderedDict').op(0x29, 0x52).put().op(0x28);
    for (const [name, v] of views as ReadonlyArray<[string, ViewSpec]>) {
      p.str(name);
      writeView(p, v);
    }
    p.op(0x75);
  } else {
    writeView(p, views as ViewSpec);
  }
  return zipFiles([
    { name: 'archive/data.pkl', data: p.bytes() },
    { name: 'archive/byteorder', data: new TextEncoder().encode('little') },
    ...Object.entries(storages).map(([k, data]) => ({ name: `archive/data/${k}`, data })),
    ...extra,
  ]);
}

export function f32(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** What a child process reading one file reports: success or the error, and its peak RSS. */
export interface ProbeResult {
  ok: boolean;
  name?: string;
  message?: string;
  maxRss: number;
}

/**
 * Runs `fn(file, options)` of module `modulePath` (TypeScript source, through tsx) in a fresh
 * Node process and returns what it threw and its peak resident set (bytes), measured by
 * `process.resourceUsage().maxRSS`, so an allocation the reader makes shows however it ends.
 */
export function probe(modulePath: string, fn: string, file: string, options: object = {}): ProbeResult {
  const script = [
    'const [mod, fn, file, opts] = process.argv.slice(1);',
    'const m = await import(mod);',
    'let r = { ok: true };',
    'try { m[fn](file, JSON.parse(opts)); } catch (e) { r = { ok: false, name: e?.name, message: String(e?.message) }; }',
    'r.maxRss = process.resourceUsage().maxRSS * 1024;',
    'console.log(JSON.stringify(r));',
  ].join('\n');
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, modulePath, fn, file, JSON.stringify(options)], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = res.stdout.trim().split('\n').pop() ?? '';
  if (res.status !== 0 || !line.startsWith('{')) throw new Error(`probe of ${fn}(${file}) exited ${res.status} ${res.signal ?? ''}: ${res.stderr.slice(-2000)}`);
  return JSON.parse(line) as ProbeResult;
}

export const MiB = 2 ** 20;

const enc = (s: string) => new TextEncoder().encode(s);

/** A .npy image whose header says `shape` over `dataBytes` bytes of data. */
export function npyClaiming(shape: string, dataBytes: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const text = enc(dict + ' '.repeat((64 - ((10 + dict.length + 1) % 64)) % 64) + '\n');
  const out = new Uint8Array(10 + text.length + dataBytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(text, 10);
  return out;
}

/** A safetensors image with one entry and a hand-written header. */
export function safetensorsClaiming(entry: object, dataBytes: number): Uint8Array {
  let json = JSON.stringify({ x: entry });
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(enc(json), 8);
  return out;
}
