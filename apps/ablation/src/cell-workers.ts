import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signalExitCode, type StepEvent, TrainingStoppedError } from '@r3d-ts/trainer';
import type { AblationConfig } from './config.js';
import type { Cell } from './grid.js';
import type { CellResult } from './run-cell.js';

// Cells are independent: each worker process trains one at a time, its kernels on one thread,
// and the parent writes each result as it arrives. The model is small (C = 64), so a training
// step is mostly the engine's per-kernel work, which one thread does: on idle cores two
// one-thread processes can train twice the cells of one two-thread process, while on cores that
// other jobs fill they only add a start-up each (measured: see README).

/** Messages from the parent to a worker. */
export type ToWorker =
  | { type: 'init'; config: AblationConfig; backend: string }
  | { type: 'cell'; cell: Cell; runDir: string }
  | { type: 'stop'; reason: string };

/** Messages from a worker to the parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'step'; id: string; event: Pick<StepEvent, 'globalStep' | 'epoch' | 'loss'>; total: number }
  | { type: 'done'; id: string; result: CellResult }
  | { type: 'stopped'; id: string; reason: string; exitCode: number; message: string }
  | { type: 'error'; id: string | null; message: string };

/**
 * How many worker processes a run uses: `workers` as configured, or for `auto` one per idle core
 * (`idleCores`, measured just before the cells start: 2 on a quiet 2-core machine, 1 on one that
 * other jobs already fill, where a second process only adds its start-up; measured, see README),
 * never more than the cells to train; 1 trains in this process.
 *
 * @example
 * workerCount('auto', 35, 1.9); // 2
 * workerCount('auto', 35, 0.3); // 1
 */
export function workerCount(workers: AblationConfig['workers'], cells: number, idle: number): number {
  const wanted = workers === 'auto' ? Math.round(idle) : workers;
  return Math.max(1, Math.min(wanted, cells));
}

/**
 * The cores no process is using now: the idle share of every core's time over `ms` milliseconds,
 * summed. Not the load average, which trails by a minute: right after a build it still counts
 * the compiler, and on a loaded machine it lags the other way.
 *
 * @example
 * const idle = await idleCores(); // 1.96 on a quiet 2-core machine
 */
export async function idleCores(ms = 250): Promise<number> {
  const sample = () => cpus().map((c) => ({ idle: c.times.idle, total: c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq }));
  const before = sample();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = sample();
  const idle = after.reduce((sum, c, i) => {
    const total = c.total - (before[i]?.total ?? 0);
    return sum + (total > 0 ? (c.idle - (before[i]?.idle ?? 0)) / total : 1);
  }, 0);
  return Math.min(idle, availableParallelism());
}

/** The worker script beside this module: the built `cell-worker.mjs`, or under a TypeScript loader the source. */
function workerScript(): { path: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return { path: join(dirname(here), 'cell-worker.ts'), execArgv: ['--import', 'tsx'] };
  return { path: join(dirname(here), 'cell-worker.mjs'), execArgv: [] };
}

export interface WorkerPoolOptions {
  workers: number;
  backend: string;
  runDir: (cell: Cell) => string;
  /** Called in the parent as each cell finishes, in finishing order. */
  onResult: (result: CellResult) => void;
  onStart?: (cell: Cell) => void;
  onStep?: (cell: Cell, event: Pick<StepEvent, 'globalStep' | 'epoch' | 'loss'>, total: number) => void;
  signal?: AbortSignal;
  /** Where the workers' own warnings go (default process.stderr); their stdout is dropped, so a --json line stays alone. */
  log?: NodeJS.WritableStream;
}

/**
 * Trains `cells` in `options.workers` child processes (each loads the data from the dataset
 * cache and trains one cell at a time with its native kernels on one thread) and hands every
 * result to `onResult` as it arrives. An abort (`signal`) is passed on: each worker stops its cell
 * at the next step boundary with a checkpoint, and the pool then throws `TrainingStoppedError`
 * after the results that did arrive. A worker's error stops the others and is thrown.
 *
 * @example
 * await trainInWorkers(cells, config, { workers: 2, backend: 'native-blas', runDir: (c) => cellRunDir(out, c), onResult: (r) => writeCell(out, r) });
 */
export async function trainInWorkers(cells: readonly Cell[], config: AblationConfig, options: WorkerPoolOptions): Promise<void> {
  const queue = [...cells];
  const { path, execArgv } = workerScript();
  // one thread per worker (native-blas or wasm) unless the user chose a count
  const env = { ...process.env, R3D_BLAS_THREADS: process.env.R3D_BLAS_THREADS ?? '1', R3D_WASM_THREADS: process.env.R3D_WASM_THREADS ?? '1' };
  const children: ChildProcess[] = [];
  let failure: Error | undefined;
  let stopped: TrainingStoppedError | undefined;
  const stopAll = (reason: string) => {
    for (const child of children) if (child.connected) child.send({ type: 'stop', reason } satisfies ToWorker);
  };
  const onAbort = () => stopAll(typeof options.signal?.reason === 'string' ? options.signal.reason : 'an abort request');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.all(
      Array.from({ length: options.workers }, () => new Promise<void>((resolve) => {
        const child = fork(path, [], { execArgv: [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), ...execArgv], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
        children.push(child);
        child.stderr!.on('data', (chunk: Buffer) => (options.log ?? process.stderr).write(chunk));
        let current: Cell | undefined;
        const next = () => {
          current = failure || stopped || options.signal?.aborted ? undefined : queue.shift();
          if (!current) {
            child.disconnect();
            return;
          }
          options.onStart?.(current);
          child.send({ type: 'cell', cell: current, runDir: options.runDir(current) } satisfies ToWorker);
        };
        child.on('message', (raw) => {
          const message = raw as FromWorker;
          if (message.type === 'ready') next();
          else if (message.type === 'step' && current) options.onStep?.(current, message.event, message.total);
          else if (message.type === 'done') {
            try {
              options.onResult(message.result);
            } catch (err) {
              failure ??= err as Error;
              stopAll('an error in another cell');
            }
            next();
          } else if (message.type === 'stopped') {
            stopped ??= new TrainingStoppedError({ reason: message.reason, exitCode: message.exitCode, where: message.message });
            next();
          } else if (message.type === 'error') {
            failure ??= new Error(message.id ? `cell ${message.id}: ${message.message}` : message.message);
            stopAll('an error in another cell');
            next();
          }
        });
        child.on('exit', (code, signal) => {
          if (current && !failure && !stopped) {
            // a worker that died mid-cell (killed, out of memory): its cell resumes from its checkpoint on a rerun
            failure = new Error(`cell ${current.id}: its worker process ended (${signal ?? `exit ${code}`})`);
            stopAll('an error in another cell');
          }
          resolve();
        });
        child.send({ type: 'init', config, backend: options.backend } satisfies ToWorker);
      })),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (failure) throw failure;
  if (stopped) throw stopped;
  if (options.signal?.aborted) {
    const reason = typeof options.signal.reason === 'string' ? options.signal.reason : 'an abort request';
    throw new TrainingStoppedError({ reason, exitCode: signalExitCode(reason), where: 'between cells' });
  }
}
