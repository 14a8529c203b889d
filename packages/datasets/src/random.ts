/**
 * Everything an `Rng` will draw next: sfc32's four 32-bit words and the cached second value of
 * the last Box-Muller pair (null when none is cached). Plain numbers, so it goes into JSON.
 */
export interface RngState {
  sfc32: [number, number, number, number];
  spareNormal: number | null;
}

/** Where `skip` lets `fill` write the draws it throws away. */
const SCRATCH = new Uint32Array(4096);

/**
 * The repository's one seeded PRNG (sfc32, seeded through splitmix32): synthetic worlds, fuzzing,
 * shuffles and the trainer's data order all draw from it, and `Math.random` is never used for them.
 * Its whole state can be saved and restored, so a checkpoint can store it and a resumed run draws
 * exactly the numbers the uninterrupted run would have drawn.
 *
 * @example
 * const rng = new Rng(42);
 * rng.next();                       // in [0, 1)
 * const saved = rng.state();        // -> JSON in a checkpoint
 * Rng.fromState(saved).next();      // the same number a second rng.next() gives
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let s = seed >>> 0 ^ 0x9e3779b9;
    const split = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** A generator that continues from a saved `state()`. */
  static fromState(state: RngState): Rng {
    const words = state?.sfc32;
    if (!Array.isArray(words) || words.length !== 4 || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`Rng.fromState: expected { sfc32: four unsigned 32-bit integers, spareNormal }, got ${JSON.stringify(state)}`);
    }
    const spare = state.spareNormal;
    if (spare !== null && !Number.isFinite(spare)) throw new RangeError(`Rng.fromState: spareNormal must be a finite number or null, got ${JSON.stringify(spare)}`);
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = words.map((w) => w | 0) as [number, number, number, number];
    rng.spare = spare ?? undefined;
    return rng;
  }

  /** A copy of the whole state (see `RngState`); `Rng.fromState` continues from it. */
  state(): RngState {
    return { sfc32: [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0], spareNormal: this.spare ?? null };
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    // the words read as int32 (`| 0`: the same bits): V8 then keeps the arithmetic on integers,
    // where the fields as loaded cost ~16 ns a draw against ~6 on Node 20
    const a = this.a | 0, b = this.b | 0, c = this.c | 0, d = this.d | 0;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /**
   * Fills `out` with the next `out.length` draws of `nextUint32`, in order, with the state in
   * int32 locals (the synthetic videos' sensor noise takes 3,000 draws a frame).
   *
   * @example
   * const a = new Rng(1); const out = new Uint32Array(2); a.fill(out);
   * const b = new Rng(1); out[1] === (b.nextUint32(), b.nextUint32()); // true
   */
  fill(out: Uint32Array): void {
    let a = this.a | 0, b = this.b | 0, c = this.c | 0, d = this.d | 0;
    for (let i = 0; i < out.length; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
      out[i] = t >>> 0;
    }
    [this.a, this.b, this.c, this.d] = [a, b, c, d];
  }

  /**
   * Advances the generator by `n` draws of `nextUint32` without returning them: the state is then
   * what those n draws would have left (the synthetic videos skip frames this way and keep every
   * later draw). sfc32 has no jump-ahead, so this is `fill` over a scratch buffer: 3.0-3.6 ns a
   * draw, against ~6 for `nextUint32` calls (Node 20, Zen 1).
   *
   * @example
   * const a = new Rng(1); a.skip(3); const b = new Rng(1); b.nextUint32(); b.nextUint32(); b.nextUint32();
   * a.nextUint32() === b.nextUint32(); // true
   */
  skip(n: number): void {
    const scratch = SCRATCH;
    for (let left = n; left > 0; left -= scratch.length) this.fill(left >= scratch.length ? scratch : scratch.subarray(0, left));
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform number in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** A uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    if (!(Number.isInteger(lo) && Number.isInteger(hi) && hi >= lo)) throw new RangeError(`Rng.int: expected integers lo <= hi, got ${lo} and ${hi}`);
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A standard normal draw (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== undefined) {
      const v = this.spare;
      this.spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A shuffled copy of `items` (Fisher-Yates from the end), leaving the input untouched. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** A random permutation of 0..n-1 (`shuffle` of the identity). */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

/**
 * Mixes two integers into a new 32-bit seed: per-item seeds from a dataset seed, per-step dropout
 * seeds from a run seed. Needs no state, so item `index` gets its seed in any order.
 *
 * @example
 * mixSeed(1, 42); // always the same unsigned 32-bit integer
 */
export function mixSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x27d4eb2d, 0x165667b1) ^ Math.imul(index + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae3d);
  return (h ^ (h >>> 16)) >>> 0;
}
