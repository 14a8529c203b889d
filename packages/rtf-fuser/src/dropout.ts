import * as tf from '@tensorflow/tfjs-core';
import { R3DDropoutMultiplier, type R3DDropoutMultiplierAttrs, type R3DDropoutMultiplierInputs } from '@r3d-ts/kernel-names';
import { FuserError } from './errors.js';

/**
 * The seed of one dropout mask: a number, as `tf.dropout` takes it, or a step's seed as a tensor
 * (an int32 scalar holding the seed's unsigned 32-bit pattern) plus this mask's offset, which
 * draws the mask of the number `(base >>> 0) + offset`. A tensor seed lets a captured step
 * (@r3d-ts/step-capture) take the seed as an input and replay with a new one every step.
 */
export type DropoutSeed = number | { base: tf.Tensor; offset: number };

/**
 * Inverted dropout with `tf.dropout`'s masks, bit for bit, for a number or a tensor seed: x scaled
 * by floor(u + 1 - rate) / (1 - rate), u uniform in [0, 1). The identity at rate 0. A tensor seed
 * goes to the `R3DDropoutMultiplier` kernel where the backend has one (@r3d-ts/backend registers
 * it for cpu, native-blas and wasm), so no value is read back; elsewhere the seed is read back and
 * `tf.dropout` draws the same mask.
 *
 * @example
 * const y = dropout(x, 0.1, { base: tf.scalar(stepSeed | 0, 'int32'), offset: 3 }); // = tf.dropout(x, 0.1, undefined, stepSeed + 3)
 */
export function dropout(x: tf.Tensor, rate: number, seed?: DropoutSeed): tf.Tensor {
  if (!(rate > 0)) return x;
  if (seed == null || typeof seed === 'number') return tf.dropout(x, rate, undefined, seed);
  const { base, offset } = seed;
  if (base.dtype !== 'int32' || base.rank !== 0) {
    throw new FuserError({ field: 'seed.base', expected: "an int32 scalar (the seed's unsigned 32-bit pattern)", found: `${base.dtype} [${base.shape.join(', ')}]` });
  }
  if (x.dtype !== 'float32') throw new FuserError({ field: 'x', expected: 'a float32 tensor to drop out', found: x.dtype });
  if (tf.getKernel(R3DDropoutMultiplier, tf.getBackend())) {
    const attrs: R3DDropoutMultiplierAttrs = { shape: x.shape.slice(), rate, offset };
    return tf.tidy(() => tf.mul(x, tf.engine().runKernel(R3DDropoutMultiplier, { seed: base } satisfies R3DDropoutMultiplierInputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor));
  }
  return tf.dropout(x, rate, undefined, ((base.dataSync()[0] as number) >>> 0) + offset);
}
