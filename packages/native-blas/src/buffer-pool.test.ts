import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';

describe('BufferPool', () => {
  it('hands a released array back to the next take of its length, most recent first', () => {
    const pool = new BufferPool(1 << 20);
    const [a, b] = [pool.take(64), pool.take(64)];
    pool.release(a);
    pool.release(b);
    expect(pool.stats()).toMatchObject({ arrays: 2, bytes: 2 * 64 * 4, misses: 2 });
    expect(pool.take(64)).toBe(b);
    expect(pool.take(64)).toBe(a);
    expect(pool.take(64)).not.toBe(a); // empty again: a new array
    expect(pool.take(32)).toBeInstanceOf(Float32Array);
    expect(pool.stats()).toMatchObject({ arrays: 0, bytes: 0, hits: 2 });
  });

  it('pools an array released twice once, and never one it did not make or that escaped', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(64);
    pool.release(a);
    pool.release(a);
    expect(pool.stats().arrays).toBe(1);
    expect(pool.take(64)).toBe(a);
    expect(pool.take(64)).not.toBe(a);
    pool.release(new Float32Array(64)); // not from take
    const seen = pool.take(64);
    pool.escape(seen); // e.g. returned by dataSync
    pool.release(seen);
    expect(pool.stats().arrays).toBe(0);
  });

  it('evicts the arrays released longest ago, across lengths, to stay under its byte cap', () => {
    const pool = new BufferPool(4 * (100 + 200 + 100)); // room for 400 floats
    const [a, b, c, d] = [pool.take(100), pool.take(200), pool.take(100), pool.take(200)];
    pool.release(a);
    pool.release(b);
    pool.release(c); // 400 floats: full
    pool.release(d); // 600 > 400: a, then b go (oldest first), d and c stay
    expect(pool.stats()).toMatchObject({ arrays: 2, bytes: 4 * 300 });
    expect(pool.take(200)).toBe(d);
    expect(pool.take(100)).toBe(c);
    expect(pool.stats().arrays).toBe(0);
    const big = pool.take(1000); // larger than the cap: never pooled
    pool.release(big);
    expect(pool.stats().arrays).toBe(0);
  });
});
