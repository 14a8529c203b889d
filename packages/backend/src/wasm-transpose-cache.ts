import * as tf from '@tensorflow/tfjs-core';

/** What the cache needs of tfjs-backend-wasm's backend: its reference counts. */
export interface RefCountedBackend {
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/**
 * Keeps the transposes of large tensors that get transposed the same way again, on the wasm
 * backend, until the source's data is disposed.
 *
 * Why: a linear layer in PyTorch's (out, in) layout runs `x @ transpose(W)`, and at evaluation
 * every forward pass transposes the same weights again. On wasm that costs twice: the copy, and
 * XNNPACK packing the product's right operand anew, since tfjs-backend-wasm keeps a product's
 * packed weights per data id of that operand. Handing out the same transposed data (its reference
 * count raised, as Identity shares data) lets the packing be kept too: the depth projection
 * (128 x 19200) of an evaluation forward went from ~100 to ~50 ms on the 2-core Zen 1. Only
 * variables' values are kept (weights), and only from their second transpose, so a training step,
 * whose weights are new tensors every step, keeps nothing, and neither does a step that happens to
 * get the same input tensor again (a bench). Tensor data never changes in place, so a kept transpose cannot
 * go stale. The same policy as native-blas's TransposeCache, on a backend this package does not
 * own: it learns of disposals through a wrapper around the backend's `disposeData`.
 */
export class WasmTransposeCache {
  private readonly seen = new WeakMap<object, string>();
  private readonly kept = new Map<object, { key: string; out: tf.TensorInfo }>();

  constructor(
    private readonly backend: RefCountedBackend,
    /** Smaller tensors are cheap to transpose and pack again. */
    readonly minSize = 65536,
  ) {
    const dispose = backend.disposeData.bind(backend);
    backend.disposeData = (dataId, force) => {
      const freed = dispose(dataId, force);
      if (freed) this.forget(dataId);
      return freed;
    };
  }

  /** The kept transpose of `x` by `perm` (a new reference to it), if there is one. */
  lookup(x: tf.TensorInfo, perm: readonly number[]): tf.TensorInfo | undefined {
    const hit = this.kept.get(x.dataId);
    if (!hit || hit.key !== perm.join(',')) return undefined;
    this.backend.incRef(hit.out.dataId);
    return { dataId: hit.out.dataId, shape: hit.out.shape.slice(), dtype: hit.out.dtype };
  }

  /** Records a computed transpose; keeps it when `x` is a variable's value transposed the same way before. */
  remember(x: tf.TensorInfo, perm: readonly number[], out: tf.TensorInfo): void {
    if (tf.util.sizeFromShape(x.shape) < this.minSize || this.kept.has(x.dataId) || !isVariableValue(x.dataId)) return;
    const key = perm.join(',');
    if (this.seen.get(x.dataId) !== key) {
      this.seen.set(x.dataId, key);
      return;
    }
    this.backend.incRef(out.dataId);
    this.kept.set(x.dataId, { key, out: { dataId: out.dataId, shape: out.shape.slice(), dtype: out.dtype } });
  }

  /** The data of `dataId` was disposed: drop the transpose kept for it (and the engine's record of it, once freed). */
  private forget(dataId: object): void {
    const hit = this.kept.get(dataId);
    if (!hit) return;
    this.kept.delete(dataId);
    if (this.backend.disposeData(hit.out.dataId)) tf.engine().removeDataId(hit.out.dataId, this.backend as unknown as tf.KernelBackend);
  }

  /** Number of transposes kept (for tests). */
  get size(): number {
    return this.kept.size;
  }

  /** Whether `dataId` is a transpose this cache keeps (and hands out again). */
  holds(dataId: tf.DataId): boolean {
    for (const hit of this.kept.values()) if (hit.out.dataId === dataId) return true;
    return false;
  }
}

/** Whether `dataId` is the current value of a variable the engine knows. */
export function isVariableValue(dataId: tf.DataId): boolean {
  for (const v of Object.values(tf.engine().registeredVariables)) if (v.dataId === dataId) return true;
  return false;
}

const caches = new WeakMap<object, WasmTransposeCache>();

/** The transpose cache of a wasm backend instance, made on first use. */
export function wasmTransposeCache(backend: RefCountedBackend): WasmTransposeCache {
  let cache = caches.get(backend);
  if (!cache) {
    cache = new WasmTransposeCache(backend);
    caches.set(backend, cache);
  }
  return cache;
}
