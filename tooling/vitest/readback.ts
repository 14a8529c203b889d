import { vi } from 'vitest';

/**
 * Every way a tensor's values reach JavaScript. A forward pass that calls none of them never
 * waits for the device (no WebGL "GPU stall due to ReadPixels") and can run asynchronously.
 */
export const READS = ['dataSync', 'arraySync', 'data', 'array', 'bufferSync', 'buffer'] as const;

/**
 * Runs `f` with every read-back method of `tensorPrototype` (pass `tf.Tensor.prototype`, which
 * `tf.Variable` shares; structural, so tooling does not depend on tfjs) spied on, and returns the
 * names of the methods called, one entry per call.
 *
 * @example
 * expect(readsDuring(tf.Tensor.prototype, () => model.apply(x))).toEqual([]);
 */
export function readsDuring(tensorPrototype: Record<(typeof READS)[number], (...args: never[]) => unknown>, f: () => void): string[] {
  const spies = READS.map((m) => [m, vi.spyOn(tensorPrototype, m)] as const);
  try {
    f();
    return spies.flatMap(([m, spy]) => spy.mock.calls.map(() => m));
  } finally {
    for (const [, spy] of spies) spy.mockRestore();
  }
}
