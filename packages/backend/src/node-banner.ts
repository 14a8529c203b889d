import * as tf from '@tensorflow/tfjs-core';

/**
 * Keeps tfjs-backend-cpu's one-time "Hi, looks like you are running TensorFlow.js in Node.js ...
 * install our node backend" banner from printing once a backend has been chosen on purpose. The
 * banner is printed by `MathBackendCPU.write` on its first call when `firstUse` is still true;
 * `firstUse` gates nothing else, so clearing it on every initialised backend that has it (the cpu
 * backend and native-blas, which extends it) removes exactly that message. tfjs's other warnings,
 * and `console.warn`, are untouched.
 *
 * @example
 * await tf.setBackend('cpu');
 * silenceNodeBanner(); // tf.tensor(...) no longer prints the banner
 */
export function silenceNodeBanner(): void {
  const registry = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  for (const backend of Object.values(registry)) {
    const b = backend as { firstUse?: unknown };
    if (b != null && typeof b.firstUse === 'boolean') b.firstUse = false;
  }
}
