import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AUTO_WASM_THREADS_CAP, autoWasmThreads, wasmThreadsRequested } from './wasm-threads.js';

const here = dirname(fileURLToPath(import.meta.url));

// Each run is its own process: a wasm backend keeps its binary and threads for the process's life.
interface ChildReport {
  threads: number;
  values: number[];
  heapKernels: boolean;
  transposed: boolean;
  /** A product by a wide right operand (multipliesTransposed) has the bits of tfjs's own kernel. */
  wideProduct: boolean;
  /** Exp and Erf have the bits of tfjs's own kernels, R3DGelu and R3DLayerNorm those of the composed ops. */
  math: boolean;
  /** Worker threads the process started (counted at worker_threads.Worker, which the glue reads). */
  workersStarted: number;
}

function run(threads: string | undefined, how: 'file' | 'eval' = 'file'): ChildReport & { ms: number } {
  const entry = pathToFileURL(join(here, 'index.ts')).href;
  const kernels = pathToFileURL(join(here, 'wasm-kernels.ts')).href;
  const script = `
    import * as tf from '@tensorflow/tfjs-core';
    import { createRequire } from 'node:module';
    const workerThreads = createRequire(import.meta.url)('node:worker_threads');
    let workersStarted = 0;
    workerThreads.Worker = class extends workerThreads.Worker { constructor(...args) { super(...args); workersStarted++; } };
    const { selectBackend } = await import(${JSON.stringify(entry)});
    const { usesHeapKernels, multipliesTransposed, tfjsWasmKernel } = await import(${JSON.stringify(kernels)});
    await selectBackend({ backend: 'wasm' });
    const { getThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
    const a = tf.randomNormal([300, 700], 0, 1, 'float32', 1);
    const b = tf.randomNormal([700, 260], 0, 1, 'float32', 2);
    const y = tf.tidy(() => tf.sum(tf.relu(tf.matMul(tf.add(a, 0.5), b)), 0));
    // the SIMD kernels work on this build's heap (shared with 2 threads): every element lands where it should
    const x = tf.range(0, 37 * 70, 1, 'int32');
    const t = tf.transpose(tf.reshape(x, [37, 70])).dataSync();
    let transposed = true;
    for (let i = 0; i < 37; i++) for (let j = 0; j < 70; j++) if (t[j * 37 + i] !== i * 70 + j) transposed = false;
    const top = tf.slice(a, [0, 0], [20, 700]);
    const wide = tf.add(b, 0);
    const ours = new Uint32Array(tf.matMul(top, wide).dataSync().buffer);
    const theirs = new Uint32Array(tf.engine().makeTensorFromTensorInfo(tfjsWasmKernel('BatchMatMul')({ inputs: { a: top, b: wide }, backend: tf.backend(), attrs: { transposeA: false, transposeB: false } })).dataSync().buffer);
    const wideProduct = multipliesTransposed(top, wide, false, false, tf.backend()) && ours.length === 20 * 260 && ours.every((v, i) => v === theirs[i]);
    // every path of expf and erff: x / sqrt 2 runs over [-9.9, 9.9], and past 88 for exp
    const u = tf.concat([tf.linspace(-14, 14, 4001), tf.tensor1d([95, -110, NaN, Infinity, -Infinity])]);
    const same = (p, q) => { const a = new Uint32Array(p.dataSync().buffer), b = new Uint32Array(q.dataSync().buffer); return a.length === b.length && a.every((v, i) => v === b[i]); };
    const g = tf.reshape(tf.slice(b, [0, 0], [1, 700]), [700]);
    const centred = tf.sub(a, tf.mean(a, -1, true));
    const original = (name) => tf.engine().makeTensorFromTensorInfo(tfjsWasmKernel(name)({ inputs: { x: u }, backend: tf.backend(), attrs: {} }));
    const math = same(tf.exp(u), original('Exp')) && same(tf.erf(u), original('Erf'))
      && same(tf.engine().runKernel('R3DGelu', { x: u }), tf.mul(tf.mul(u, 0.5), tf.add(1, tf.erf(tf.mul(u, Math.SQRT1_2)))))
      && same(tf.engine().runKernel('R3DLayerNorm', { x: a, gamma: g, beta: tf.zeros([700]) }, { epsilon: 1e-5 }),
        tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(tf.mean(tf.square(centred), -1, true), 1e-5))), g), tf.zeros([700])));
    console.log(JSON.stringify({ threads: getThreadsCount(), values: Array.from(y.dataSync()), heapKernels: usesHeapKernels(tf.backend()), transposed, wideProduct, math, workersStarted }));
  `;
  const env = { ...process.env, R3D_WASM_THREADS: threads ?? '' };
  const started = performance.now();
  let out: ReturnType<typeof spawnSync>;
  if (how === 'eval') {
    // `node -e`: the default must fall back to one thread (its workers could not start)
    out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: dirname(here), env, encoding: 'utf8', timeout: 120_000 });
  } else {
    // a file, not -e: the pthread workers inherit the parent's exec arguments, and `-e` is not one they can run
    const file = join(dirname(here), `.wasm-threads-child-${process.pid}-${threads ?? 'default'}.mts`);
    writeFileSync(file, script);
    try {
      out = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: dirname(here), env, encoding: 'utf8', timeout: 120_000 });
    } finally {
      rmSync(file, { force: true });
    }
  }
  if (out.status !== 0) throw new Error(`child exited ${out.status} ${out.signal ?? ''}: ${String(out.stderr).slice(-2000)}`);
  return { ...(JSON.parse(String(out.stdout).trim().split('\n').pop()!) as ChildReport), ms: performance.now() - started };
}

describe('wasm on its multi-threaded binary (R3D_WASM_THREADS)', () => {
  it('reads the thread count from the environment', () => {
    expect(wasmThreadsRequested({})).toBe('auto');
    expect(wasmThreadsRequested({ R3D_WASM_THREADS: '' })).toBe('auto');
    expect(wasmThreadsRequested({ R3D_WASM_THREADS: '1' })).toBe(1);
    expect(wasmThreadsRequested({ R3D_WASM_THREADS: 'auto' })).toBe('auto');
    expect(wasmThreadsRequested({ R3D_WASM_THREADS: '2' })).toBe(2);
    expect(() => wasmThreadsRequested({ R3D_WASM_THREADS: '0' })).toThrow(/whole number >= 1/);
    expect(() => wasmThreadsRequested({ R3D_WASM_THREADS: 'two' })).toThrow(/whole number >= 1/);
  });

  it('auto: the cores, at most 4, and one thread where pthread workers cannot start', () => {
    const script = { execArgv: [], mainScript: '/app/train.js' };
    expect(autoWasmThreads({ ...script, cores: 2 })).toBe(2);
    expect(autoWasmThreads({ ...script, cores: 64 })).toBe(AUTO_WASM_THREADS_CAP);
    expect(autoWasmThreads({ ...script, cores: 1 })).toBe(1);
    expect(autoWasmThreads({ ...script, cores: 8, execArgv: ['--import', 'tsx'] })).toBe(4);
    for (const flag of ['-e', '--eval', '-p', '--print', '--eval=1', '-pe']) {
      expect(autoWasmThreads({ ...script, cores: 8, execArgv: [flag, 'code'] }), flag).toBe(1);
    }
    expect(autoWasmThreads({ cores: 8, execArgv: [], mainScript: undefined })).toBe(1);
  });

  it('runs 2 threads in Node with the same bits as 1 thread, auto (the default) where it can, starts a worker per extra thread only, and the process still exits by itself', async () => {
    const { availableParallelism } = await import('node:os');
    const one = run('1');
    const two = run('2');
    const auto = run('auto');
    const unset = run(undefined);
    const evaluated = run(undefined, 'eval');
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(auto.threads).toBe(Math.min(AUTO_WASM_THREADS_CAP, availableParallelism()));
    expect(unset.threads).toBe(auto.threads);
    expect(evaluated.threads).toBe(1);
    for (const r of [two, auto, unset, evaluated]) expect(r.values).toEqual(one.values);
    // of Emscripten's pool of eight pthread workers, only those XNNPACK runs a thread on start
    for (const r of [one, two, auto, unset, evaluated]) expect(r.workersStarted, `${r.threads} threads`).toBe(r.threads - 1);
    // the SIMD kernels on both heaps: unshared (one thread) and shared (the threaded binary)
    for (const r of [one, two, auto, unset, evaluated]) expect([r.heapKernels, r.transposed, r.wideProduct, r.math]).toEqual([true, true, true, true]);
  }, 300_000);
});
