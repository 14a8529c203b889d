import type { R3DModel } from '@r3d-ts/r3d-model';
import { prepareTargets, PREPARED_TARGET_FIELDS, r3dLoss, r3dLossFromTargets, type LossOptions, type PreparedTargets, type R3DLoss } from '@r3d-ts/r3d-model';
import { R3DDropoutMultiplier } from '@r3d-ts/kernel-names';
import * as tf from '@tensorflow/tfjs-core';
import type { AnticipationBatch, AnticipationOutputs, CapturableStep, LabelSpace, TrainableModel } from './model.js';

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

  const streamsOf = (modalities: Record<string, tf.Tensor>) => {
    const rgb = modalities[rgbKey];
    const partner = modalities[partnerKey];
    if (!rgb || !partner) {
      throw new Error(`r3dTrainable: the batch has modalities [${Object.keys(modalities)}], the model reads "${rgbKey}" (rgb) and "${partnerKey}" (partner)`);
    }
    return { rgb, partner };
  };
  const targetsOf = (batch: AnticipationBatch) => ({ labels: batch.observedLabels, action: batch.targetActions, duration: batch.targetDurations });

  const lossOptions: LossOptions = { ignoreIndices: ignore, ...options.loss, padIndex: cfg.padIndex };
  const lossOf = (outputs: AnticipationOutputs, batch: AnticipationBatch) =>
    r3dLoss(
      { action: outputs.actionLogits as tf.Tensor3D, duration: outputs.durations as tf.Tensor2D, segmentation: outputs.segLogits as tf.Tensor3D },
      targetsOf(batch),
      lossOptions,
    );

  // the trainer asks for the terms right after the loss of the same pass: no second computation
  const lastLoss = new WeakMap<AnticipationOutputs, { batch: AnticipationBatch; loss: R3DLoss }>();

  const capturable: CapturableStep = {
    prepare(batch) {
      const [b, t] = batch.mask.shape;
      const shape = { batch: b, frames: t, queries: batch.targetActions.shape[1], classes: cfg.numClasses };
      const { targets } = prepareTargets(targetsOf(batch), shape, lossOptions);
      return PREPARED_TARGET_FIELDS.map((f) => targets[f]);
    },
    loss({ modalities, mask, prepared, seed }) {
      // the mask tensor, not the lengths: the same frames, and nothing made from JavaScript values
      const out = model.apply({ ...streamsOf(modalities), mask }, { training: true, keyPaddingMask: true, seed });
      const targets = Object.fromEntries(PREPARED_TARGET_FIELDS.map((f, i) => [f, prepared[i]!])) as unknown as PreparedTargets;
      const l = r3dLossFromTargets(out, targets, lossOptions.weights);
      return { total: l.total, terms: { segmentation: l.segmentation, action: l.action, duration: l.duration } };
    },
  };

  return {
    model,
    labels,
    trainableVariables: variables,
    forward(batch, { training, seed, returnTokens }): AnticipationOutputs {
      const inputs = { ...streamsOf(batch.modalities), lengths: batch.lengths };
      // padded frames are masked as keys in inference too: the released evaluation runs one video
      // at a time (no padding), which a padded batch only matches with the mask on
      const out = model.apply(inputs, { training, keyPaddingMask: true, ...(training && seed != null ? { seed } : {}) });
      const result: AnticipationOutputs = { actionLogits: out.action, durations: out.duration, segLogits: out.segmentation };
      if (returnTokens) result.fusion = { modalities: [rgbKey, partnerKey], tokens: out.tokens };
      // every other tensor of the pass stays alive for the gradient tape; the caller's tidy frees them
      return result;
    },
    fuserTokens(batch) {
      // the key padding mask acts after the fuser only: the tokens are forward's, bit for bit
      const tokens = model.fuserTokens({ ...streamsOf(batch.modalities), lengths: batch.lengths });
      return { modalities: [rgbKey, partnerKey] as const, tokens };
    },
    loss(outputs, batch): tf.Scalar {
      const l = lossOf(outputs, batch);
      lastLoss.set(outputs, { batch, loss: l });
      return l.total;
    },
    lossTerms(outputs, batch): Record<string, tf.Scalar> {
      // the terms `loss` just computed for these outputs, else computed anew
      const cached = lastLoss.get(outputs);
      const l = cached && cached.batch === batch ? cached.loss : lossOf(outputs, batch);
      if (l !== cached?.loss) l.total.dispose();
      return { segmentation: l.segmentation, action: l.action, duration: l.duration };
    },
    // offered only where the dropout masks come from a kernel: elsewhere (tfjs-node, webgl) every
    // mask would read its seed back, and the plain eager step is the better one
    get capturable(): CapturableStep | undefined {
      return cfg.dropout === 0 || tf.getKernel(R3DDropoutMultiplier, tf.getBackend()) ? capturable : undefined;
    },
    histograms(): Record<string, ArrayLike<number>> {
      return fuserHistograms(model.fuser, rgbKey, partnerKey);
    },
    getWeights(): tf.NamedTensorMap {
      return Object.fromEntries(model.getWeights());
    },
    setWeights(weights: tf.NamedTensorMap): void {
      model.setWeights(new Map(Object.entries(weights)), { source: 'checkpoint' });
    },
  };
}

/** The parts of an exchanging fuser (`rtf`, `hard-swap` of @r3d-ts/rtf-fuser) its histograms read. */
interface ExchangingFuser {
  alpha?: tf.Variable | null;
  blendWeight?: () => tf.Tensor1D;
  selection?: string;
  ratio?: number;
  bnX?: { weight: tf.Variable } | null;
  bnY?: { weight: tf.Variable } | null;
}

/**
 * Distributions worth watching in an exchanging fuser: `fuser/alpha`, the effective blend weight
 * per channel (alpha, or sigmoid(alpha)); and with `bn-gamma` selection (the released one),
 * `fuser/channel_score/<modality>`, every channel's score |gamma|, and
 * `fuser/selected_score/<modality>`, the scores of the floor(ratio * C) channels it exchanges.
 * `variance` and `svd-energy` choose per sample from the tokens, and the fuser does not return
 * those scores, so they have no histogram. Fusers without an exchange give none.
 */
function fuserHistograms(fuser: unknown, rgbKey: string, partnerKey: string): Record<string, ArrayLike<number>> {
  const f = fuser as ExchangingFuser;
  const out: Record<string, ArrayLike<number>> = {};
  if (f.alpha && typeof f.blendWeight === 'function') {
    const a = f.blendWeight();
    out['fuser/alpha'] = a.dataSync().slice();
    a.dispose();
  }
  if (f.selection === 'bn-gamma' && typeof f.ratio === 'number' && f.bnX && f.bnY) {
    for (const [key, bn] of [[rgbKey, f.bnX], [partnerKey, f.bnY]] as const) {
      const scores = Float64Array.from(bn.weight.dataSync(), Math.abs);
      const k = Math.floor(scores.length * f.ratio);
      out[`fuser/channel_score/${key}`] = scores;
      if (k > 0) out[`fuser/selected_score/${key}`] = scores.slice().sort().subarray(0, k);
    }
  }
  return out;
}
