import { TopK, util, type KernelConfig, type KernelFunc, type TensorInfo, type TopKAttrs, type TopKInputs } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { cpuFallback, outputArray } from './buffer-pool.js';

/**
 * The k largest values of each row of `x` (rows x size) and their indices, largest first and, among
 * equal values, the lower index first: the order tfjs-backend-cpu's sorted topK gives (its
 * comparator: value descending, then index ascending; -0 equals 0). Each row keeps a sorted buffer
 * of k and inserts a value only where it beats the k-th, O(size * k) for the small k of a top-k.
 * Returns false, writing nothing meaningful, where a row holds NaN (its comparator has no order
 * for NaN, so only the cpu kernel itself gives its order).
 */
export function topKRows(x: Float32Array | Int32Array, rows: number, size: number, k: number, values: Float32Array | Int32Array, indices: Int32Array): boolean {
  for (let r = 0; r < rows; r++) {
    const src = r * size;
    const dst = r * k;
    let count = 0;
    for (let j = 0; j < size; j++) {
      const v = x[src + j]!;
      if (v !== v) return false;
      // the first position whose value is smaller: equal values stay ahead (lower index)
      if (count === k && !(v > values[dst + k - 1]!)) continue;
      let at = count < k ? count : k - 1;
      while (at > 0 && values[dst + at - 1]! < v) {
        values[dst + at] = values[dst + at - 1]!;
        indices[dst + at] = indices[dst + at - 1]!;
        at--;
      }
      values[dst + at] = v;
      indices[dst + at] = j;
      if (count < k) count++;
    }
  }
  return true;
}

/**
 * TopK for float32 and int32 with `sorted` (tf.topk's default), the cpu kernel's values and
 * indices without its per-element objects and sort: the RTF fuser's rank selection over 8 rows of
 * 128 took 0.2-0.3 ms a call in R3D's training step that way. Unsorted top-k (whose order is
 * the cpu kernel's selection algorithm's), other dtypes and rows with NaN go to the cpu kernel.
 */
export function topKConfig(backendName: string): KernelConfig {
  const cpu = cpuFallback(TopK);
  const kernelFunc = (args: { inputs: TopKInputs; backend: MathBackendCPU; attrs: TopKAttrs }): TensorInfo[] => {
    const x = args.inputs.x as TensorInfo;
    const { k, sorted } = args.attrs;
    const b = args.backend;
    const data = b.data.get(x.dataId).values;
    const typed = (x.dtype === 'float32' && data instanceof Float32Array) || (x.dtype === 'int32' && data instanceof Int32Array);
    const size = x.shape[x.shape.length - 1] ?? 1;
    if (!sorted || !typed || x.shape.length === 0 || k < 1 || k > size) return cpu(args as never) as TensorInfo[];
    const rows = util.sizeFromShape(x.shape) / size;
    const values = x.dtype === 'float32' ? outputArray(b, rows * k) : new Int32Array(rows * k);
    const indices = new Int32Array(rows * k);
    if (!topKRows(data as Float32Array | Int32Array, rows, size, k, values, indices)) return cpu(args as never) as TensorInfo[];
    const shape = [...x.shape.slice(0, -1), k];
    return [b.makeTensorInfo(shape, x.dtype, values), b.makeTensorInfo(shape, 'int32', indices)];
  };
  return { kernelName: TopK, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
