import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from './wasm-kernels.js';
import { autoWasmThreads, nodeHost, startThreadedWasm, wasmThreadsRequested } from './wasm-threads.js';

/**
 * One way to obtain a TensorFlow.js backend. `load` imports whatever registers the backend and
 * throws (with a readable message) when it cannot; `backend` is the name it registers under.
 */
export interface BackendCandidate {
  /** The name the user asks for (`R3D_BACKEND=...`). */
  name: string;
  /** The tfjs backend name that `load` registers. */
  backend: string;
  /** A short description for reports, e.g. the npm package it comes from. */
  via: string;
  load: () => Promise<void>;
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // Native binding errors span many lines (paths, stacks); the first line says what failed.
  return text.split('\n')[0]!.trim();
}

async function importRegistering(specifier: string, backend: string): Promise<void> {
  const kernelsBefore = new Set(tf.getKernelsForBackend(backend).map((k) => k.kernelName));
  try {
    await import(specifier);
  } catch (err) {
    // tfjs-node registers its kernels before it loads its binding: drop what a failed import left,
    // or the next candidate of the same backend (tfjs-node after tfjs-node-gpu) warns once per kernel
    for (const k of tf.getKernelsForBackend(backend)) if (!kernelsBefore.has(k.kernelName)) tf.unregisterKernel(k.kernelName, backend);
    throw new Error(`cannot load ${specifier}: ${message(err)}`);
  }
  if (tf.findBackendFactory(backend) == null) {
    throw new Error(`${specifier} loaded but registered no '${backend}' backend (a second copy of @tensorflow/tfjs-core?)`);
  }
}

/** `@r3d-ts/native-blas` registers on import when its addon loaded; otherwise it says why. */
async function importNativeBlas(): Promise<void> {
  const specifier = '@r3d-ts/native-blas';
  let mod: { registerNativeBlasBackend?: () => void };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    throw new Error(`cannot load ${specifier}: ${message(err)}`);
  }
  try {
    mod.registerNativeBlasBackend?.();
  } catch (err) {
    // NativeBlasUnavailableError carries the build or load failure, e.g. "addon not built: ...".
    throw new Error((err as { reason?: string }).reason ?? message(err));
  }
  if (tf.findBackendFactory('native-blas') == null) {
    throw new Error(`${specifier} loaded but registered no 'native-blas' backend (a second copy of @tensorflow/tfjs-core?)`);
  }
}

/**
 * tfjs's wasm backend with faster kernels where tfjs's cost far more than their work
 * (`registerWasmKernels`); in Node started on its multi-threaded binary (see
 * `startThreadedWasm`) with `autoWasmThreads` threads unless `R3D_WASM_THREADS` names a count
 * (`1`: the single-threaded binary): the same results, products spread over the threads.
 */
async function importWasm(): Promise<void> {
  await importRegistering('@tensorflow/tfjs-backend-wasm', 'wasm');
  registerWasmKernels();
  const requested = wasmThreadsRequested();
  const inNode = typeof process !== 'undefined' && process.versions?.node != null;
  // a wasm backend already started keeps its binary and thread count
  if (!inNode || tf.engine().registry.wasm) return;
  const threads = requested === 'auto' ? autoWasmThreads(await nodeHost()) : requested;
  if (threads <= 1) return;
  try {
    await startThreadedWasm(threads);
  } catch (err) {
    if (requested !== 'auto') throw new Error(`R3D_WASM_THREADS=${threads}: cannot start the multi-threaded wasm binary: ${message(err)}`);
    // auto only: the single-threaded binary still serves, as tfjs falls back in a browser
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    console.warn(`wasm: running on one thread, the multi-threaded binary did not start (${message(err)})`);
  }
}

/**
 * The default candidates, best first: the native TensorFlow binding on CUDA, then on CPU, then
 * OpenBLAS through `@r3d-ts/native-blas` (multi-threaded matmuls, needs its addon built), then
 * WebAssembly (SIMD; in Node on up to 4 threads, `R3D_WASM_THREADS` sets the count), then the pure-JavaScript reference backend.
 */
export const defaultCandidates: readonly BackendCandidate[] = [
  {
    name: 'tensorflow-gpu',
    backend: 'tensorflow',
    via: '@tensorflow/tfjs-node-gpu',
    load: () => importRegistering('@tensorflow/tfjs-node-gpu', 'tensorflow'),
  },
  {
    name: 'tensorflow-cpu',
    backend: 'tensorflow',
    via: '@tensorflow/tfjs-node',
    load: () => importRegistering('@tensorflow/tfjs-node', 'tensorflow'),
  },
  {
    name: 'native-blas',
    backend: 'native-blas',
    via: '@r3d-ts/native-blas',
    load: importNativeBlas,
  },
  {
    name: 'wasm',
    backend: 'wasm',
    via: '@tensorflow/tfjs-backend-wasm',
    load: importWasm,
  },
  {
    name: 'cpu',
    backend: 'cpu',
    via: '@tensorflow/tfjs-backend-cpu',
    load: () => importRegistering('@tensorflow/tfjs-backend-cpu', 'cpu'),
  },
];
