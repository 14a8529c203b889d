import { describe, expect, it } from 'vitest';
import { mixSeed, Rng } from './random.js';

describe('Rng', () => {
  it('is reproducible for a seed and differs across seeds', () => {
    expect(new Rng(1).permutation(20)).toEqual(new Rng(1).permutation(20));
    expect(new Rng(1).permutation(20)).not.toEqual(new Rng(10).permutation(20));
  });

  it('skip(n) leaves the state n draws leave', () => {
    for (const n of [0, 1, 7, 1000]) {
      const [a, b] = [new Rng(99), new Rng(99)];
      a.normal(); b.normal(); // a cached normal stays cached
      a.skip(n);
      for (let i = 0; i < n; i++) b.nextUint32();
      expect(a.state()).toEqual(b.state());
    }
  });

  it('fill(out) writes the next draws in order and leaves the state they leave', () => {
    for (const n of [0, 1, 7, 3072]) {
      const [a, b] = [new Rng(5), new Rng(5)];
      const out = new Uint32Array(n);
      a.fill(out);
      expect(Array.from(out)).toEqual(Array.from({ length: n }, () => b.nextUint32()));
      expect(a.state()).toEqual(b.state());
    }
  });

  it('resumes exactly from a saved state, a cached normal draw included', () => {
    const a = new Rng(13452);
    a.permutation(7);
    a.normal(); // leaves the pair's second value cached
    const saved = JSON.parse(JSON.stringify(a.state()));
    expect(saved.spareNormal).not.toBeNull();
    const b = Rng.fromState(saved);
    expect(Array.from({ length: 10 }, () => b.normal())).toEqual(Array.from({ length: 10 }, () => a.normal()));
    expect(Array.from({ length: 10 }, () => b.nextUint32())).toEqual(Array.from({ length: 10 }, () => a.nextUint32()));
    expect(() => Rng.fromState({ sfc32: [1, 2, 3], spareNormal: null } as never)).toThrow(/fromState/);
  });

  it('draws permutations, shuffles without touching the input, and unbiased integers', () => {
    const rng = new Rng(3);
    const p = rng.permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const items = ['a', 'b', 'c', 'd'];
    expect([...rng.shuffle(items)].sort()).toEqual(items);
    expect(items).toEqual(['a', 'b', 'c', 'd']);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[rng.int(0, 2)]! += 1;
    counts.forEach((c) => expect(Math.abs(c - 10000)).toBeLessThan(400));
    expect(() => rng.int(1, 0)).toThrow(/Rng\.int/);
  });

  it('mixes seeds that depend only on (seed, index)', () => {
    expect(mixSeed(1, 5)).toBe(mixSeed(1, 5));
    expect(mixSeed(1, 5)).not.toBe(mixSeed(1, 6));
    expect(mixSeed(1, 5)).not.toBe(mixSeed(10, 5));
    expect(mixSeed(1, 5)).toBeGreaterThanOrEqual(0);
  });
});
