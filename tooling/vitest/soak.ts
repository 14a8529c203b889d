/** Tensor counts as `tf.memory()` reports them (structural: tooling does not depend on tfjs). */
export interface TensorMemory {
  numTensors: number;
  numBytes: number;
}

export interface SoakResult {
  /** Loss of the first and of the last step. */
  first: number;
  last: number;
  /** `memory()` after the 200 warm-up steps and after all 1000. */
  before: TensorMemory;
  after: TensorMemory;
  /** RSS growth in bytes over the last 800 steps, and over the last 400. */
  growth: number;
  lateGrowth: number;
  /** One line with all of the above, for the test log. */
  summary: string;
}

const MB = 1024 * 1024;

/**
 * Runs `step(i)` (which returns the loss) for i in [0, 1000) and measures the tensor memory and the
 * process RSS from step 200 on, when caches, pools and optimiser slots have settled: the soak
 * tests' protocol for "no leaks over 1000 training steps". The test asserts on the result.
 *
 * @example
 * const r = soak((i) => model.step(i), () => tf.memory());
 * expect(r.after.numTensors).toBe(r.before.numTensors);
 */
export function soak(step: (i: number) => number, memory: () => TensorMemory): SoakResult {
  const first = step(0);
  for (let i = 1; i < 200; i++) step(i);
  const before = { ...memory() };
  const rss = process.memoryUsage().rss;
  let last = first;
  for (let i = 200; i < 600; i++) last = step(i);
  const middle = process.memoryUsage().rss;
  for (let i = 600; i < 1000; i++) last = step(i);
  const after = { ...memory() };
  const end = process.memoryUsage().rss;
  const growth = end - rss;
  const lateGrowth = end - middle;
  const summary = `loss ${first.toFixed(4)} -> ${last.toFixed(4)}; tensors ${before.numTensors} -> ${after.numTensors}; RSS +${(growth / MB).toFixed(1)} MB over the last 800 steps, +${(lateGrowth / MB).toFixed(1)} MB over the last 400`;
  return { first, last, before, after, growth, lateGrowth, summary };
}
