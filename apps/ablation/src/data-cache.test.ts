import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sequence } from '@r3d-ts/datasets';
import { cachedData, cacheFolder, cacheKey, type CachedData, decodeCachedData, encodeCachedData } from './data-cache.js';
import { parseAblationConfig } from './config.js';
import { loadAblationData } from './data.js';
import { appDir } from './test-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'r3d-ablation-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sequence(id: string, frames: number, seed: number): Sequence {
  const values = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7 + i));
  return { id, frames, labels: Int32Array.from({ length: frames }, (_, i) => (i + seed) % 3), modalities: { rgb: { dim: 3, data: values(3 * frames) }, depth: { dim: 4, data: values(4 * frames), shape: [2, 2] } }, meta: { seed } };
}
const sample: CachedData = { facts: { classNames: ['a', 'b', 'c'] }, splits: { train: [sequence('v0', 5, 1), sequence('v1', 3, 2)], test: [sequence('v2', 4, 3)] } };

describe('the dataset cache', () => {
  it('reads back exactly what it wrote', () => {
    const back = decodeCachedData(encodeCachedData(sample));
    expect(back).toEqual(sample);
  });

  it('keys on content: key order does not matter, any option does', () => {
    expect(cacheKey({ a: 1, b: { c: 2, d: [3] } })).toBe(cacheKey({ b: { d: [3], c: 2 }, a: 1 }));
    expect(cacheKey({ a: 1 })).not.toBe(cacheKey({ a: 2 }));
  });

  it('a truncated, flipped or foreign entry reads as missing and is made again', async () => {
    const folder = join(tmp, 'corrupt');
    let made = 0;
    const make = () => (made++, sample);
    const first = await cachedData('k', make, folder);
    expect([first.hit, made]).toEqual([false, 1]);
    expect((await cachedData('k', make, folder)).hit).toBe(true);
    const bytes = readFileSync(first.path!);
    const damaged = [bytes.subarray(0, bytes.length - 100), Buffer.concat([bytes.subarray(0, 40), Buffer.from([bytes[40]! ^ 1]), bytes.subarray(41)]), Buffer.from('not a cache entry')];
    for (const bad of damaged) {
      writeFileSync(first.path!, bad);
      const again = await cachedData('k', make, folder);
      expect(again.hit).toBe(false);
      expect(again.data).toEqual(sample);
      // the entry was rewritten whole: the next read is a hit again
      expect((await cachedData('k', make, folder)).hit).toBe(true);
    }
    expect(made).toBe(1 + damaged.length);
    // no temporary file left behind
    expect(readdirSync(join(folder, 'data'))).toEqual(['k.bin']);
  });

  it('R3D_CACHE_DIR picks the folder, off turns it off; XDG_CACHE_HOME is used next', () => {
    expect(cacheFolder({ R3D_CACHE_DIR: '/x' })).toBe('/x');
    expect(cacheFolder({ R3D_CACHE_DIR: 'off' })).toBeNull();
    expect(cacheFolder({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'r3d-ts'));
    expect(cacheFolder({}, appDir)).toMatch(/node_modules\/\.cache\/r3d-ts$/);
  });

  it('the synthetic data of a grid: a second load reads the cache and is the same bytes', async () => {
    const folder = join(tmp, 'grid');
    const env = process.env.R3D_CACHE_DIR;
    process.env.R3D_CACHE_DIR = folder;
    try {
      const config = parseAblationConfig({ synthetic: { count: 6 } });
      const a = await loadAblationData(config);
      expect(readdirSync(join(folder, 'data'))).toHaveLength(1);
      const b = await loadAblationData(config);
      expect(b).toEqual(a);
      process.env.R3D_CACHE_DIR = 'off';
      expect(await loadAblationData(config)).toEqual(a);
      process.env.R3D_CACHE_DIR = folder;
      await loadAblationData(parseAblationConfig({ synthetic: { count: 6, grammar: 'random' } }));
      expect(readdirSync(join(folder, 'data'))).toHaveLength(2);
    } finally {
      if (env === undefined) delete process.env.R3D_CACHE_DIR;
      else process.env.R3D_CACHE_DIR = env;
    }
  });

  it('four processes filling one entry at once all read whole, equal data', async () => {
    const folder = join(tmp, 'race');
    const script = `
      import { cachedData } from ${JSON.stringify(join(appDir, 'src', 'data-cache.ts'))};
      const frames = 20000;
      const data = { facts: {}, splits: { train: [{ id: 'v', frames, labels: new Int32Array(frames).fill(1), modalities: { rgb: { dim: 8, data: new Float32Array(8 * frames).fill(0.5) } } }] } };
      const r = await cachedData('race', () => data, ${JSON.stringify(folder)});
      const seq = r.data.splits.train[0];
      process.stdout.write(JSON.stringify({ frames: seq.frames, sum: seq.modalities.rgb.data.reduce((a, b) => a + b, 0) }));
    `;
    const run = () => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: appDir, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
    });
    const outs = await Promise.all([run(), run(), run(), run()]);
    for (const o of outs) expect(JSON.parse(o)).toEqual({ frames: 20000, sum: 0.5 * 8 * 20000 });
    expect(readdirSync(join(folder, 'data'))).toEqual(['race.bin']);
  }, 120_000);
});
