// tfjs-core's package entry registers no gradients (the @tensorflow/tfjs union does), and the
// module that does is extensionless ESM that plain Node cannot load. tsup bundles it into this
// package's dist instead (see tsup.config.ts); the gradient registry is global, so the configs
// it registers serve every module that uses @tensorflow/tfjs-core.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getGradient } from '@tensorflow/tfjs-core';

/**
 * Makes sure tfjs-core's gradients are registered, so `tf.grad`, `tf.variableGrads` and
 * optimizers work when only tfjs-core and a backend are installed. Importing this package already
 * does it; calling this documents the intent and verifies it.
 *
 * @example
 * registerGradients(); // then tf.grad(f) works on wasm / cpu without @tensorflow/tfjs
 */
export function registerGradients(): void {
  if (getGradient('BatchMatMul') == null) {
    throw new Error('tfjs-core gradients are not registered: @tensorflow/tfjs-core resolved to a second copy?');
  }
}
