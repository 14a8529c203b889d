import * as tf from '@tensorflow/tfjs-core';
import type { R3DConfig } from './config.js';
import type { R3DModel } from './r3d.js';

/** The `format` field of the `model.json` that `R3DModel.save` writes. */
export const R3D_ARTIFACT_FORMAT = 'r3d-ts/r3d-model';

/**
 * What `save` puts in the artefact's `userDefinedMetadata.r3d`: the resolved configuration that
 * rebuilds the model before its weights are assigned. `modelTopology` stays empty, so
 * `tf.loadLayersModel` and `tf.loadGraphModel` refuse the artefact instead of misreading it.
 */
export interface R3DArtifactMetadata {
  /** Layout version of this record (1). */
  version: 1;
  config: R3DConfig;
}

/** The single weight file every artefact of this package has (`weightsManifest[0].paths`). */
export const WEIGHTS_SHARD = 'group1-shard1of1.bin';

/**
 * Standard `tf.io` model artefacts for a model: every weight by the authors' PyTorch name
 * (running BatchNorm statistics included) as float32 in one buffer with its `weightSpecs`, and
 * the configuration in `userDefinedMetadata.r3d`. Any `tf.io` save handler stores it; `load`
 * reads it back. Weights are read back with `data()`, so this never blocks a WebGL context.
 *
 * @example
 * const artifacts = await modelArtifacts(model);
 * await tf.io.browserDownloads('my-r3d').save(artifacts); // what model.save('downloads://my-r3d') does
 */
export async function modelArtifacts(model: R3DModel): Promise<tf.io.ModelArtifacts> {
  const weights = model.getWeights();
  try {
    const { data, specs } = await tf.io.encodeWeights([...weights].map(([name, tensor]) => ({ name, tensor })));
    const r3d: R3DArtifactMetadata = { version: 1, config: model.config };
    return {
      format: R3D_ARTIFACT_FORMAT,
      generatedBy: '@r3d-ts/r3d-model',
      convertedBy: null,
      weightSpecs: specs,
      weightData: data,
      userDefinedMetadata: { r3d: r3d as unknown as object },
    };
  } finally {
    tf.dispose([...weights.values()]);
  }
}
