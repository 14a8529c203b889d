import { describe, expect, it, vi } from 'vitest';
import { createHash } from 'node:crypto';
import { subsampleSequence } from '../sequence.js';
import { renderFrame } from './render.js';
import { SyntheticDataset } from './dataset.js';
import { PLANTED_DIMS } from './planted.js';

// renderFrame as written, counted: keepEvery must render only the frames it keeps
vi.mock('./render.js', async (original) => {
  const actual = await original<typeof import('./render.js')>();
  return { ...actual, renderFrame: vi.fn(actual.renderFrame) };
});

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

  it('keepEvery: k gives subsampleSequence(generate(i), k) exactly, planted partners and frames included, rendering only what it keeps', () => {
    const ds = new SyntheticDataset({ seed: 3, count: 6, includeFrames: true, planted: ['informative', 'redundant', 'noise'] });
    for (const [index, k] of [[0, 5], [1, 5], [2, 3], [3, 2], [4, 1], [5, 7]] as const) {
      const full = ds.generate(index);
      const kept = ds.generate(index, { keepEvery: k });
      expect(kept, `sequence ${index}, every ${k}`).toEqual(subsampleSequence(full, k));
      for (const name of Object.keys(full.modalities)) {
        expect(Buffer.from(kept.modalities[name]!.data.buffer).equals(Buffer.from(subsampleSequence(full, k).modalities[name]!.data.buffer)), `${name} bits`).toBe(true);
      }
    }
    // without the informative partner's look-ahead, only the kept frames are rendered
    const plain = new SyntheticDataset({ seed: 3, count: 6 });
    const rendered = vi.mocked(renderFrame);
    rendered.mockClear();
    const T = plain.generate(0).frames;
    expect(rendered).toHaveBeenCalledTimes(T);
    rendered.mockClear();
    expect(plain.generate(0, { keepEvery: 5 }).frames).toBe(Math.ceil(T / 5));
    expect(rendered).toHaveBeenCalledTimes(Math.ceil(T / 5));
    expect(() => ds.generate(0, { keepEvery: 0 })).toThrow(/keepEvery must be a positive integer, got 0/);
    expect(() => ds.generate(0, { keepEvery: 2.5 })).toThrow(/keepEvery must be a positive integer/);
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

describe('action grammar', () => {
  it('random (the default) is the bytes it was before the option existed', () => {
    // sha256 of the first 6 sequences of seed 7, as generated before `grammar` was added
    const ds = new SyntheticDataset({ seed: 7, count: 6 });
    expect(digest(ds, 6)).toBe('7a96c81161aab4e62614242ab54b9b3ccbadff576ab6931e20c711cb310e49f1');
    expect(digest(new SyntheticDataset({ seed: 7, count: 6, grammar: 'random' }), 6)).toBe(digest(ds, 6));
  });

  it('by-object: the object decides the task, each object at most once', () => {
    const ds = new SyntheticDataset({ seed: 4, count: 30, grammar: 'by-object' });
    const name = (l: number) => ds.classNames[l]!;
    let tasks = 0;
    for (let i = 0; i < 30; i++) {
      const s = ds.generate(i);
      const phrases = s.meta!.phrases as string[];
      // the actions of each task, by the object its phrases name
      const byObject = new Map<string, string[]>();
      let object = '';
      for (let t = 0; t < s.frames; t++) {
        const action = name(s.labels[t]!);
        if (action === 'reach') object = /the (red ball|blue cup|green block)/.exec(phrases[t]!)![1]!;
        if (action === 'idle' || action === 'retract') continue;
        const seen = byObject.get(object) ?? [];
        if (seen.at(-1) !== action) seen.push(action);
        byObject.set(object, seen);
      }
      for (const [obj, actions] of byObject) {
        tasks++;
        if (obj === 'red ball') expect(actions).toSatisfy((a: string[]) => a.join() === 'reach,push' || a.join() === 'reach,pull');
        if (obj === 'blue cup') expect(actions.join()).toBe('reach,grasp,lift,pour,place');
        if (obj === 'green block') expect(actions).toSatisfy((a: string[]) => a.join() === 'reach,grasp,lift,move_toward,place' || a.join() === 'reach,grasp,lift,move_away,place');
      }
    }
    expect(tasks).toBeGreaterThan(40);
  });

  it('rejects an unknown grammar', () => {
    expect(() => new SyntheticDataset({ grammar: 'chaos' as never })).toThrow(/grammar must be 'random' or 'by-object', got chaos/);
  });
});

describe('planted partners', () => {
  const plain = new SyntheticDataset({ seed: 3, count: 4 });
  const planted = new SyntheticDataset({ seed: 3, count: 4, planted: ['informative', 'redundant', 'noise'] });

  it('add modalities of their names and leave every other modality the same bytes', () => {
    for (let i = 0; i < 4; i++) {
      const a = plain.generate(i);
      const b = planted.generate(i);
      expect(Object.keys(b.modalities).sort()).toEqual(['depth', 'imu', 'informative', 'noise', 'redundant', 'rgb', 'text']);
      for (const k of Object.keys(a.modalities)) expect(Buffer.from(b.modalities[k]!.data.buffer).equals(Buffer.from(a.modalities[k]!.data.buffer)), k).toBe(true);
      expect(b.labels).toEqual(a.labels);
      for (const k of ['informative', 'redundant', 'noise'] as const) {
        expect(b.modalities[k]!.dim).toBe(PLANTED_DIMS[k]);
        expect(b.modalities[k]!.data.length).toBe(b.frames * PLANTED_DIMS[k]);
        expect(b.modalities[k]!.data.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('informative: the one-hot of the next action is the label of the next segment, and the time left counts down', () => {
    const s = planted.generate(1);
    const d = s.modalities.informative!.dim;
    const x = s.modalities.informative!.data;
    const K = planted.classNames.length;
    let checked = 0;
    for (let t = 0; t + 1 < s.frames; t++) {
      let next = t + 1;
      while (next < s.frames && s.labels[next] === s.labels[t]) next++;
      if (next >= s.frames) break;
      const row = x.subarray(t * d, (t + 1) * d);
      const argmax = [...row.subarray(0, K)].reduce((best, v, k, a) => (v > a[best]! ? k : best), 0);
      expect(argmax).toBe(s.labels[next]);
      // N(0, 0.02²) noise on top: 5 standard deviations
      expect(Math.abs(row[3 * K]! - (next - t) / 15)).toBeLessThan(0.1);
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('redundant is RGB again; noise is independent of the world', () => {
    const a = planted.generate(0);
    const again = new SyntheticDataset({ seed: 3, count: 4, planted: ['redundant', 'noise'] }).generate(0);
    expect(a.modalities.redundant!.data).toEqual(a.modalities.rgb!.data);
    expect(again.modalities.redundant!.data).toEqual(a.modalities.redundant!.data);
    expect(again.modalities.noise!.data).toEqual(a.modalities.noise!.data);
    const n = a.modalities.noise!.data;
    const mean = n.reduce((p, v) => p + v, 0) / n.length;
    const sd = Math.sqrt(n.reduce((p, v) => p + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(sd).toBeGreaterThan(0.9);
    expect(sd).toBeLessThan(1.1);
  });
});

function meanDepth(d: Float32Array, t: number, hw: number): number {
  let s = 0;
  for (let k = 0; k < hw; k++) s += d[t * hw + k]!;
  return s / hw;
}
