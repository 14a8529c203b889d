import type { R3DModel } from '@r3d-ts/r3d-model';
import { r3dLoss, type LossOptions } from '@r3d-ts/r3d-model';
import * as tf from '@tensorflow/tfjs-core';
import type { AnticipationBatch, AnticipationOutputs, LabelSpace, TrainableModel } from './model.js';

export interface R3DTrainableOptions {
  /** Sample modality that feeds the RGB encoder (default `rgb`). */
  rgb?: string;
  /** Sample modality that feeds the partner encoder (default `depth`). */
  partner?: string;
  /** Loss options beyond the model's pad/ignored indices (released defaults otherwise). */
  loss?: Omit<LossOptions, 'padIndex'>;
}

/** A `TrainableModel` view of an R3D model, plus the label space its heads and losses use. */
export interface R3DTrainable extends TrainableModel {
  readonly model: R3DModel;
  readonly labels: LabelSpace;
}

/**
 * Adapts an `R3DModel` from `@r3d-ts/r3d-model` to the trainer: sample modalities are routed to
 * the RGB and partner encoders, the loss is the released `r3dLoss`, dropout masks are seeded
 * per step (the model's `seed` option), and parameters are keyed by their PyTorch names so
 * checkpoints and optimiser state survive a new process. With `returnTokens` the model's fuser
 * tokens (`R3DOutputs.tokens`) are returned as `fusion`, for the effective-rank monitor.
 *
 * @example
 * const model = createR3DModel({ numClasses: 5, rgb: rgbEncoder(16), partner: depthEncoder(4, 4), hidden: 32 });
 * const trainable = r3dTrainable(model);
 * await train({ model: trainable, labels: trainable.labels, trainSamples, validationSamples, config });
 */
export function r3dTrainable(model: R3DModel, options: R3DTrainableOptions = {}): R3DTrainable {
  const rgbKey = options.rgb ?? 'rgb';
  const partnerKey = options.partner ?? 'depth';
  const cfg = model.config;
  // UNDEFINED frames (-1, as every loader of @r3d-ts/datasets writes them) are never scored
  const ignore = [...new Set([...cfg.ignoreIndices, -1])]; // -1 is in the default, kept for custom configs
  const labels: LabelSpace = { numClasses: cfg.numClasses, none: cfg.noneIndex, pad: cfg.padIndex, ignore };
  const variables = Object.fromEntries(model.namedTrainableVariables());

  const inputsOf = (batch: AnticipationBatch) => {
    const rgb = batch.modalities[rgbKey];
    const partner = batch.modalities[partnerKey];
    if (!rgb || !partner) {
      throw new Error(`r3dTrainable: the batch has modalities [${Object.keys(batch.modalities)}], the model reads "${rgbKey}" (rgb) and "${partnerKey}" (partner)`);
    }
    return { rgb, partner, lengths: batch.lengths };
  };

  return {
    model,
    labels,
    trainableVariables: variables,
    forward(batch, { training, seed, returnTokens }): AnticipationOutputs {
      const inputs = inputsOf(batch);
      // padded frames are masked as keys in inference too: the released evaluation runs one video
      // at a time (no padding), which a padded batch only matches with the mask on
      const out = model.apply(inputs, { training, keyPaddingMask: true, ...(training && seed != null ? { seed } : {}) });
      const result: AnticipationOutputs = { actionLogits: out.action, durations: out.duration, segLogits: out.segmentation };
      if (returnTokens) result.fusion = { modalities: [rgbKey, partnerKey], tokens: out.tokens };
      // every other tensor of the pass stays alive for the gradient tape; the caller's tidy frees them
      return result;
    },
    loss(outputs, batch): tf.Scalar {
      const l = r3dLoss(
        { action: outputs.actionLogits as tf.Tensor3D, duration: outputs.durations as tf.Tensor2D, segmentation: outputs.segLogits as tf.Tensor3D },
        { labels: batch.observedLabels, action: batch.targetActions, duration: batch.targetDurations },
        { ignoreIndices: ignore, ...options.loss, padIndex: cfg.padIndex },
      );
      return l.total;
    },
    getWeights(): tf.NamedTensorMap {
      return Object.fromEntries(model.getWeights());
    },
    setWeights(weights: tf.NamedTensorMap): void {
      model.setWeights(new Map(Object.entries(weights)), { source: 'checkpoint' });
    },
  };
}
