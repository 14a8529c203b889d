import { describe, expect, it } from 'vitest';
import { Rng, stepSeed } from './rng.js';

describe('Rng', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    expect(new Rng(1).permutation(20)).toEqual(new Rng(1).permutation(20));
    expect(new Rng(1).permutation(20)).not.toEqual(new Rng(10).permutation(20));
  });

  it('resumes exactly from a saved state', () => {
    const a = new Rng(13452);
    a.permutation(7);
    const saved = JSON.parse(JSON.stringify(a.state()));
    const b = Rng.fromState(saved);
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(Array.from({ length: 10 }, () => a.nextUint32()));
  });

  it('draws permutations and unbiased integers', () => {
    const rng = new Rng(3);
    const p = rng.permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[rng.nextInt(3)] += 1;
    counts.forEach((c) => expect(Math.abs(c - 10000)).toBeLessThan(400));
    expect(() => rng.nextInt(0)).toThrow(/nextInt/);
  });

  it('gives per-step seeds that depend only on (seed, step)', () => {
    expect(stepSeed(1, 5)).toBe(stepSeed(1, 5));
    expect(stepSeed(1, 5)).not.toBe(stepSeed(1, 6));
    expect(stepSeed(1, 5)).not.toBe(stepSeed(10, 5));
    expect(stepSeed(1, 5)).toBeGreaterThanOrEqual(0);
  });
});
