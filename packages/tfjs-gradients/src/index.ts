// Side effect: registers every gradient of tfjs-core (what the @tensorflow/tfjs union does).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getGradient } from '@tensorflow/tfjs-core';
import { registerReductionGradients } from './reductions.js';

registerReductionGradients();

/**
 * Makes sure tfjs-core's gradients are registered, so `tf.grad`, `tf.variableGrads` and the
 * optimizers work with only `@tensorflow/tfjs-core` and a backend installed (the `@tensorflow/tfjs`
 * union and `tfjs-node` register them themselves). Importing this package already registers
 * them; calling this documents the intent and verifies it, failing loudly when a second copy of
 * tfjs-core was installed (its registry would then differ from the one your code uses).
 *
 * @example
 * import { registerGradients } from '@r3d-ts/tfjs-gradients';
 * registerGradients(); // tf.grad(f) now works on wasm / cpu
 */
export function registerGradients(): void {
  if (getGradient('BatchMatMul') == null) {
    throw new Error('tfjs-core gradients are not registered: is a second copy of @tensorflow/tfjs-core installed?');
  }
}
