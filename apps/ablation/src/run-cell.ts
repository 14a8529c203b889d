import { join } from 'node:path';
import { type AnticipationSample, samplesFromSequences, type Sequence } from '@r3d-ts/datasets';
import { batchEffectiveRank, harmonicBalance } from '@r3d-ts/rank-metrics';
import type { R3DModel } from '@r3d-ts/r3d-model';
import { collate, disposeBatch, evaluateAnticipation, parseTrainConfig, r3dTrainable, train, type LabelSpace, type MocCell, type StepEvent } from '@r3d-ts/trainer';
import * as tf from '@tensorflow/tfjs-core';
import type { AblationConfig } from './config.js';
import { cellModalities, cellSequences, labelSpace, type AblationData } from './data.js';
import type { Cell } from './grid.js';
import { buildCellModel } from './model.js';

/** Effective ranks at one observation ratio, averaged over test videos (authors' variant). */
export interface RankPoint {
  observationRatio: number;
  /** Test videos measured. */
  samples: number;
  erank: { rgbBefore: number; rgbAfter: number; partnerBefore: number; partnerAfter: number; fused: number };
  /** Mean over videos of erank(after) - erank(before); 0 for the RGB-only baseline. */
  gainRgb: number;
  gainPartner: number;
  /** harmonicBalance(gainRgb, gainPartner) of the means. */
  balance: number;
}

/** Everything one cell produced; written as `cells/<id>.json`. */
export interface CellResult {
  cell: Cell;
  /** Mean MoC over the (obs, pred) grid, and each cell of it. */
  meanMoc: number;
  moc: MocCell[];
  /** What "after fusion" means for this fuser (see README). */
  afterTokens: 'exchanged' | 'block' | 'fused' | 'none';
  ranks: RankPoint[];
  trainLoss: number[];
  seconds: number;
  backend: string;
}

export interface RunCellOptions {
  /** Folder for the cell's training checkpoints (resumed when present). */
  runDir: string;
  backend: string;
  onStep?: (event: StepEvent, totalSteps: number) => void;
}

/**
 * Trains one cell of the grid (AdamW, warm-up + cosine, seeded), evaluates MoC on the test
 * videos at the configured observation x prediction ratios, and measures the effective rank of
 * RGB and partner tokens before and after fusion at each rank observation ratio.
 *
 * @example
 * const result = await runCell(cell, config, data, { runDir: 'out/ablation/runs/depth...', backend: 'wasm' });
 */
export async function runCell(cell: Cell, config: AblationConfig, data: AblationData, options: RunCellOptions): Promise<CellResult> {
  const started = performance.now();
  const labels = labelSpace(data.classNames.length);
  const keys = cellModalities(cell.partner);
  const [trainVideos, testVideos] = [cellSequences(data.train, cell.partner), cellSequences(data.test, cell.partner)];
  const samplesAt = (videos: readonly Sequence[], ratios: readonly number[]) => samplesFromSequences(videos, { observationRatios: ratios, labels });
  const trainSamples = samplesAt(trainVideos, config.trainObservationRatios);
  const testSamples = samplesAt(testVideos, config.evalObservationRatios);
  if (trainSamples.length === 0 || testSamples.length === 0) throw new Error(`cell ${cell.id}: no training or test samples (videos too short for the ratios?)`);
  const dims = { rgb: trainSamples[0]!.modalities[keys.rgb]!.dim, partner: trainSamples[0]!.modalities[keys.partner]!.dim };
  const model = buildCellModel(cell, config, labels, dims);
  try {
    const trainable = r3dTrainable(model, { rgb: keys.rgb, partner: keys.partner });
    const trainConfig = parseTrainConfig({
      seed: cell.seed,
      epochs: config.epochs,
      batchSize: config.batchSize,
      lr: config.lr,
      weightDecay: config.weightDecay,
      warmupEpochs: Math.min(config.warmupEpochs, config.epochs),
      trainObservationRatios: config.trainObservationRatios,
      evalObservationRatios: config.evalObservationRatios,
      predictionRatios: config.predictionRatios,
      rankMonitor: { enabled: false },
      backend: options.backend,
      out: options.runDir,
    });
    const stepsPerEpoch = Math.ceil(trainSamples.length / config.batchSize);
    const result = await train({
      model: trainable,
      trainSamples,
      labels,
      config: trainConfig,
      outDir: options.runDir,
      resume: true,
      modelConfig: { cell },
      ...(options.onStep ? { onStep: (e: StepEvent) => options.onStep!(e, stepsPerEpoch * config.epochs) } : {}),
    });
    const report = evaluateAnticipation(trainable, testSamples, {
      labels,
      observationRatios: config.evalObservationRatios,
      predictionRatios: config.predictionRatios,
      batchSize: config.batchSize,
    });
    const rankSamples = samplesAt(testVideos, config.rankObservationRatios);
    const { ranks, afterTokens } = measureRanks(model, cell, rankSamples, config.rankObservationRatios, labels, config.batchSize);
    return {
      cell,
      meanMoc: report.meanMoc,
      moc: report.cells,
      afterTokens,
      ranks,
      trainLoss: result.history.map((h) => h.trainLoss),
      seconds: (performance.now() - started) / 1000,
      backend: options.backend,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Effective ranks of the tokens around the fuser, per observation ratio, in inference mode:
 * before = each encoder's output; after = the exchanged tokens (RTF, hard-swap), else each
 * modality's token out of the cross-modal block (sa-fuser), else the fused tokens (concat, mean,
 * late). Each test video counts once per ratio; padded frames are left out.
 */
export function measureRanks(
  model: R3DModel,
  cell: Cell,
  samples: readonly AnticipationSample[],
  ratios: readonly number[],
  labels: LabelSpace,
  batchSize: number,
): { ranks: RankPoint[]; afterTokens: CellResult['afterTokens'] } {
  const keys = cellModalities(cell.partner);
  let afterTokens: CellResult['afterTokens'] = cell.partner === 'rgb' ? 'none' : 'fused';
  const ranks: RankPoint[] = [];
  for (const obs of ratios) {
    const picked = samples.filter((s) => Math.abs(s.observationRatio - obs) < 1e-9);
    const sums = { rgbBefore: 0, rgbAfter: 0, partnerBefore: 0, partnerAfter: 0, fused: 0 };
    let n = 0;
    for (let start = 0; start < picked.length; start += batchSize) {
      const items = picked.slice(start, start + batchSize);
      const batch = collate(items, items.map((_, i) => start + i), labels);
      try {
        const tokens = tf.tidy(() => {
          const inputs = { rgb: batch.modalities[keys.rgb]!, partner: batch.modalities[keys.partner]!, lengths: batch.lengths };
          const out = model.apply(inputs, { training: false });
          const ex = model.fuser.apply(out.embedded.rgb, out.embedded.partner, { training: false, lengths: batch.lengths });
          let rgbAfter: tf.Tensor = out.fused;
          let partnerAfter: tf.Tensor = out.fused;
          if (ex.exchangedX && ex.exchangedY) {
            afterTokens = 'exchanged';
            [rgbAfter, partnerAfter] = [ex.exchangedX, ex.exchangedY];
          } else if (ex.block && ex.block.rank === 4 && ex.block.shape[2] === 2) {
            afterTokens = 'block';
            const [b, t, , c] = ex.block.shape;
            rgbAfter = tf.reshape(tf.slice(ex.block, [0, 0, 0, 0], [b, t, 1, c]), [b, t, c]);
            partnerAfter = tf.reshape(tf.slice(ex.block, [0, 0, 1, 0], [b, t, 1, c]), [b, t, c]);
          }
          return [out.embedded.rgb, rgbAfter, out.embedded.partner, partnerAfter, out.fused];
        });
        try {
          const erank = tokens.map((t) => batchEffectiveRank({ data: t.dataSync(), shape: t.shape }, { variant: 'authors', lengths: batch.lengths }));
          for (let i = 0; i < items.length; i++) {
            sums.rgbBefore += erank[0]![i]!;
            sums.rgbAfter += erank[1]![i]!;
            sums.partnerBefore += erank[2]![i]!;
            sums.partnerAfter += erank[3]![i]!;
            sums.fused += erank[4]![i]!;
          }
          n += items.length;
        } finally {
          tf.dispose(tokens);
        }
      } finally {
        disposeBatch(batch);
      }
    }
    if (n === 0) continue;
    const mean = (v: number) => v / n;
    const erank = { rgbBefore: mean(sums.rgbBefore), rgbAfter: mean(sums.rgbAfter), partnerBefore: mean(sums.partnerBefore), partnerAfter: mean(sums.partnerAfter), fused: mean(sums.fused) };
    const unimodal = cell.partner === 'rgb';
    const gainRgb = unimodal ? 0 : erank.rgbAfter - erank.rgbBefore;
    const gainPartner = unimodal ? 0 : erank.partnerAfter - erank.partnerBefore;
    ranks.push({ observationRatio: obs, samples: n, erank, gainRgb, gainPartner, balance: harmonicBalance(gainRgb, gainPartner) });
  }
  return { ranks, afterTokens };
}

/** Where a cell's training checkpoints live inside the output folder. */
export function cellRunDir(out: string, cell: Cell): string {
  return join(out, 'runs', cell.id);
}
