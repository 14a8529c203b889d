import * as tf from '@tensorflow/tfjs-core';
import { standInWorkerClass } from './pthread-pool.js';

// @tensorflow/tfjs-backend-wasm 4.22 ships a multi-threaded binary (tfjs-backend-wasm-threaded-simd:
// XNNPACK on a pthreadpool of Web Workers over a SharedArrayBuffer heap) but never picks it in Node
// (its WASM_HAS_MULTITHREAD_SUPPORT flag answers false there, tfjs issue 3830). The Emscripten glue
// itself runs in Node worker_threads; three things in tfjs's browser-minded start-up stand in the way,
// and each is bridged here for the duration of `tf.setBackend('wasm')` only:
// 1. the pthread worker script is handed over as a Blob URL, which a Node Worker cannot open: it is
//    written to a file in the temp folder instead (URL.createObjectURL answers that path);
// 2. each worker then loads the main script from a Blob it cannot read synchronously: the worker
//    script is followed by a line that reads the same script from the package's wasm-out folder;
// 3. the C side caps the pool at emscripten_num_logical_cores() / 2 (it assumes two hyper-threads a
//    core), which is require('os').cpus().length in Node: os.cpus answers twice the threads asked;
// 4. the glue starts eight pthread workers up front, of which XNNPACK runs threads - 1: the pool's
//    workers are stand-ins (see pthread-pool.ts) that start a real worker only for a thread.
// The products are cut by output tiles, each summed whole by one thread, so results are the same
// bits as on one thread (tested); only the time changes.

/**
 * The wasm thread count `R3D_WASM_THREADS` asks for: `'auto'` (see `autoWasmThreads`) when it is
 * unset or `auto`, else the number (`1`: the single-threaded binary).
 *
 * @example
 * wasmThreadsRequested({ R3D_WASM_THREADS: '2' }); // 2
 * wasmThreadsRequested({});                        // 'auto'
 */
export function wasmThreadsRequested(env: Record<string, string | undefined> = process.env): number | 'auto' {
  const raw = env.R3D_WASM_THREADS;
  if (raw == null || raw === '') return 'auto';
  if (raw === 'auto') return 'auto';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`R3D_WASM_THREADS must be 'auto' or a whole number >= 1, got "${raw}"`);
  return n;
}

/** What the default wasm thread count depends on (`nodeHost()` reads it off this process). */
export interface WasmHost {
  /** Cores this process may use (`os.availableParallelism()`). */
  cores: number;
  /** The exec arguments the pthread workers would inherit (`process.execArgv`). */
  execArgv: readonly string[];
  /** The main script (`process.argv[1]`): none in the REPL or for a script piped to stdin. */
  mainScript: string | undefined;
}

/** At most this many threads for `auto`: the R3D step's products gain little past four. */
export const AUTO_WASM_THREADS_CAP = 4;

/**
 * The thread count of `R3D_WASM_THREADS=auto` (the default) in Node: the cores, at most
 * `AUTO_WASM_THREADS_CAP`, except where the pthread workers cannot start: they inherit the
 * process's exec arguments, so under `node -e` / `-p` they would run the evaluated code instead of
 * their own, and without a main script (REPL, stdin) they have none to load. There the
 * single-threaded binary runs. On the 2-core VM this was measured on, the R3D training step took
 * 279 ms on two threads against 459 ms on one (PyTorch's 2-thread step: 185-189 ms); starting the
 * threaded binary costs about 0.06 s more per process (threads - 1 pthread workers start).
 *
 * @example
 * autoWasmThreads({ cores: 8, execArgv: [], mainScript: '/app/train.js' }); // 4
 */
export function autoWasmThreads(host: WasmHost): number {
  const evaluates = host.execArgv.some((a) => /^(-e|--eval|-p|--print|-pe|-ep)(=|$)/.test(a));
  if (evaluates || !host.mainScript) return 1;
  return Math.max(1, Math.min(AUTO_WASM_THREADS_CAP, Math.floor(host.cores)));
}

/** This Node process as a `WasmHost`. */
export async function nodeHost(): Promise<WasmHost> {
  const os = await import('node:os');
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return { cores, execArgv: process.execArgv, mainScript: process.argv[1] };
}

interface EmscriptenWorker {
  unref(): void;
}
interface WasmModuleInternals {
  PThread?: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[] };
}

/**
 * Starts tfjs's wasm backend on its multi-threaded binary with `threads` XNNPACK threads (Node only;
 * call after importing `@tensorflow/tfjs-backend-wasm`, before anything else initialises 'wasm').
 * Returns the thread count the backend reports. The pthread workers are unreferenced, so they never
 * keep a finished process alive; they inherit the process's exec arguments, so a script run with
 * `node -e` cannot start them (run a file).
 *
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * await startThreadedWasm(2); // 2
 */
export async function startThreadedWasm(threads: number): Promise<number> {
  const [{ createRequire }, fs, os, path, { EventEmitter }] = await Promise.all([import('node:module'), import('node:fs'), import('node:os'), import('node:path'), import('node:events')]);
  const require = createRequire(import.meta.url);
  // the glue reads require('worker_threads').Worker as it starts (a builtin's exports can be set)
  const workerThreads = require('node:worker_threads') as { Worker: typeof import('node:worker_threads').Worker };
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as { setThreadsCount(n: number): void; getThreadsCount(): number; version_wasm: string };
  const root = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const mainScript = path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const { wasmWorkerContents } = require(path.join(root, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // as tfjs does before making its Blob: the script's "\n" escapes must survive as escapes
  const bridge = `;(function(){var fs=require('fs');var own=global.importScripts;global.importScripts=function(f){if(String(f).startsWith('blob:')){(0,eval)(fs.readFileSync(${JSON.stringify(mainScript)},'utf8'));return}own(f)}})();\n`;
  const script = wasmWorkerContents.replace(/\n/g, '\\n') + bridge;
  const workerFile = path.join(os.tmpdir(), `r3d-tfjs-wasm-${wasmPkg.version_wasm}-threaded-worker-${process.getuid?.() ?? 0}.cjs`);
  let current: string | undefined;
  try {
    current = fs.readFileSync(workerFile, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== script) {
    // another process may read it meanwhile: write aside, then rename over it
    const aside = `${workerFile}.${process.pid}`;
    fs.writeFileSync(aside, script);
    fs.renameSync(aside, workerFile);
  }

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasmPkg.setThreadsCount(threads);
  const createObjectURL = URL.createObjectURL;
  const cpus = os.default.cpus;
  URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : createObjectURL(obj));
  const RealWorker = workerThreads.Worker;
  const StandIn = standInWorkerClass(RealWorker, EventEmitter);
  workerThreads.Worker = StandIn as unknown as typeof RealWorker;
  os.default.cpus = () => {
    const real = cpus();
    return Array.from({ length: 2 * Math.max(threads, real.length) }, (_, i) => real[i % real.length]!);
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error("setBackend('wasm') failed on the multi-threaded binary");
  } finally {
    URL.createObjectURL = createObjectURL;
    os.default.cpus = cpus;
    workerThreads.Worker = RealWorker;
    // the glue set global.Worker to the class it found; a worker it allocates later is a real one
    const global = globalThis as { Worker?: unknown };
    if (global.Worker === StandIn) global.Worker = RealWorker;
  }
  const pthread = (tf.backend() as unknown as { wasm: WasmModuleInternals }).wasm.PThread;
  for (const w of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) w.unref();
  return wasmPkg.getThreadsCount();
}
