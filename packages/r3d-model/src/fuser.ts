import * as tf from '@tensorflow/tfjs-core';
import { type Fuser, type FuserName, createFuser } from '@r3d-ts/rtf-fuser';
import type { FuserLayer, RTFuserLayerArgs } from '@r3d-ts/rtf-fuser/layers';
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

/** What `@r3d-ts/rtf-fuser/layers` exports (its Layer classes and `fuserLayer`). */
export type FuserLayersModule = typeof import('@r3d-ts/rtf-fuser/layers');

let fuserLayers: Promise<FuserLayersModule> | undefined;

/**
 * Imports `@r3d-ts/rtf-fuser/layers` on first use. It is never imported statically: importing
 * `@tensorflow/tfjs-layers` registers all of tfjs-core's gradients, which merely importing this
 * package must not do. The async entry points (`load`, `buildR3DModel`) call this, where a
 * first import is expected work. A registry that already had `Sum` and `Mean` gradients (the
 * faster ones of `registerGradients`) keeps them: tfjs-layers would put core's slower ones back.
 *
 * @example
 * const { RTFuserLayer } = await importFuserLayers();
 */
export async function importFuserLayers(): Promise<FuserLayersModule> {
  if (!fuserLayers) {
    const kept = (['Sum', 'Mean'] as const).map((name) => tf.getGradient(name)).filter((g) => g != null);
    fuserLayers = import('@r3d-ts/rtf-fuser/layers').then((module) => {
      for (const config of kept) tf.registerGradient(config);
      return module;
    });
    fuserLayers.catch(() => {
      fuserLayers = undefined;
    });
  }
  return fuserLayers;
}

/**
 * The configured fuser as a built `tf.layers.Layer` of `@r3d-ts/rtf-fuser/layers` (`fuserLayer`
 * with the spec's options over the model's width and seed): its weights are the Layer's, and its
 * `fuser` is the functional fuser the Layer runs, on those weights. Same initial values as
 * `buildFuser` for the same spec and seed.
 *
 * @example
 * const layer = buildFuserLayer(await importFuserLayers(), { name: 'rtf' }, 128, 0);
 */
export function buildFuserLayer(layers: FuserLayersModule, spec: FuserSpec, channels: number, seed: number): FuserLayer {
  const options = { channels, seed, ...(spec.options ?? {}) } as RTFuserLayerArgs;
  if (options.channels !== channels) throw new ModelConfigError('fuser.options.channels', `the model's hidden width ${channels}`, options.channels);
  return layers.fuserLayer(spec.name as FuserName, options).buildFor(channels);
}

/** Is this a fuser Layer of `@r3d-ts/rtf-fuser/layers` (checked by shape: the class is never imported here)? */
export function isFuserLayer(value: unknown): value is FuserLayer {
  const v = value as { fuserName?: unknown; buildFor?: unknown; getConfig?: unknown } | null;
  return v != null && typeof v.fuserName === 'string' && typeof v.buildFor === 'function' && typeof v.getConfig === 'function';
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

