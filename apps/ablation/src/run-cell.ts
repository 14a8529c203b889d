import { join } from 'node:path';
import { type AnticipationSample, samplesFromSequences, type Sequence } from '@r3d-ts/datasets';
import { harmonicBalance } from '@r3d-ts/rank-metrics';
import { evaluateAnticipation, monitorEffectiveRank, parseTrainConfig, r3dTrainable, train, type LabelSpace, type MocCell, type StepEvent, type TrainableModel } from '@r3d-ts/trainer';
import type { AnticipationProtocol } from '@r3d-ts/r3d-model';
import type { AblationConfig } from './config.js';
import { cellModalities, cellSequences, labelSpace, type AblationData } from './data.js';
import type { Cell } from './grid.js';
import { logCellResult } from './cell-board.js';
import { buildCellModel } from './model.js';
import type { BaselineResult } from './analysis/baselines.js';

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
  /** The MoC protocol (`released`: as the authors' evaluation; cells written before it existed lack it). */
  protocol?: AnticipationProtocol;
  /** What "after fusion" means for this fuser (see README). */
  afterTokens: 'exchanged' | 'block' | 'fused' | 'none';
  ranks: RankPoint[];
  /** Training loss of every epoch (a resumed cell's included). */
  trainLoss: number[];
  /** Seconds the cell took, the time before a resume included. */
  seconds: number;
  backend: string;
  /** The grid fingerprint of the folder the cell was written to (`writeCell` sets it). */
  fingerprint?: string;
  /** The majority-class and repeat-last baselines on the same test samples and protocol (`analysis/baselines.ts`); cells written before them lack it. */
  baselines?: BaselineResult[];
}

export interface RunCellOptions {
  /** Folder for the cell's training checkpoints (resumed when present) and TensorBoard event files. */
  runDir: string;
  backend: string;
  onStep?: (event: StepEvent, totalSteps: number) => void;
  /** Stop training at the next step boundary once aborted (a checkpoint is written; `train` throws `TrainingStoppedError`). */
  signal?: AbortSignal;
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
    const trainable = r3dTrainable(model, { rgb: keys.rgb, partner: keys.partner, loss: { transitionWeight: config.transitionWeight } });
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
      backend: options.backend,
      out: options.runDir,
    });
    const stepsPerEpoch = Math.ceil(trainSamples.length / config.batchSize);
    const trainingStarted = performance.now();
    const result = await train({
      model: trainable,
      trainSamples,
      labels,
      config: trainConfig,
      outDir: options.runDir,
      resume: true,
      // the run holds <out>'s lock, so a live holder of this cell's folder can only be a worker of
      // a killed run of the same grid, which exits at its next step once it sees its parent gone
      lockWaitMs: 60_000,
      modelConfig: { cell },
      // the cell's folder is its TensorBoard run: `tensorboard --logdir <out>/runs` compares cells
      tensorboard: options.runDir,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onStep ? { onStep: (e: StepEvent) => options.onStep!(e, stepsPerEpoch * config.epochs) } : {}),
    });
    // a resumed cell: the training before the resume counts too (the checkpoint carried it)
    const secondsBefore = Math.max(0, result.seconds - (performance.now() - trainingStarted) / 1000);
    if (result.history.length !== config.epochs) throw new Error(`cell ${cell.id}: trained ${result.history.length} of ${config.epochs} epochs`);
    const report = evaluateAnticipation(trainable, testSamples, {
      labels,
      observationRatios: config.evalObservationRatios,
      predictionRatios: config.predictionRatios,
      batchSize: config.batchSize,
    });
    const rankSamples = samplesAt(testVideos, config.rankObservationRatios);
    const { ranks, afterTokens } = measureRanks(trainable, cell, rankSamples, config.rankObservationRatios, labels, config.batchSize);
    logCellResult(options.runDir, result.globalStep, { meanMoc: report.meanMoc, moc: report.cells, ranks });
    return {
      cell,
      meanMoc: report.meanMoc,
      moc: report.cells,
      protocol: report.protocol,
      afterTokens,
      ranks,
      trainLoss: result.history.map((h) => h.trainLoss),
      seconds: secondsBefore + (performance.now() - started) / 1000,
      backend: options.backend,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Effective ranks of the tokens around the fuser, per observation ratio, in inference mode, from
 * the model's own outputs through the trainer's `monitorEffectiveRank` (`tokenRanks` of
 * `@r3d-ts/rtf-fuser`): before = each encoder's output; after = the exchanged tokens (RTF,
 * hard-swap), else each modality's token out of the cross-modal block (sa-fuser), else the fused
 * tokens (concat, mean, late). Each test video counts once per ratio; padded frames are left out.
 */
export function measureRanks(
  model: TrainableModel,
  cell: Cell,
  samples: readonly AnticipationSample[],
  ratios: readonly number[],
  labels: LabelSpace,
  batchSize: number,
): { ranks: RankPoint[]; afterTokens: CellResult['afterTokens'] } {
  const keys = cellModalities(cell.partner);
  const unimodal = cell.partner === 'rgb';
  let afterTokens: CellResult['afterTokens'] = unimodal ? 'none' : 'fused';
  const ranks: RankPoint[] = [];
  for (const obs of ratios) {
    const picked = samples.filter((s) => Math.abs(s.observationRatio - obs) < 1e-9);
    const measured = monitorEffectiveRank(model, picked, labels, { batchSize });
    if (measured.samples === 0) continue;
    if (measured.after && measured.after !== 'fused') afterTokens = measured.after;
    const mean = measured.ranks;
    const erank = {
      rgbBefore: mean[`before.${keys.rgb}`]!,
      rgbAfter: mean[`after.${keys.rgb}`]!,
      partnerBefore: mean[`before.${keys.partner}`]!,
      partnerAfter: mean[`after.${keys.partner}`]!,
      fused: mean.fused!,
    };
    const gainRgb = unimodal ? 0 : erank.rgbAfter - erank.rgbBefore;
    const gainPartner = unimodal ? 0 : erank.partnerAfter - erank.partnerBefore;
    ranks.push({ observationRatio: obs, samples: measured.samples, erank, gainRgb, gainPartner, balance: harmonicBalance(gainRgb, gainPartner) });
  }
  return { ranks, afterTokens };
}

/** Where a cell's training checkpoints and TensorBoard event files live inside the output folder. */
export function cellRunDir(out: string, cell: Cell): string {
  return join(out, 'runs', cell.id);
}
