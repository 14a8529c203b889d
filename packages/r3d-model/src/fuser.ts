import type * as tf from '@tensorflow/tfjs-core';
import { type Fuser, type FuserName, createFuser } from '@r3d-ts/rtf-fuser';
import type { FuserSpec } from './config.js';
import { ModelConfigError } from './errors.js';

/** The prefix the authors' state_dict puts before every fuser weight. */
export const FUSER_PREFIX = 'fuser.';

/**
 * Builds the configured fuser from `@r3d-ts/rtf-fuser` with the model's channel width; the
 * spec's options win over the defaults (the released `rtf`: bn-gamma selection, ratio 0.1).
 */
export function buildFuser(spec: FuserSpec, channels: number, seed: number): Fuser {
  const options = { channels, seed, ...(spec.options ?? {}) };
  if (options.channels !== channels) throw new ModelConfigError('fuser.options.channels', `the model's hidden width ${channels}`, options.channels);
  return createFuser(spec.name as FuserName, options);
}

/** PyTorch shapes of the fuser's weights, by full name (`fuser.` prefix). */
export function fuserWeightShapes(fuser: Fuser): Map<string, number[]> {
  const weights = fuser.getWeights();
  const shapes = new Map<string, number[]>();
  for (const [name, t] of weights) {
    shapes.set(FUSER_PREFIX + name, [...t.shape]);
    t.dispose();
  }
  return shapes;
}

/** Does this fuser stack the two streams along the batch (late fusion), to be combined after the heads? */
export function isLateFusion(fuser: Fuser): fuser is Fuser & { batchFactor: number; combine(p: tf.Tensor): tf.Tensor } {
  return (fuser as { batchFactor?: number }).batchFactor === 2 && typeof (fuser as { combine?: unknown }).combine === 'function';
}

