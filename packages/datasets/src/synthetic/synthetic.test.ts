import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SyntheticDataset } from './dataset.js';

function digest(ds: SyntheticDataset, n: number): string {
  const h = createHash('sha256');
  for (let i = 0; i < n; i++) {
    const s = ds.generate(i);
    h.update(s.id).update(new Uint8Array(s.labels.buffer));
    for (const k of Object.keys(s.modalities).sort()) h.update(k).update(new Uint8Array(s.modalities[k]!.data.buffer));
  }
  return h.digest('hex');
}

describe('SyntheticDataset', () => {
  it('is byte-identical for one seed and differs for another', () => {
    const a = digest(new SyntheticDataset({ seed: 7, count: 4 }), 4);
    expect(digest(new SyntheticDataset({ seed: 7, count: 4 }), 4)).toBe(a);
    expect(digest(new SyntheticDataset({ seed: 8, count: 4 }), 4)).not.toBe(a);
  });

  it('yields aligned, finite modalities, class names and splits', async () => {
    const ds = new SyntheticDataset({ seed: 1, count: 20, includeFrames: true });
    expect(ds.indices('train')).toHaveLength(14);
    expect(ds.indices('val')).toHaveLength(3);
    expect(ds.indices('test')).toHaveLength(3);
    expect(ds.classNames).toContain('pour');
    const s = ds.generate(0);
    expect(s.frames).toBeGreaterThan(30);
    expect(s.modalities.rgb!.dim).toBe(256);
    expect(s.modalities.depth!.shape).toEqual([24, 32]);
    expect(s.modalities.imu!.dim).toBe(6);
    for (const m of Object.values(s.modalities)) {
      expect(m!.data.length).toBe(s.frames * m!.dim);
      expect(m!.data.every(Number.isFinite)).toBe(true);
    }
    // The depth z-buffer is in metres (table and wall between ~0.5 and ~3 m).
    const d = s.modalities.depthMetres!.data;
    expect(Math.min(...d)).toBeGreaterThan(0.2);
    expect(Math.max(...d)).toBeLessThan(4);
    let n = 0;
    for await (const x of ds.sequences('val')) n += x.frames > 0 ? 1 : 0;
    expect(n).toBe(3);
  });

  it('puts the action in the signals: depth tracks the hand moving toward vs away', () => {
    const ds = new SyntheticDataset({ seed: 2, count: 24, includeFrames: true });
    const gyroPour: number[] = [];
    const gyroOther: number[] = [];
    const dz: Record<string, number[]> = { move_toward: [], move_away: [] };
    const iToward = ds.classNames.indexOf('move_toward'), iAway = ds.classNames.indexOf('move_away'), iPour = ds.classNames.indexOf('pour');
    for (let i = 0; i < 24; i++) {
      const s = ds.generate(i);
      const imu = s.modalities.imu!.data;
      const dm = s.modalities.depthMetres!.data;
      const hw = 24 * 32;
      for (let t = 0; t < s.frames; t++) {
        const roll = Math.abs(imu[t * 6 + 5]!);
        (s.labels[t] === iPour ? gyroPour : gyroOther).push(roll);
      }
      // Mean depth change of the segment's frames (the held object nears or recedes).
      for (const [name, k] of [['move_toward', iToward], ['move_away', iAway]] as const) {
        const idx = [...s.labels.keys()].filter((t) => s.labels[t] === k);
        if (idx.length > 2) dz[name]!.push(meanDepth(dm, idx.at(-1)!, hw) - meanDepth(dm, idx[0]!, hw));
      }
    }
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(gyroPour)).toBeGreaterThan(3 * mean(gyroOther));
    expect(dz.move_toward!.length).toBeGreaterThan(2);
    expect(dz.move_away!.length).toBeGreaterThan(2);
    expect(mean(dz.move_toward!)).toBeLessThan(mean(dz.move_away!));
  });
});

function meanDepth(d: Float32Array, t: number, hw: number): number {
  let s = 0;
  for (let k = 0; k < hw; k++) s += d[t * hw + k]!;
  return s / hw;
}
