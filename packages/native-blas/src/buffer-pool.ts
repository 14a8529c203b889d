import { getKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * Recycles the Float32Arrays the native kernels write their outputs into.
 *
 * Why: a training step allocates hundreds of fresh output arrays (Adam alone makes a dozen per
 * weight), and every fresh large array is zero-filled by calloc and then page-faulted in on first
 * write: on the 2-core VM that measured this, page faults and the garbage collector were a third of
 * a step. A disposed tensor's array is handed back here and the next kernel output of the same
 * length reuses it.
 *
 * Safety: only arrays this pool handed out are recycled, and never one that may still be visible
 * elsewhere: an array is "escaped" (never recycled) once `readSync`/`dataSync`/`bufferSync`
 * returned it to a caller, or once it was the input of a kernel that is not known to leave its
 * inputs unaliased (the cpu backend's kernels may return a view of an input's array).
 */
export class BufferPool {
  /**
   * Pooled arrays by length, each list oldest first, with the tick each was released at (for
   * eviction when over the byte cap). Why lists rather than a Set of every pooled array in release
   * order: in a process holding a few hundred large arrays, adding to and deleting from such a Set
   * cost 0.4-0.9 us a pair (its table is rehashed as deletions pile up), 1.7-1.9 us for a take and
   * a release together, about 1 ms of R3D's training step.
   */
  private readonly buckets = new Map<number, { arrays: Float32Array[]; ticks: number[] }>();
  private readonly owned = new WeakSet<object>();
  private readonly escaped = new WeakSet<object>();
  private pooledBytes = 0;
  private tick = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly capBytes: number,
    /**
     * Arrays shorter than this (64 bytes) are left to the allocator: V8 keeps them on its own heap.
     * Any longer one gets a separately allocated backing store, 2-3 us to make on the VMs this was
     * measured on: an AdamW update of a 128-float bias spent 8 us creating its three outputs and
     * 1 us computing them.
     */
    readonly minLength = 16,
  ) {}

  /** A Float32Array of `length` with arbitrary contents: the caller must overwrite every element. */
  take(length: number): Float32Array {
    if (length < this.minLength || this.capBytes <= 0) return new Float32Array(length);
    const bucket = this.buckets.get(length);
    const reused = bucket?.arrays.pop();
    if (reused) {
      bucket!.ticks.pop();
      this.pooledBytes -= reused.byteLength;
      this.hits++;
      return reused;
    }
    this.misses++;
    const fresh = new Float32Array(length);
    this.owned.add(fresh);
    return fresh;
  }

  /** Marks an array as visible outside the backend: it is never recycled. */
  escape(values: unknown): void {
    if (values !== null && typeof values === 'object') this.escaped.add(values);
  }

  /** Takes back the array of a disposed tensor when it came from `take` and never escaped. */
  release(values: unknown): void {
    if (!(values instanceof Float32Array) || !this.owned.has(values) || this.escaped.has(values)) return;
    if (values.byteLength > this.capBytes) return;
    let bucket = this.buckets.get(values.length);
    if (bucket?.arrays.includes(values)) return; // released twice: pooled once
    while (this.pooledBytes + values.byteLength > this.capBytes) this.evictOldest();
    bucket = this.buckets.get(values.length); // eviction may have emptied and dropped it
    if (!bucket) this.buckets.set(values.length, (bucket = { arrays: [], ticks: [] }));
    bucket.arrays.push(values);
    bucket.ticks.push(this.tick++);
    this.pooledBytes += values.byteLength;
  }

  private evictOldest(): void {
    let oldest: { arrays: Float32Array[]; ticks: number[] } | undefined;
    let length = 0;
    for (const [n, bucket] of this.buckets) {
      if (!oldest || bucket.ticks[0]! < oldest.ticks[0]!) [oldest, length] = [bucket, n];
    }
    const evicted = oldest!.arrays.shift()!;
    oldest!.ticks.shift();
    if (oldest!.arrays.length === 0) this.buckets.delete(length);
    this.pooledBytes -= evicted.byteLength;
  }

  /** Drops every pooled array (they are garbage collected as usual). */
  clear(): void {
    this.buckets.clear();
    this.pooledBytes = 0;
  }

  stats(): { arrays: number; bytes: number; hits: number; misses: number } {
    let arrays = 0;
    for (const bucket of this.buckets.values()) arrays += bucket.arrays.length;
    return { arrays, bytes: this.pooledBytes, hits: this.hits, misses: this.misses };
  }
}

/** Default pool cap: `R3D_NATIVE_BLAS_POOL_MB` (0 disables pooling), else 512 MiB. */
export function defaultPoolBytes(env: Record<string, string | undefined> = process.env): number {
  const raw = env.R3D_NATIVE_BLAS_POOL_MB;
  if (raw === undefined || raw === '') return 512 * 2 ** 20;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb < 0) throw new RangeError(`R3D_NATIVE_BLAS_POOL_MB must be a number >= 0, got '${raw}'`);
  return Math.floor(mb * 2 ** 20);
}

type PooledBackend = MathBackendCPU & { pool?: BufferPool };

/** A float32 output array for a kernel: recycled when the backend has a pool. */
export function outputArray(backend: MathBackendCPU, length: number): Float32Array {
  const pool = (backend as PooledBackend).pool;
  return pool ? pool.take(length) : new Float32Array(length);
}

/** The values of float32 and int32 tensors: 4-byte words the addon moves alike. */
export type Words = Float32Array | Int32Array;

/** The tensor's values when they are 4-byte words the addon can move (float32, int32), else undefined. */
export function words(backend: MathBackendCPU, t: TensorInfo): Words | undefined {
  const values = backend.data.get(t.dataId).values;
  if (t.dtype === 'float32' && values instanceof Float32Array) return values;
  if (t.dtype === 'int32' && values instanceof Int32Array) return values;
  return undefined;
}

/** The tensor's values when it is bool, one byte each (the cpu backend's Uint8Array), else undefined. */
export function bytes(backend: MathBackendCPU, t: TensorInfo): Uint8Array | undefined {
  const values = backend.data.get(t.dataId).values;
  return t.dtype === 'bool' && values instanceof Uint8Array ? values : undefined;
}

/** An output array of `dtype` (float32 or int32) the caller overwrites completely; float32 ones come from the pool. */
export function alloc(backend: MathBackendCPU, dtype: string, size: number): Words {
  return dtype === 'int32' ? new Int32Array(size) : outputArray(backend, size);
}

/**
 * A float32 tensor's values as the Float32Array the addon reads: tensors made from a number[] or
 * moved from another backend may hold a plain array, which is copied.
 */
export function f32(backend: MathBackendCPU, t: TensorInfo): Float32Array {
  const values = backend.data.get(t.dataId).values;
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

/** Hands a kernel's own scratch array (from `outputArray`) back for reuse. */
export function releaseArray(backend: MathBackendCPU, values: Float32Array): void {
  (backend as PooledBackend).pool?.release(values);
}

/** Marks the arrays of a kernel's inputs as escaped (see BufferPool). */
export function escapeInputs(backend: MathBackendCPU, inputs: Record<string, TensorInfo | undefined | null> | TensorInfo[]): void {
  const pool = (backend as PooledBackend).pool;
  if (!pool) return;
  for (const t of Object.values(inputs)) {
    if (t && backend.data.has(t.dataId)) pool.escape(backend.data.get(t.dataId)!.values);
  }
}

/**
 * The cpu backend's kernel, wrapped so that its inputs' arrays are never recycled afterwards: cpu
 * kernels may hand out a view of an input's array as their output.
 */
export function escapingKernel(kernelFunc: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: MathBackendCPU }) => {
    escapeInputs(args.backend, args.inputs);
    return kernelFunc(args as never);
  }) as unknown as KernelFunc;
}

/** The cpu kernel `name` as a fallback for a native kernel (escaping its inputs). */
export function cpuFallback(name: string): KernelFunc {
  const k = getKernel(name, 'cpu');
  if (!k) throw new Error(`tfjs-backend-cpu registered no ${name} kernel`);
  return escapingKernel(k.kernelFunc);
}

/**
 * cpu kernels that never let an output share an input's array object or buffer under a new data
 * id: Reshape, Identity and ExpandDims share the data id itself (reference counted), and Cast either
 * does that (no precision lost) or writes a new array.
 */
export const aliasFreeCpuKernels: ReadonlySet<string> = new Set(['Reshape', 'Identity', 'ExpandDims', 'Cast']);
