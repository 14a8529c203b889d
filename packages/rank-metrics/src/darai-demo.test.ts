import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '@r3d-ts/tensor-io/node';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { harmonicBalance, mutualGain } from './index.js';

const dir = sharedFixture('darai-demo');
const RATIOS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];

/** The table of the fixture's README, parsed rather than retyped. */
function readmeTable(readme: string): Map<string, [number, number, number]> {
  const rows = new Map<string, [number, number, number]>();
  for (const m of readme.matchAll(/^\| (0\.\d) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$/gm)) {
    rows.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  return rows;
}

describe.skipIf(!dir)('DARai tokens of the authors (../shared/fixtures/darai-demo)', () => {
  const table = dir ? readmeTable(readFileSync(join(dir, 'README.md'), 'utf8')) : new Map();
  const manifest: Manifest = dir ? JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) : { channels: 0, ratios: {} };

  it('the README table has all 9 observation ratios', () => {
    expect([...table.keys()]).toEqual(RATIOS);
  });

  it.each(RATIOS)('obs %s: mean gains of RGB and depth and their harmonic mean match to 1e-3', (ratio) => {
    const load = (name: string) => readNpy(join(dir!, `${name}_obs${ratio}.npy`));
    const arrays = { beforeA: load('rgb_raw'), afterA: load('exchanged_rgb'), beforeB: load('depth_raw'), afterB: load('exchanged_depth') };
    const entries = manifestEntries(manifest, ratio).filter((s) => s.index <= 32); // the README averages sequences 0..32
    expect(entries.length).toBe(33);
    const slice = (a: { data: unknown }, s: { offset: number; frames: number }) => ({
      data: (a.data as Float32Array).subarray(s.offset * 128, (s.offset + s.frames) * 128),
      rows: s.frames,
      cols: 128,
    });
    const g = mutualGain({
      beforeA: entries.map((s) => slice(arrays.beforeA, s)),
      afterA: entries.map((s) => slice(arrays.afterA, s)),
      beforeB: entries.map((s) => slice(arrays.beforeB, s)),
      afterB: entries.map((s) => slice(arrays.afterB, s)),
    });
    const [rgb, depth, h] = table.get(ratio)!;
    expect(Math.abs(g.gainA - rgb)).toBeLessThan(1e-3);
    expect(Math.abs(g.gainB - depth)).toBeLessThan(1e-3);
    expect(Math.abs(g.balance - h)).toBeLessThan(1e-3);
    expect(harmonicBalance(g.gainA, g.gainB)).toBe(g.balance);
  });
});

interface Manifest {
  channels: number;
  ratios: Record<string, Array<{ sequence: number; offset: number; frames: number }>>;
}

function manifestEntries(manifest: Manifest, ratio: string): Array<{ index: number; offset: number; frames: number }> {
  return manifest.ratios[ratio]!.map((s) => ({ index: s.sequence, offset: s.offset, frames: s.frames }));
}
