import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { FrameModality, Sequence } from '@r3d-ts/datasets';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';

// A content-addressed cache of generated data: the entry's name is the SHA-256 of everything
// that decides its bytes (the generation options and the generator's own code), so two runs,
// two cells or two concurrent processes asking for the same data read one file, and a change
// of options or of the generator is a new entry, never a stale one. Entries are written
// atomically (a reader sees the whole file or none) and end with a checksum of their bytes, so
// a truncated or corrupt entry reads as missing and is generated again.

const MAGIC = 'R3DDATA1';

/** What a cache entry holds: named sequence lists and free JSON facts. */
export interface CachedData {
  facts: Record<string, unknown>;
  splits: Record<string, Sequence[]>;
}

/**
 * The cache folder: `R3D_CACHE_DIR` when set, else `$XDG_CACHE_HOME/r3d-ts`, else
 * `node_modules/.cache/r3d-ts` of the nearest folder at or above `cwd` with a `node_modules`,
 * else `r3d-ts` in the system's cache under the home folder. `R3D_CACHE_DIR=off` turns caching off
 * (returns null).
 *
 * @example
 * cacheFolder(); // '/repo/node_modules/.cache/r3d-ts'
 */
export function cacheFolder(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  if (env.R3D_CACHE_DIR === 'off') return null;
  if (env.R3D_CACHE_DIR) return env.R3D_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'r3d-ts');
  for (let dir = cwd; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules', '.cache', 'r3d-ts');
    if (dirname(dir) === dir) break;
  }
  return env.HOME ? join(env.HOME, '.cache', 'r3d-ts') : null;
}

const codeDigests = new Map<string, string>();

/**
 * SHA-256 of a package's code as this process loads it: every file (source maps and tests left
 * out) of the top folder (`dist` or `src`) that holds the resolved entry `specifier`. It keys the
 * cache, so rebuilding the generator with a change invalidates what it made before.
 *
 * @example
 * generatorDigest('@r3d-ts/datasets/synthetic'); // 'c0ffee...'
 */
export function generatorDigest(specifier: string): string {
  let digest = codeDigests.get(specifier);
  if (digest) return digest;
  const entry = createRequire(import.meta.url).resolve(specifier);
  // the package root is the nearest folder with a package.json; its first folder on the way is dist or src
  let root = dirname(entry);
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  const top = join(root, entry.slice(root.length + 1).split(sep)[0]!);
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/\.map$|\.test\.[cm]?[jt]s$/.test(name)) hash.update(path.slice(top.length)).update(readFileSync(path));
    }
  };
  walk(top);
  digest = hash.digest('hex');
  codeDigests.set(specifier, digest);
  return digest;
}

/** The cache key of a JSON-able description: SHA-256 of its canonical JSON (keys sorted). */
export function cacheKey(description: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(description))).digest('hex');
}

/** Serialises data: magic, header length, JSON header, the arrays' bytes, then a SHA-256 of all before it. */
export function encodeCachedData(data: CachedData): Uint8Array {
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const place = (a: Float32Array | Int32Array) => {
    const at = offset;
    blobs.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    offset += a.byteLength;
    return at;
  };
  const splits = Object.fromEntries(
    Object.entries(data.splits).map(([name, seqs]) => [
      name,
      seqs.map((s) => ({
        id: s.id,
        frames: s.frames,
        labels: place(s.labels),
        meta: s.meta ?? null,
        modalities: Object.fromEntries(Object.entries(s.modalities).filter(([, m]) => m).map(([k, m]) => [k, { dim: m!.dim, shape: m!.shape ?? null, at: place(m!.data), length: m!.data.length }])),
      })),
    ]),
  );
  const header = Buffer.from(JSON.stringify({ facts: data.facts, splits }), 'utf8');
  const head = Buffer.alloc(MAGIC.length + 4);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, MAGIC.length);
  // the arrays start at a multiple of 4 bytes, so reading them back needs no copy
  const padding = Buffer.alloc((4 - ((head.length + header.length) % 4)) % 4, 0x20);
  const body = Buffer.concat([head, header, padding, ...blobs]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/**
 * Reads what `encodeCachedData` wrote, or returns null for anything else (a truncated, corrupt
 * or foreign file): its checksum, magic and header must agree.
 */
export function decodeCachedData(bytes: Uint8Array): CachedData | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 + 32) return null;
  const body = buf.subarray(0, buf.length - 32);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - 32))) return null;
  if (body.toString('latin1', 0, MAGIC.length) !== MAGIC) return null;
  const headerLength = body.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  let header: { facts: Record<string, unknown>; splits: Record<string, Array<{ id: string; frames: number; labels: number; meta: Record<string, unknown> | null; modalities: Record<string, { dim: number; shape: number[] | null; at: number; length: number }> }>> };
  try {
    header = JSON.parse(body.toString('utf8', start, start + headerLength));
  } catch {
    return null;
  }
  const dataStart = start + headerLength + ((4 - ((start + headerLength) % 4)) % 4);
  // one aligned copy of the arrays' bytes, which every sequence views
  const arrays = new Uint8Array(body.length - dataStart);
  arrays.set(body.subarray(dataStart));
  const view = (Kind: typeof Float32Array | typeof Int32Array, at: number, length: number) => {
    if (at + 4 * length > arrays.byteLength) throw new RangeError('past the end');
    return new Kind(arrays.buffer, at, length);
  };
  try {
    const splits = Object.fromEntries(
      Object.entries(header.splits).map(([name, seqs]) => [
        name,
        seqs.map((s): Sequence => {
          const modalities: Record<string, FrameModality> = {};
          for (const [k, m] of Object.entries(s.modalities)) modalities[k] = { dim: m.dim, data: view(Float32Array, m.at, m.length) as Float32Array, ...(m.shape ? { shape: m.shape } : {}) };
          return { id: s.id, frames: s.frames, labels: view(Int32Array, s.labels, s.frames) as Int32Array, modalities, ...(s.meta ? { meta: s.meta } : {}) };
        }),
      ]),
    );
    return { facts: header.facts, splits };
  } catch {
    return null;
  }
}

/**
 * The data under `key` from the cache folder, or `make()`'s, which is then stored under `key`
 * (atomically: concurrent runs that both make it write the same bytes, and a reader never sees a
 * half-written entry). An entry that cannot be read back (truncated, corrupt) is removed and made
 * again. With no cache folder (`R3D_CACHE_DIR=off`) it only calls `make`. `hit` tells which happened.
 *
 * @example
 * const { data, hit } = await cachedData(cacheKey({ seed: 1 }), () => generate());
 */
export async function cachedData(key: string, make: () => CachedData | Promise<CachedData>, folder = cacheFolder()): Promise<{ data: CachedData; hit: boolean; path: string | null }> {
  if (!folder) return { data: await make(), hit: false, path: null };
  const path = join(folder, 'data', `${key}.bin`);
  if (existsSync(path)) {
    let data: CachedData | null = null;
    try {
      data = decodeCachedData(readFileSync(path));
    } catch {
      data = null;
    }
    if (data) return { data, hit: true, path };
    rmSync(path, { force: true });
  }
  const data = await make();
  try {
    writeFileAtomic(path, encodeCachedData(data));
  } catch {
    // a read-only or full cache only costs the next run the generation again
  }
  return { data, hit: false, path };
}
