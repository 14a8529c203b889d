import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BlasAddon } from './addon.js';
import { f32 } from './buffer-pool.js';

/**
 * Keeps the packed panels of weights that `x W^T` products read again and again.
 *
 * Why: the addon runs a long, narrow `x W^T` (the R3D depth projection: frames by a 128 x 19200
 * weight) as `W x^T`, packing W into 12-row panels for every 1024-long block of the reduction on
 * every call, and each of the two threads packs all of it. At evaluation the weight does not
 * change, so that is the same 10 MB copied on every forward pass: handing the kernel panels packed
 * once (and prefetching the next block's as it computes) took the evaluation's depth projection
 * from 5.1 to 4.6 ms, alternated in one process. As with `TransposeCache`, a weight is packed on
 * its second use with the same data id and kept until its data is disposed: tensor data never
 * changes in place, so the panels cannot go stale, and training, where every step makes new weight
 * tensors, keeps nothing. The products' bits do not change: the panels are the same copy.
 */
export class WeightPanelsCache {
  private readonly seen = new WeakSet<object>();
  private readonly kept = new Map<object, Float32Array>();

  constructor(private readonly addon: BlasAddon) {}

  /** W's panels (W rows x k) when it was used before, else undefined (and W is remembered). */
  panels(backend: MathBackendCPU, weight: TensorInfo, rows: number, k: number): Float32Array | undefined {
    const hit = this.kept.get(weight.dataId);
    if (hit) return hit;
    if (!this.seen.has(weight.dataId)) {
      this.seen.add(weight.dataId);
      return undefined;
    }
    const packed = this.addon.packWeightPanels(f32(backend, weight), rows, k);
    this.kept.set(weight.dataId, packed);
    return packed;
  }

  /** The data of `dataId` was disposed: drop its panels. */
  forget(dataId: object): void {
    this.kept.delete(dataId);
  }

  /** Number of weights whose panels are kept (for tests). */
  get size(): number {
    return this.kept.size;
  }

  clear(): void {
    this.kept.clear();
  }
}

/**
 * The kept panels of `weight` for `x weight^T` (x m x k, weight n x k) where the addon runs that
 * product as `weight x^T` (`rowsPath`) and the backend keeps panels; undefined otherwise.
 */
export function weightPanelsFor(backend: MathBackendCPU, addon: BlasAddon, weight: TensorInfo, m: number, n: number, k: number): Float32Array | undefined {
  const cache = (backend as MathBackendCPU & { weightPanels?: WeightPanelsCache }).weightPanels;
  if (!cache || !addon.rowsPath(false, true, m, n, k)) return undefined;
  return cache.panels(backend, weight, n, k);
}
