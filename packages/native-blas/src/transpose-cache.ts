import { util, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * Remembers the transposes of large tensors that get transposed the same way again.
 *
 * Why: a linear layer kept in PyTorch's (out, in) layout computes `x @ transpose(W)` on every
 * call; at evaluation the weights do not change, so every forward pass re-transposes the same
 * matrices (the 128 x 19200 depth projection: ~3 ms a pass). The second time a tensor is
 * transposed with the same permutation the result is kept, and later transposes hand out the
 * same data id with its reference count raised, exactly as the cpu backend's Reshape shares
 * data. A tensor transposed only once (activations, weights during training: a new tensor every
 * step) is never kept, so training holds no extra memory. The kept result is released as soon as
 * the source tensor's data is disposed; tensor data never changes in place, so it cannot go stale.
 */
export class TransposeCache {
  private readonly seen = new WeakMap<object, string>();
  private readonly kept = new Map<object, { key: string; out: TensorInfo }>();

  constructor(
    private readonly backend: MathBackendCPU,
    /** Smaller tensors are cheap to transpose again. */
    readonly minSize = 65536,
  ) {}

  /** The kept transpose of `x` by `perm` (a new reference to it), if there is one. */
  lookup(x: TensorInfo, perm: readonly number[]): TensorInfo | undefined {
    const hit = this.kept.get(x.dataId);
    if (!hit || hit.key !== perm.join(',')) return undefined;
    this.backend.incRef(hit.out.dataId);
    return { dataId: hit.out.dataId, shape: hit.out.shape.slice(), dtype: hit.out.dtype };
  }

  /** Records a computed transpose; keeps it when `x` was transposed the same way before. */
  remember(x: TensorInfo, perm: readonly number[], out: TensorInfo): void {
    if (util.sizeFromShape(x.shape) < this.minSize || this.kept.has(x.dataId)) return;
    const key = perm.join(',');
    if (this.seen.get(x.dataId) !== key) {
      this.seen.set(x.dataId, key);
      return;
    }
    this.backend.incRef(out.dataId);
    this.kept.set(x.dataId, { key, out: { dataId: out.dataId, shape: out.shape.slice(), dtype: out.dtype } });
  }

  /** The data of `dataId` was disposed: drop the transpose kept for it. */
  forget(dataId: object): void {
    const hit = this.kept.get(dataId);
    if (!hit) return;
    this.kept.delete(dataId);
    this.backend.disposeData(hit.out.dataId);
  }

  /** Number of transposes kept (for tests). */
  get size(): number {
    return this.kept.size;
  }

  clear(): void {
    for (const dataId of [...this.kept.keys()]) this.forget(dataId);
  }
}
