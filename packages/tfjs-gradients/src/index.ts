import { getGradient, registerGradient } from '@tensorflow/tfjs-core';
import { coreGradConfigs } from './core-gradients.js';
import { registerReductionGradients } from './reductions.js';

/**
 * Registers tfjs-core's gradients, with the broadcast-based `Sum` and `Mean` gradients in place of
 * core's two, so `tf.grad`, `tf.variableGrads` and the optimizers work with only
 * `@tensorflow/tfjs-core` and a backend installed (the `@tensorflow/tfjs` union and `tfjs-node`
 * register core's own on import). Importing this package registers nothing: the registry changes
 * only when you call this, once before the first gradient (again is harmless). It then verifies the
 * registration and fails loudly when a second copy of tfjs-core was installed (its registry would
 * differ from the one your code uses). Call it after your imports: importing
 * `@tensorflow/tfjs-layers` for the first time re-registers core's own `Sum` and `Mean` (same
 * values, slower).
 *
 * @example
 * import { registerGradients } from '@r3d-ts/tfjs-gradients';
 * registerGradients(); // tf.grad(f) now works on wasm / cpu
 */
export function registerGradients(): void {
  for (const config of coreGradConfigs) registerGradient(config);
  registerReductionGradients();
  if (getGradient('BatchMatMul') == null) {
    throw new Error('tfjs-core gradients are not registered: is a second copy of @tensorflow/tfjs-core installed?');
  }
}
