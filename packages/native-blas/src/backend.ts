import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { loadAddon, type BlasAddon } from './addon.js';
import { aliasFreeCpuKernels, BufferPool, defaultPoolBytes, escapingKernel } from './buffer-pool.js';
import { NativeBlasUnavailableError } from './errors.js';
import { elementwiseConfigs, fillKernelNames, unaryKernelNames } from './elementwise-kernels.js';
import { movementConfigs } from './movement-kernels.js';
import { R3DAdamW, R3DGelu, R3DGeluGrad, R3DLayerNorm, R3DLayerNormGrad, R3DLinearNormRelu } from '@r3d-ts/kernel-names';
import { fusedConfigs } from './fused-kernels.js';
import { topKConfig } from './topk-kernel.js';
import { TransposeCache } from './transpose-cache.js';
import { WeightPanelsCache } from './weight-panels.js';
import { batchMatMulConfig, fusedMatMulConfig } from './matmul-kernels.js';

/** The tfjs backend name this package registers. */
export const NATIVE_BLAS = 'native-blas';

/**
 * The cpu backend with its tensors' data in JS typed arrays (so `dispose` frees them and nothing
 * native leaks); only the kernels registered for `native-blas` differ, the float32 arrays the
 * native kernels write are recycled through a `BufferPool` when their tensors are disposed,
 * repeated transposes of the same large tensor are kept (`TransposeCache`), and so are the packed
 * panels of a weight that a long `x W^T` reads again (`WeightPanelsCache`).
 */
export class NativeBlasBackend extends MathBackendCPU {
  readonly pool: BufferPool;
  readonly transposes: TransposeCache;
  readonly weightPanels: WeightPanelsCache;

  constructor(readonly blas: BlasAddon, poolBytes = defaultPoolBytes()) {
    super();
    this.pool = new BufferPool(poolBytes);
    this.transposes = new TransposeCache(this);
    this.weightPanels = new WeightPanelsCache(blas);
  }

  /**
   * A float32 array of `length` for a kernel's output, recycled from a disposed tensor when one
   * fits (contents arbitrary: write every element). Kernels registered from outside this package
   * (the dropout mask's) use it so that their outputs are recycled too.
   *
   * @example
   * const out = backend.floatOutput(n); out.fill(0); return backend.makeTensorInfo([n], 'float32', out);
   */
  floatOutput(length: number): Float32Array {
    return this.pool.take(length);
  }

  /**
   * Fills `out` with the dropout multipliers seedrandom's alea generator draws from `state` (its
   * carry `c` and numbers `s0`, `s1`, `s2`, as `alea(seed, { state: true }).state()` gives them):
   * the values of @r3d-ts/backend's `dropoutMultiplier` bit for bit, about 7x faster (an
   * integer recurrence in C instead of JavaScript's doubles). `keep` is the float32 1 - rate.
   *
   * @example
   * backend.aleaDropoutMultiplier(seedrandom.alea('7', { state: true }).state(), Math.fround(0.9), out);
   */
  aleaDropoutMultiplier(state: { c: number; s0: number; s1: number; s2: number }, keep: number, out: Float32Array): void {
    const words = Uint32Array.of(state.c, state.s0 * 2 ** 32, state.s1 * 2 ** 32, state.s2 * 2 ** 32);
    this.blas.dropoutMask(words, keep, out);
  }

  // What readSync returns is the array itself (dataSync, bufferSync, read go through here): the
  // caller may keep it after disposing the tensor, so it must never be recycled.
  override readSync(dataId: object): ReturnType<MathBackendCPU['readSync']> {
    if (this.data.has(dataId)) this.pool.escape(this.data.get(dataId)!.values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: object, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId)!.values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values !== undefined && !this.data.has(dataId)) {
      this.pool.release(values);
      this.transposes.forget(dataId);
      this.weightPanels.forget(dataId);
    }
    return released;
  }

  override dispose(): void {
    this.transposes.clear();
    this.weightPanels.clear();
    this.pool.clear();
    super.dispose();
  }
}

/** Kernels replaced by native code; every other kernel is the cpu backend's. */
export const nativeKernels = [
  'BatchMatMul', '_FusedMatMul', 'Add', 'Sub', 'Multiply', 'RealDiv', 'SquaredDifference', 'Maximum', 'Minimum',
  'Transpose', 'Softmax', 'Sum', 'Mean', ...unaryKernelNames, ...fillKernelNames,
  'Select', 'Slice', 'SplitV', 'Unpack', 'StridedSlice', 'Concat', 'Pack', 'PadV2', 'Tile', R3DLayerNorm, R3DLayerNormGrad, R3DGelu, R3DGeluGrad, R3DAdamW, R3DLinearNormRelu, 'TopK',
] as readonly string[];

/**
 * Registers the `native-blas` backend and its kernels with TensorFlow.js (idempotent), or throws a
 * `NativeBlasUnavailableError` with the reason (e.g. "addon not built: cblas.h not found").
 * Importing the package calls this already and swallows the error; call it to learn the reason.
 *
 * @example
 * import { registerNativeBlasBackend } from '@r3d-ts/native-blas';
 * registerNativeBlasBackend();
 * await tf.setBackend('native-blas');
 */
export function registerNativeBlasBackend(): void {
  const status = loadAddon();
  if (!status.ok) throw new NativeBlasUnavailableError(status.reason);
  if (tf.findBackendFactory(NATIVE_BLAS) != null) return;
  const { addon } = status;
  for (const config of tf.getKernelsForBackend('cpu')) {
    if (nativeKernels.includes(config.kernelName)) continue;
    const kernelFunc = aliasFreeCpuKernels.has(config.kernelName) ? config.kernelFunc : escapingKernel(config.kernelFunc);
    tf.registerKernel({ ...config, backendName: NATIVE_BLAS, kernelFunc });
  }
  const native = [
    batchMatMulConfig(addon, NATIVE_BLAS), fusedMatMulConfig(addon, NATIVE_BLAS),
    ...elementwiseConfigs(addon, NATIVE_BLAS), ...movementConfigs(addon, NATIVE_BLAS), ...fusedConfigs(addon, NATIVE_BLAS),
    topKConfig(NATIVE_BLAS),
  ];
  for (const config of native) tf.registerKernel(config);
  // Above cpu (1) and wasm (2), below the libtensorflow binding (3).
  tf.registerBackend(NATIVE_BLAS, () => new NativeBlasBackend(addon), 2.5);
}

/**
 * Whether the addon loaded, and if not, why.
 *
 * @example
 * const s = nativeBlasStatus(); if (!s.available) console.warn(s.reason);
 */
export function nativeBlasStatus(): { available: true; config: string; threads: number; path: string } | { available: false; reason: string } {
  const status = loadAddon();
  if (!status.ok) return { available: false, reason: status.reason };
  return { available: true, config: status.addon.config(), threads: status.addon.getNumThreads(), path: status.path };
}
