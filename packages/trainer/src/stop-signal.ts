import { constants } from 'node:os';

/** What `stopOnSignals` returns: the signal to hand to `train`, and a way to stop listening. */
export interface SignalStop {
  signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  dispose(): void;
}

/**
 * Turns SIGINT and SIGTERM into a stop request: the returned `signal` aborts with the signal's
 * name as reason, and `train` (given it) stops at the next step boundary with a `last`
 * checkpoint and throws a `TrainingStoppedError` whose `exitCode` is 130 or 143. A second signal
 * while stopping exits at once with that code (the `exit` handlers still run: folder locks are
 * released).
 *
 * @example
 * const stop = stopOnSignals();
 * try { await train({ ...opts, signal: stop.signal }); } finally { stop.dispose(); }
 */
export function stopOnSignals(options: { signals?: NodeJS.Signals[]; onSignal?: (signal: NodeJS.Signals) => void } = {}): SignalStop {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signalExitCode(signal));
    received = signal;
    controller.abort(signal);
    options.onSignal?.(signal);
  };
  for (const s of signals) process.on(s, handler);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/**
 * The exit status a shell gives a process a signal ended: 128 + its number (SIGINT 130,
 * SIGTERM 143); 1 for a reason that is not a signal name.
 *
 * @example
 * signalExitCode('SIGTERM'); // 143
 */
export function signalExitCode(reason: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[reason];
  return n != null ? 128 + n : 1;
}
