import { check, RankMetricsError } from './errors.js';

/** Anything with a shape and synchronous data, e.g. a `tf.Tensor` (no tfjs import needed). */
export interface TensorLike {
  shape: number[];
  dataSync(): ArrayLike<number>;
}

/** A row-major matrix of `rows` tokens by `cols` channels. */
export interface DenseMatrix {
  data: ArrayLike<number>;
  rows: number;
  cols: number;
}

/** What every matrix-taking function accepts: a dense row-major matrix, nested arrays, or a 2-D tensor. */
export type MatrixInput = DenseMatrix | number[][] | TensorLike;

/** A validated matrix in Float64, row-major. */
export interface Matrix64 {
  data: Float64Array;
  rows: number;
  cols: number;
}

function isTensorLike(m: unknown): m is TensorLike {
  return typeof m === 'object' && m !== null && 'shape' in m && typeof (m as TensorLike).dataSync === 'function';
}

/**
 * Builds a `DenseMatrix` view over row-major data, checking the size.
 *
 * @example
 * const z = matrix(new Float32Array([1, 0, 0, 1]), 2, 2);
 */
export function matrix(data: ArrayLike<number>, rows: number, cols: number): DenseMatrix {
  check(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 0 && cols >= 0, 'INVALID_INPUT', () => `matrix: rows and cols must be non-negative integers, got ${rows} x ${cols}`);
  check(data.length === rows * cols, 'SHAPE_MISMATCH', () => `matrix: shape [${rows}, ${cols}] needs ${rows * cols} values, data has ${data.length}`);
  return { data, rows, cols };
}

/**
 * Copies any `MatrixInput` into a Float64 row-major matrix, rejecting NaN and Inf with the row
 * and column of the first bad value. All numerics in this package run in Float64.
 */
export function toMatrix64(input: MatrixInput, what = 'matrix'): Matrix64 {
  let rows: number;
  let cols: number;
  let data: Float64Array;
  if (Array.isArray(input)) {
    rows = input.length;
    cols = rows === 0 ? 0 : input[0]!.length;
    data = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = input[r]!;
      check(row.length === cols, 'SHAPE_MISMATCH', () => `${what}: row ${r} has ${row.length} values, row 0 has ${cols}`);
      for (let c = 0; c < cols; c++) data[r * cols + c] = row[c]!;
    }
  } else if (isTensorLike(input)) {
    check(input.shape.length === 2, 'SHAPE_MISMATCH', () => `${what}: expected a 2-D tensor [tokens, channels], got shape [${input.shape.join(', ')}]`);
    [rows, cols] = input.shape as [number, number];
    data = Float64Array.from(input.dataSync());
  } else {
    ({ rows, cols } = input);
    check(input.data.length === rows * cols, 'SHAPE_MISMATCH', () => `${what}: shape [${rows}, ${cols}] needs ${rows * cols} values, data has ${input.data.length}`);
    data = new Float64Array(rows * cols);
    data.set(input.data); // typed-array set converts without per-element callbacks
  }
  assertFinite(data, rows, cols, what);
  return { data, rows, cols };
}

/** Throws a NON_FINITE error naming the first NaN/Inf by row and column. */
export function assertFinite(data: ArrayLike<number>, rows: number, cols: number, what = 'matrix', rowOffset = 0): void {
  const n = rows * cols;
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    // v - v is NaN exactly for NaN and +-Inf: one comparison per value on the hot path.
    if (v - v !== 0) {
      const r = Math.floor(i / cols) + rowOffset;
      throw new RankMetricsError('NON_FINITE', `${what}: non-finite value ${v} at row ${r}, column ${i % cols}`);
    }
  }
}
