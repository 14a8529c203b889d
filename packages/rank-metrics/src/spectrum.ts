import { check } from './errors.js';
import { type Matrix64, type MatrixInput, toMatrix64 } from './matrix.js';
import { simdGram } from './gram-simd.js';
import { symmetricEigenInPlace } from './symmetric-eigen.js';

/** Singular values, descending, and optionally the top right singular vectors. */
export interface Spectrum {
  /** min(T, C) singular values, descending, Float64. */
  values: Float64Array;
  /** Top-q right singular vectors (channel directions), row i = vector i, each of length C. */
  rightVectors?: Float64Array[];
}

const EPS = 2 ** -52;

/**
 * Gram matrix of the smaller side: Z^T Z (C x C) when T >= C, else Z Z^T (T x T), both in
 * Float64: with the WebAssembly SIMD kernel (gram.wat) where available, else register-blocked
 * JavaScript loops.
 */
export function smallerGram(z: Matrix64): { gram: Float64Array; n: number; side: 'channels' | 'tokens' } {
  const { rows: t, cols: c, data } = z;
  const side = t >= c ? 'channels' : 'tokens';
  const simd = simdGram(data, t, c, side);
  if (simd) return { gram: simd, n: Math.min(t, c), side };
  if (side === 'tokens') return { gram: gramOfRows(data, t, c), n: t, side };
  // Column-major copy so that channel vectors are contiguous rows of the product.
  const cm = new Float64Array(t * c);
  for (let r = 0; r < t; r++) for (let j = 0; j < c; j++) cm[j * t + r] = data[r * c + j]!;
  return { gram: gramOfRows(cm, c, t), n: c, side };
}

/** G = A A^T for A (n x len) row-major; symmetric n x n output. */
function gramOfRows(a: Float64Array, n: number, len: number): Float64Array {
  const g = new Float64Array(n * n);
  // 3 x 2 blocks of the upper triangle: 5 loads feed 6 multiply-adds. Wider blocks (2 x 4)
  // measured 2x slower in V8: their 8 accumulators plus operands spill out of the registers.
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const a0 = i * len, a1 = a0 + len, a2 = a1 + len;
    const r0 = i * n, r1 = r0 + n, r2 = r1 + n;
    let j = i;
    for (; j + 1 < n; j += 2) {
      const b0 = j * len, b1 = b0 + len;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0;
      for (let k = 0; k < len; k++) {
        const y0 = a[b0 + k]!, y1 = a[b1 + k]!;
        const x0 = a[a0 + k]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        const x1 = a[a1 + k]!;
        s10 += x1 * y0;
        s11 += x1 * y1;
        const x2 = a[a2 + k]!;
        s20 += x2 * y0;
        s21 += x2 * y1;
      }
      g[r0 + j] = s00; g[r0 + j + 1] = s01;
      g[r1 + j] = s10; g[r1 + j + 1] = s11;
      g[r2 + j] = s20; g[r2 + j + 1] = s21;
    }
    if (j < n) {
      const b0 = j * len;
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = 0; k < len; k++) {
        const y = a[b0 + k]!;
        s0 += a[a0 + k]! * y;
        s1 += a[a1 + k]! * y;
        s2 += a[a2 + k]! * y;
      }
      g[r0 + j] = s0; g[r1 + j] = s1; g[r2 + j] = s2;
    }
  }
  for (; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < len; k++) s += a[i * len + k]! * a[j * len + k]!;
      g[i * n + j] = s;
    }
  }
  // Blocks filled the upper triangle (and a few entries below it); mirror it to the lower one.
  for (let r = 0; r < n; r++) for (let c = r + 1; c < n; c++) g[c * n + r] = g[r * n + c]!;
  return g;
}

/**
 * Singular values of Z (T tokens x C channels), descending, from the eigenvalues of the smaller
 * Gram matrix in Float64. Eigenvalues below n * 2^-52 * lambda_max are rounding noise of the
 * Gram route (their square roots would otherwise appear as ~1e-8 * s_max) and are reported as 0.
 * With `topQ`, also returns the top-q right singular vectors (channel directions).
 *
 * @example
 * singularValues({ data: [3, 0, 0, 4], rows: 2, cols: 2 }); // Float64Array [4, 3]
 */
export function spectrum(input: MatrixInput, options: { topQ?: number } = {}): Spectrum {
  return spectrumOf(toMatrix64(input), options.topQ ?? 0);
}

/** `spectrum` without the copy and validation, for callers that already hold a Matrix64. */
export function spectrumOf(z: Matrix64, topQ = 0): Spectrum {
  const { rows: t, cols: c } = z;
  const m = Math.min(t, c);
  check(Number.isInteger(topQ) && topQ >= 0 && topQ <= m, 'INVALID_INPUT', () => `spectrum: topQ must be an integer in [0, ${m}], got ${topQ}`);
  if (m === 0) return { values: new Float64Array(0), ...(topQ > 0 ? { rightVectors: [] } : {}) };
  const { gram, n, side } = smallerGram(z);
  const eig = symmetricEigenInPlace(gram, n, topQ > 0);
  const values = new Float64Array(m);
  const floor = n * EPS * Math.max(eig.values[0]!, 0);
  for (let i = 0; i < m; i++) {
    const lambda = eig.values[i]!;
    values[i] = lambda > floor ? Math.sqrt(lambda) : 0;
  }
  if (topQ === 0) return { values };
  const rightVectors: Float64Array[] = [];
  const vec = eig.vectors!;
  for (let q = 0; q < topQ; q++) {
    if (side === 'channels') {
      rightVectors.push(vec.slice(q * n, q * n + n));
    } else {
      // v = Z^T u / s for a left singular vector u (T-dim).
      const v = new Float64Array(c);
      const s = values[q]!;
      if (s > 0) {
        for (let r = 0; r < t; r++) {
          const u = vec[q * n + r]! / s;
          for (let j = 0; j < c; j++) v[j] = v[j]! + z.data[r * c + j]! * u;
        }
      }
      rightVectors.push(v);
    }
  }
  return { values, rightVectors };
}

/**
 * Singular values of a T x C token matrix, descending (see `spectrum`).
 *
 * @example
 * singularValues([[1, 0], [0, 0]]); // Float64Array [1, 0]
 */
export function singularValues(input: MatrixInput): Float64Array {
  return spectrum(input).values;
}

/**
 * The normalised spectrum p = s / sum(s): the distribution whose entropy effective rank takes.
 * The zero matrix has an all-zero normalised spectrum.
 *
 * @example
 * normalisedSpectrum([[1, 0], [0, 1]]); // Float64Array [0.5, 0.5]
 */
export function normalisedSpectrum(input: MatrixInput): Float64Array {
  const s = singularValues(input);
  const total = s.reduce((a, b) => a + b, 0);
  return total > 0 ? s.map((v) => v / total) : s;
}
