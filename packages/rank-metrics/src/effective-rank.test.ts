import { describe, expect, it } from 'vitest';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import {
  RankMetricsError,
  batchEffectiveRank,
  effectiveRank,
  effectiveRankOfSpectrum,
  normalisedSpectrum,
  singularValues,
  spectrum,
  stableRank,
} from './index.js';

/** Deterministic uniform(-0.5, 0.5) stream (Park-Miller), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
}
const randomMatrix = (t: number, c: number, seed: number) => {
  const r = rng(seed);
  return Array.from({ length: t }, () => Array.from({ length: c }, r));
};

/** Q from Gram-Schmidt of a random square matrix: an orthogonal matrix. */
function orthogonal(n: number, seed: number): number[][] {
  const a = randomMatrix(n, n, seed);
  const q: number[][] = [];
  for (const v0 of a) {
    const v = [...v0];
    for (const u of q) {
      const dot = u.reduce((s, x, i) => s + x * v[i]!, 0);
      for (let i = 0; i < n; i++) v[i] = v[i]! - dot * u[i]!;
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  return q;
}

/** U diag(s) V^T with U (t x k), V (c x k) orthonormal columns. */
function withSpectrum(t: number, c: number, s: number[], seed: number): number[][] {
  const u = orthogonal(t, seed);
  const v = orthogonal(c, seed + 1);
  return Array.from({ length: t }, (_, i) =>
    Array.from({ length: c }, (_, j) => s.reduce((acc, sk, k) => acc + u[k]![i]! * sk * v[k]![j]!, 0)),
  );
}

const authors = (s: number[]) => {
  const kept = s.filter((x) => x > 1e-12);
  const total = kept.reduce((a, b) => a + b, 0) + 1e-7;
  return Math.exp(-kept.reduce((acc, x) => acc + (x / total) * Math.log(x / total + 1e-7), 0));
};

describe('singular values', () => {
  it.each([
    ['diagonal 3x3', [[3, 0, 0], [0, -2, 0], [0, 0, 1]], [3, 2, 1]],
    ['rank one', [[1, 2], [2, 4], [3, 6]], [Math.sqrt(70), 0]],
    ['zero', [[0, 0], [0, 0]], [0, 0]],
    ['1 x 1', [[-5]], [5]],
    ['T < C', [[1, 0, 0, 0], [0, 2, 0, 0]], [2, 1]],
    ['T > C', [[1, 0], [0, 2], [0, 0], [0, 0]], [2, 1]],
  ])('%s', (_, m, expected) => {
    const s = singularValues(m as number[][]);
    expect(s.length).toBe(expected.length);
    expected.forEach((v, i) => expect(s[i]).toBeCloseTo(v, 12));
  });

  it.each([
    [6, 6, [5, 4, 3, 2, 1, 0.5]],
    [10, 4, [2, 2, 2, 1]],
    [4, 10, [7, 3, 3, 0]],
    [8, 8, [1, 1, 1, 1, 1, 1, 1, 1]],
  ])('recovers a constructed spectrum of a %i x %i matrix (repeated values included)', (t, c, s) => {
    const got = singularValues(withSpectrum(t, c, s, 11));
    s.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 11));
  });

  it('agrees with ml-matrix SVD on random matrices to 1e-10 relative', () => {
    for (const [t, c, seed] of [[5, 3, 1], [3, 5, 2], [64, 128, 3], [128, 128, 4], [300, 128, 5], [17, 16, 6]] as const) {
      const m = randomMatrix(t, c, seed);
      const ref = new SingularValueDecomposition(new Matrix(m), { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).diagonal;
      const got = singularValues(m);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - ref[i]!) / ref[0]!).toBeLessThan(1e-10);
    }
  });

  it('returns right singular vectors that satisfy Z v = s u (unit norm, orthogonal)', () => {
    for (const [t, c] of [[12, 5], [5, 12]] as const) {
      const m = randomMatrix(t, c, 9);
      const { values, rightVectors } = spectrum(m, { topQ: 3 });
      for (let q = 0; q < 3; q++) {
        const v = rightVectors![q]!;
        expect(v.reduce((a, x) => a + x * x, 0)).toBeCloseTo(1, 10);
        // ||Z v|| = s
        const zv = m.map((row) => row.reduce((a, x, j) => a + x * v[j]!, 0));
        expect(Math.hypot(...zv)).toBeCloseTo(values[q]!, 10);
      }
      const dot01 = rightVectors![0]!.reduce((a, x, j) => a + x * rightVectors![1]![j]!, 0);
      expect(Math.abs(dot01)).toBeLessThan(1e-10);
    }
  });

  it('normalises the spectrum to sum 1 and keeps the zero matrix at zero', () => {
    expect(Array.from(normalisedSpectrum([[1, 0], [0, 1]]))).toEqual([0.5, 0.5]);
    expect(Array.from(normalisedSpectrum([[0, 0]]))).toEqual([0]);
  });
});

describe('effective rank', () => {
  it('is min(T, C) for a flat spectrum and 1 for rank one (authors form)', () => {
    const flat = effectiveRank(withSpectrum(8, 8, [1, 1, 1, 1, 1, 1, 1, 1], 3));
    expect(flat).toBeCloseTo(authors([1, 1, 1, 1, 1, 1, 1, 1]), 10); // the epsilons cost ~7e-6
    expect(Math.abs(flat - 8)).toBeLessThan(1e-5);
    expect(effectiveRank(orthogonal(5, 4).slice(0, 3))).toBeCloseTo(3, 5);
    expect(effectiveRank([[1, 2], [2, 4], [3, 6]])).toBeCloseTo(1, 6);
  });

  it('follows the authors formula exactly on a known spectrum', () => {
    const s = [4, 2, 1, 0.5];
    expect(effectiveRank(withSpectrum(6, 4, s, 5))).toBeCloseTo(authors(s), 10);
    expect(effectiveRankOfSpectrum([4, 2, 1, 0.5, 1e-13])).toBeCloseTo(authors(s), 14);
  });

  it('documents the zero matrix (1 in every variant) and 1 x 1 matrices (1)', () => {
    for (const variant of ['authors', 'centred', 'covariance', 'rankme'] as const) {
      expect(effectiveRank([[0, 0, 0], [0, 0, 0]], { variant })).toBe(1);
    }
    expect(effectiveRank([[3.5]])).toBeCloseTo(1, 6);
  });

  it('names its variants and they differ as documented', () => {
    // A constant offset is one extra direction uncentred, none centred.
    const base = withSpectrum(10, 4, [1, 1, 0, 0], 7).map((row) => row.map((x) => x + 10));
    const uncentred = effectiveRank(base);
    const centred = effectiveRank(base, { variant: 'centred' });
    expect(uncentred).toBeLessThan(centred); // the offset dominates the uncentred spectrum
    expect(centred).toBeLessThanOrEqual(3 + 1e-9); // at most min(T - 1, C) and rank 3 after centring
    const s = [3, 1];
    const cov = effectiveRankOfSpectrum(s, 'covariance');
    expect(cov).toBeCloseTo(Math.exp(-(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1))), 12);
    const rankme = effectiveRankOfSpectrum(s, 'rankme');
    const p = [0.75 + 1e-7, 0.25 + 1e-7];
    expect(rankme).toBeCloseTo(Math.exp(-p.reduce((a, x) => a + x * Math.log(x), 0)), 12);
    expect(() => effectiveRank([[1]], { variant: 'bogus' as never })).toThrow(/unknown variant 'bogus'/);
  });

  it('stable rank is sum s^2 / max s^2', () => {
    expect(stableRank(withSpectrum(5, 5, [2, 1, 1, 0, 0], 2))).toBeCloseTo(6 / 4, 10);
    expect(stableRank([[0, 0]])).toBe(0);
  });

  it('accepts dense row-major data, nested arrays and tensor-likes alike', () => {
    const m = randomMatrix(7, 5, 21);
    const flat = new Float32Array(m.flat());
    const fromDense = effectiveRank({ data: flat, rows: 7, cols: 5 });
    const fromTensor = effectiveRank({ shape: [7, 5], dataSync: () => flat });
    const fromArrays = effectiveRank(m.map((r) => r.map((x) => Math.fround(x))));
    expect(fromDense).toBe(fromTensor);
    expect(fromDense).toBe(fromArrays);
  });

  it('batches over (B, T, C) with per-sample lengths, ignoring padded tokens', () => {
    const a = randomMatrix(6, 4, 30);
    const b = randomMatrix(3, 4, 31);
    const padded = [...a.flat(), ...b.flat(), ...new Array(3 * 4).fill(99)];
    const got = batchEffectiveRank({ data: padded, shape: [2, 6, 4] }, { lengths: [6, 3] });
    expect(got[0]).toBeCloseTo(effectiveRank(a), 12);
    expect(got[1]).toBeCloseTo(effectiveRank(b), 12);
    expect(() => batchEffectiveRank({ data: padded, shape: [2, 6, 4] }, { lengths: [6, 7] })).toThrow(/lengths\[1\] = 7 is outside \[0, 6\]/);
  });
});

describe('bad input', () => {
  it('names the row and column of a NaN or Inf', () => {
    const m = randomMatrix(4, 3, 1);
    m[2]![1] = Number.NaN;
    expect(() => effectiveRank(m)).toThrow(/non-finite value NaN at row 2, column 1/);
    m[2]![1] = 0;
    m[3]![0] = Number.POSITIVE_INFINITY;
    const err = (() => { try { singularValues(m); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(RankMetricsError);
    expect((err as RankMetricsError).code).toBe('NON_FINITE');
    expect((err as Error).message).toContain('row 3, column 0');
    const padded = new Float64Array(2 * 2 * 2);
    padded[6] = Number.NaN;
    expect(() => batchEffectiveRank({ data: padded, shape: [2, 2, 2] })).toThrow(/sample 1: non-finite value NaN at row 1, column 0/);
  });

  it('names both shapes on a mismatch', () => {
    expect(() => effectiveRank({ data: new Float32Array(5), rows: 2, cols: 3 })).toThrow(/shape \[2, 3\] needs 6 values, data has 5/);
    expect(() => effectiveRank([[1, 2], [3]])).toThrow(/row 1 has 1 values, row 0 has 2/);
    expect(() => effectiveRank({ shape: [2, 2, 2], dataSync: () => new Float32Array(8) })).toThrow(/got shape \[2, 2, 2\]/);
  });
});
