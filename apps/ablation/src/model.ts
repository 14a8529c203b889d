import { createR3DModel, rgbEncoder, vectorEncoder, type R3DModel } from '@r3d-ts/r3d-model';
import type { LabelSpace } from '@r3d-ts/trainer';
import type { AblationConfig, AblationFuser } from './config.js';
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
  const { hidden, heads, ffnDim, dropout, encoderLayers } = config.model;
  return createR3DModel({
    numClasses: labels.numClasses,
    noneIndex: labels.none,
    padIndex: labels.pad,
    hidden,
    heads,
    ffnDim,
    dropout,
    encoderLayers,
    maxPositions: 512,
    rgb: rgbEncoder(dims.rgb),
    partner: vectorEncoder(dims.partner, cell.partner === 'rgb' ? 'none' : cell.partner),
    fuser: { ...fuserSpec(cell.fuser, cell.exchangeRatio), options: { ...fuserSpec(cell.fuser, cell.exchangeRatio).options, heads, dropout } },
    seed: cell.seed,
  });
}
