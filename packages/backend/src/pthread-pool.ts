import type { EventEmitter } from 'node:events';
import type { TransferListItem, Worker, WorkerOptions } from 'node:worker_threads';

// Emscripten's glue starts a pool of eight pthread workers as the module loads (its
// PTHREAD_POOL_SIZE, fixed when tfjs built the binary) and waits for all eight to answer `loaded`
// before the backend is ready. In Node each is a worker thread with its own V8 isolate that
// evaluates the glue and instantiates the module: about 60 ms of CPU apiece, 0.5 s for the pool,
// in every process that starts wasm. XNNPACK then runs threads - 1 of them (one on 2 threads).

/** A message Emscripten sends a pool worker; `load` comes first, `run` starts a thread on it. */
interface PthreadMessage {
  cmd?: string;
}

/** What `standInWorkerClass` returns: a `Worker` as far as Emscripten's glue uses one. */
export interface PthreadStandIn extends EventEmitter {
  postMessage(message: unknown, transfer?: readonly TransferListItem[]): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

/**
 * A class to put in the place of `worker_threads.Worker` while Emscripten allocates its pthread
 * pool. Each instance stands in for one pool worker: it keeps the `load` message and answers
 * `loaded` at once, and starts the real worker only when the glue sends it anything else (the
 * `run` of a thread), posting the kept `load` and then that message. The worker handles `load`
 * synchronously (it instantiates the module it is sent, then posts `loaded`), so a `run` queued
 * right behind it finds the thread's runtime ready; nothing waits on the main thread's event loop,
 * which a pthread_create that blocks may hold. The real worker's own `loaded` is dropped, as the
 * glue has had one. Pool workers no thread ever runs on are never started.
 *
 * @example
 * const wt = require('node:worker_threads');
 * wt.Worker = standInWorkerClass(Worker, EventEmitter); // during tf.setBackend('wasm') only
 */
export function standInWorkerClass(Real: typeof Worker, Emitter: typeof EventEmitter): new (file: string | URL, options?: WorkerOptions) => PthreadStandIn {
  return class extends Emitter implements PthreadStandIn {
    #real: Worker | undefined;
    #load: unknown;
    #referenced = true;

    constructor(
      private readonly file: string | URL,
      private readonly options?: WorkerOptions,
    ) {
      super();
    }

    postMessage(message: unknown, transfer?: readonly TransferListItem[]): void {
      if (this.#real === undefined && this.#load === undefined && (message as PthreadMessage | null)?.cmd === 'load') {
        this.#load = message;
        queueMicrotask(() => this.emit('message', { cmd: 'loaded' }));
        return;
      }
      (this.#real ??= this.#start()).postMessage(message, transfer);
    }

    ref(): void {
      this.#referenced = true;
      this.#real?.ref();
    }

    unref(): void {
      this.#referenced = false;
      this.#real?.unref();
    }

    terminate(): Promise<number> {
      return this.#real === undefined ? Promise.resolve(0) : this.#real.terminate();
    }

    #start(): Worker {
      const real = new Real(this.file, this.options);
      let loaded = false;
      real.on('message', (data: PthreadMessage | null) => {
        if (!loaded && data?.cmd === 'loaded') {
          loaded = true;
          return;
        }
        this.emit('message', data);
      });
      real.on('error', (err) => this.emit('error', err));
      real.on('exit', (code) => this.emit('exit', code));
      if (!this.#referenced) real.unref();
      if (this.#load !== undefined) real.postMessage(this.#load);
      return real;
    }
  };
}
