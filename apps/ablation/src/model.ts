import { createR3DModel, r3dLoss, rgbEncoder, vectorEncoder, type R3DModel } from '@r3d-ts/r3d-model';
import type { AnticipationBatch, AnticipationOutputs, LabelSpace, TrainableModel } from '@r3d-ts/trainer';
import { Rng } from '@r3d-ts/trainer';
import * as tf from '@tensorflow/tfjs-core';
import type { AblationConfig, AblationFuser } from './config.js';
import { cellModalities } from './data.js';
import type { Cell } from './grid.js';

/** `createFuser` name and options for an ablation fuser name. */
export function fuserSpec(fuser: AblationFuser | 'none', exchangeRatio: number | null): { name: string; options: Record<string, unknown> } {
  const ratio = exchangeRatio ?? 0.3;
  switch (fuser) {
    case 'rtf-variance':
      return { name: 'rtf', options: { selection: 'variance', ratio } };
    case 'rtf-svd-energy':
      return { name: 'rtf', options: { selection: 'svd-energy', ratio } };
    case 'rtf-bn-gamma':
      return { name: 'rtf', options: { selection: 'bn-gamma', ratio } };
    case 'hard-swap':
      return { name: 'hard-swap', options: { selection: 'variance', ratio } };
    case 'none':
      // RGB alone: the partner is a constant stand-in and the mean fuser adds nothing but a bias
      return { name: 'mean', options: {} };
    default:
      return { name: fuser, options: {} };
  }
}

/** Per-frame input sizes of the modalities in the samples (first sample decides). */
export interface InputDims {
  rgb: number;
  partner: number;
}

/**
 * The R3D model of one cell: RGB encoder Linear -> ReLU, partner encoder Linear -> LayerNorm ->
 * ReLU (every partner enters as a per-frame vector; depth frames are flattened), the cell's fuser,
 * one post-norm decoder layer on 8 queries, seeded by the cell's seed.
 */
export function buildCellModel(cell: Cell, config: AblationConfig, labels: LabelSpace, dims: InputDims): R3DModel {
  const { hidden, heads, ffnDim, dropout } = config.model;
  return createR3DModel({
    numClasses: labels.numClasses,
    noneIndex: labels.none,
    padIndex: labels.pad,
    ignoreIndices: [],
    hidden,
    heads,
    ffnDim,
    dropout,
    maxPositions: 512,
    rgb: rgbEncoder(dims.rgb),
    partner: vectorEncoder(dims.partner, cell.partner === 'rgb' ? 'none' : cell.partner),
    fuser: { ...fuserSpec(cell.fuser, cell.exchangeRatio), options: { ...fuserSpec(cell.fuser, cell.exchangeRatio).options, heads, dropout } },
    seed: cell.seed,
  });
}

// tf draws the seed of unseeded random ops (the model's dropout) from Math.random: seeding it
// per step makes a cell's training identical whichever process or shard runs it.
function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new Rng(seed);
  Math.random = () => rng.nextFloat();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/**
 * The trainer's view of a cell's R3D model: batch modalities routed to the RGB and partner
 * encoders, the released loss, seeded dropout, parameters keyed by stable names.
 */
export function trainableOf(model: R3DModel, cell: Cell, labels: LabelSpace): TrainableModel {
  const keys = cellModalities(cell.partner);
  const vars: Record<string, tf.Variable> = {};
  model.trainableVariables().forEach((v, i) => {
    const key = v.name.replace(/\/\d+$/, '').replace(/_\d+$/, '');
    vars[key in vars ? `${key}#${i}` : key] = v;
  });
  const cfg = model.config;
  return {
    trainableVariables: vars,
    forward(batch: AnticipationBatch, { training, seed }): AnticipationOutputs {
      const inputs = { rgb: batch.modalities[keys.rgb]!, partner: batch.modalities[keys.partner]!, lengths: batch.lengths };
      const run = () => model.apply(inputs, { training });
      const out = training && seed != null ? withSeededRandom(seed, run) : run();
      return { actionLogits: out.action, durations: out.duration, segLogits: out.segmentation };
    },
    loss(outputs, batch): tf.Scalar {
      const l = r3dLoss(
        { action: outputs.actionLogits as tf.Tensor3D, duration: outputs.durations as tf.Tensor2D, segmentation: outputs.segLogits as tf.Tensor3D },
        { labels: batch.observedLabels, action: batch.targetActions, duration: batch.targetDurations },
        { padIndex: cfg.padIndex, ignoreIndices: cfg.ignoreIndices },
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
