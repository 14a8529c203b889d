import type { FuserTokens } from '@r3d-ts/rtf-fuser';
import type * as tf from '@tensorflow/tfjs-core';

/** Classes as the model sees them: `numClasses` includes NONE; `pad` marks ignored slots. */
export interface LabelSpace {
  numClasses: number;
  /** The NONE class that ends a predicted transcript. */
  none: number;
  /** Index of padded frames and queries (ignored by losses and metrics). */
  pad: number;
  /** Further labels never scored (e.g. UNDEFINED). */
  ignore?: number[];
}

/**
 * A padded batch of `AnticipationSample`s (from `@r3d-ts/datasets`) as tensors, the one batch
 * type of the repository (see `collate`).
 */
export interface AnticipationBatch {
  /** Per modality: (B, T, ...frame shape), zeros after each item's length. */
  modalities: Record<string, tf.Tensor>;
  /** (B, T) int32 observed labels, `pad` after each item's length. */
  observedLabels: tf.Tensor2D;
  /** (B, T) float32: 1 on real frames, 0 on padding. */
  mask: tf.Tensor2D;
  /** (B, Q) int32 future actions. */
  targetActions: tf.Tensor2D;
  /** (B, Q) float32 relative durations. */
  targetDurations: tf.Tensor2D;
  /** Real frames per item. */
  lengths: number[];
  /** Sample indices (into the list the batch was made from). */
  indices: number[];
}

/** What the trainer reads from a forward pass. */
export interface AnticipationOutputs {
  /** (B, Q, N) action logits per query. */
  actionLogits: tf.Tensor;
  /** (B, Q) raw (log-scale) durations per query. */
  durations: tf.Tensor;
  /** (B, T, N) per-frame segmentation logits of the observed frames. */
  segLogits?: tf.Tensor;
  /**
   * The fuser's tokens of this pass for the effective-rank monitor, with the batch modality each
   * of its two streams read (X, Y). Only needed when `forward` is asked `returnTokens`.
   */
  fusion?: { modalities: readonly [x: string, y: string]; tokens: FuserTokens };
}

export interface ForwardOptions {
  /** Dropout and batch statistics on. */
  training: boolean;
  /** Seed for this pass's dropout masks (changes every step, fixed by the run seed). */
  seed?: number;
  /** Also return the fuser's tokens (`fusion`). */
  returnTokens?: boolean;
}

/**
 * The model interface the trainer drives. Any model that returns anticipation outputs and a
 * scalar loss works: the R3D model of `@r3d-ts/r3d-model` (through `r3dTrainable`) or a test
 * double. `getWeights` must include non-trainable state (BatchNorm running statistics), so a
 * checkpoint restores the model exactly; `trainableVariables` keys name the parameters in
 * checkpoints and optimiser state.
 *
 * @example
 * const model: TrainableModel = {
 *   trainableVariables: { w },
 *   forward: (batch, { training }) => ({ actionLogits, durations }),
 *   loss: (out, batch) => tf.losses.softmaxCrossEntropy(...),
 *   getWeights: () => ({ w: w.clone() }),
 *   setWeights: (m) => w.assign(m.w),
 * };
 */
/** What a capturable step reads: the batch's own tensors, the model's prepared ones and the step's seed. */
export interface StepTensors {
  /** The batch's modalities, (B, T, ...frame shape). */
  modalities: Record<string, tf.Tensor>;
  /** (B, T) float32: 1 on real frames, 0 on padding. */
  mask: tf.Tensor2D;
  /** What `prepare` returned for this batch, in its order. */
  prepared: tf.Tensor[];
  /** int32 scalar: the step's dropout seed as an unsigned 32-bit pattern (the number `ForwardOptions.seed` would be). */
  seed: tf.Scalar;
}

/**
 * A training step as a pure function of tensors, which the trainer runs through `captureStep`
 * (@r3d-ts/step-capture): from the third step of a batch shape on, the recorded kernels are
 * replayed without the engine's per-op work, bit for bit the eager step. Whatever changes from one
 * batch to the next must come in through `StepTensors`.
 */
export interface CapturableStep {
  /** The tensors the loss needs beyond the batch's own, made on the host (targets as masks and weights); the trainer disposes them. */
  prepare(batch: AnticipationBatch): tf.Tensor[];
  /** The training loss and its named terms (logged to TensorBoard), reading no value back. */
  loss(step: StepTensors): { total: tf.Scalar; terms: Record<string, tf.Scalar> };
}

export interface TrainableModel {
  readonly trainableVariables: Record<string, tf.Variable> | readonly tf.Variable[];
  forward(batch: AnticipationBatch, options: ForwardOptions): AnticipationOutputs;
  /**
   * Optional: the fuser's tokens of an evaluation pass that stops at the fuser (the same tensors
   * as `forward(batch, { training: false, returnTokens: true }).fusion`). The effective-rank
   * monitor uses it where present and skips the decoder and heads it does not read.
   */
  fuserTokens?(batch: AnticipationBatch): NonNullable<AnticipationOutputs['fusion']>;
  loss(outputs: AnticipationOutputs, batch: AnticipationBatch): tf.Scalar;
  /**
   * Optional: the named terms that `loss` adds up (e.g. segmentation, action, duration), logged
   * per step to TensorBoard; never differentiated, so they cannot change training. The trainer
   * calls it right after `loss` with the same outputs, so a model may return the terms that
   * call computed (tensors are freed by the trainer's scope).
   */
  lossTerms?(outputs: AnticipationOutputs, batch: AnticipationBatch): Record<string, tf.Scalar>;
  /**
   * Optional: the step as a pure function of tensors, for a captured step. The trainer uses it in
   * place of `forward` + `loss` (+ `lossTerms`) in training when `captureStep` is on (the default).
   */
  capturable?: CapturableStep;
  /** Optional: values whose distribution TensorBoard shows each epoch (e.g. the fuser's alpha), by tag. */
  histograms?(): Record<string, ArrayLike<number>>;
  /** Every tensor of the model's state by name; the caller disposes the returned tensors. */
  getWeights(): tf.NamedTensorMap;
  /** Restores `getWeights` output; the caller keeps ownership of the given tensors. */
  setWeights(weights: tf.NamedTensorMap): void;
}

/** Trainable parameters as `name -> variable`, whatever form the model gives them in. */
export function namedVariables(model: TrainableModel): Record<string, tf.Variable> {
  const vars = model.trainableVariables;
  if (Array.isArray(vars)) {
    const out: Record<string, tf.Variable> = {};
    for (const v of vars as readonly tf.Variable[]) out[v.name] = v;
    return out;
  }
  return { ...(vars as Record<string, tf.Variable>) };
}
