import { EventFileError } from './errors.js';

/**
 * A `HistogramProto` (tensorboard/compat/proto/histogram.proto): count `bucket[i]` covers
 * `bucketLimit[i-1]` .. `bucketLimit[i]`, the first bucket starting at -DBL_MAX.
 */
export interface HistogramProto {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

let defaultLimits: Float64Array | undefined;

/**
 * TensorFlow's default histogram bucket limits (tsl/lib/histogram/histogram.cc): 0, then
 * +-1e-12 growing by 10% per bucket up to 1e20, closed by +-DBL_MAX: 1551 limits, so any
 * magnitude from 1e-12 to 1e20 lands in a bucket 10% wide. Computed once.
 *
 * @example
 * defaultBucketLimits().length; // 1551
 */
export function defaultBucketLimits(): Float64Array {
  if (defaultLimits) return defaultLimits;
  const positive: number[] = [];
  // the same repeated multiplication as TensorFlow, so the limits match its bit for bit
  for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
  positive.push(Number.MAX_VALUE);
  const negative = positive.map((v) => -v).reverse();
  defaultLimits = Float64Array.from([...negative, 0, ...positive]);
  return defaultLimits;
}

/**
 * The histogram of `values` as TensorFlow writes it: TensorFlow's default exponential buckets
 * (`defaultBucketLimits`), each value counted in the first bucket whose limit exceeds it, and
 * every run of empty buckets collapsed into one (its last limit kept), as `EncodeToProto` does
 * without `preserve_zero_buckets`. NaN and +-Infinity are left out (TensorFlow refuses them and
 * TensorBoard cannot draw them); a list with no finite value throws `INVALID_VALUE`.
 *
 * @example
 * const h = histogramOf([0.1, 0.5, 0.5, 0.9]);
 * h.num; // 4
 * h.bucket.reduce((a, b) => a + b); // 4
 */
export function histogramOf(values: ArrayLike<number>): HistogramProto {
  const limits = defaultBucketLimits();
  const counts = new Float64Array(limits.length);
  let min = Infinity;
  let max = -Infinity;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    counts[upperBound(limits, v)]! += 1;
    if (v < min) min = v;
    if (v > max) max = v;
    num += 1;
    sum += v;
    sumSquares += v * v;
  }
  if (num === 0) throw new EventFileError('INVALID_VALUE', `histogramOf: no finite value among ${values.length}`);
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let i = 0; i < counts.length; ) {
    let end = limits[i]!;
    const count = counts[i]!;
    i++;
    if (count <= 0) {
      while (i < counts.length && counts[i]! <= 0) end = limits[i++]!;
    }
    bucketLimit.push(end);
    bucket.push(count);
  }
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}

// index of the first limit greater than v (std::upper_bound); DBL_MAX itself goes to the last bucket
function upperBound(limits: Float64Array, v: number): number {
  let lo = 0;
  let hi = limits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid]! > v) hi = mid;
    else lo = mid + 1;
  }
  return Math.min(lo, limits.length - 1);
}
