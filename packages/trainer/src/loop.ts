import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type AnticipationSample, mixSeed, Rng } from '@r3d-ts/datasets';
import { writeFileAtomic } from '@r3d-ts/tensor-io/node';
import { registerGradients } from '@r3d-ts/tfjs-gradients';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { batchIndices, collate, disposeBatch } from './batching.js';
import { checkpointExists, checkWeightsMatch, entriesToTensors, loadCheckpoint, saveCheckpoint, type TrainingProgress } from './checkpoint.js';
import { defaultWarmupEpochs, type TrainConfig } from './config.js';
import { NonFiniteLossError } from './errors.js';
import { type EvaluationReport, evaluateAnticipation } from './evaluate.js';
import { type LabelSpace, namedVariables, type TrainableModel } from './model.js';
import { monitorEffectiveRank } from './rank-monitor.js';
import { learningRate } from './schedule.js';
import { TrainingBoard } from './tensorboard-log.js';

export interface StepEvent {
  /** 0-based epoch and step inside it. */
  epoch: number;
  step: number;
  stepsInEpoch: number;
  globalStep: number;
  loss: number;
  lr: number;
  /** Throughput of this epoch so far. */
  samplesPerSecond: number;
  /** Global gradient norm before clipping (only when clipping is on). */
  gradNorm?: number;
}

/** One line of `log.jsonl`. */
export interface EpochRecord {
  event: 'epoch';
  /** 1-based number of the completed epoch. */
  epoch: number;
  globalStep: number;
  lr: number;
  trainLoss: number;
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  validation?: { meanMoc: number; cells: EvaluationReport['cells']; segmentation: EvaluationReport['segmentation']; protocol: EvaluationReport['protocol'] };
  /** Mean effective rank of tokens on the fixed validation subset (see `monitorEffectiveRank`). */
  effectiveRank?: Record<string, number>;
  /** True when this epoch became the best checkpoint. */
  best: boolean;
  numTensors: number;
}

export interface TrainOptions {
  model: TrainableModel;
  trainSamples: readonly AnticipationSample[];
  /** Evaluation samples (with futureLabels) for MoC, best-checkpoint choice and the rank monitor. */
  validationSamples?: readonly AnticipationSample[];
  labels: LabelSpace;
  config: TrainConfig;
  /** Run folder (default `config.out`): `last/`, `best/`, `log.jsonl`. */
  outDir?: string;
  /** Continue from `<outDir>/last` when it exists (else start fresh). */
  resume?: boolean;
  /** Extra configuration stored in each checkpoint's `config.json` (e.g. the model's). */
  modelConfig?: unknown;
  /**
   * TensorBoard log folder (default `<outDir>/tb`; `false` writes none): per-step loss, its
   * terms, learning rate and samples/s, and each epoch's `log.jsonl` numbers (see `TrainingBoard`).
   * Run folders side by side compare in `tensorboard --logdir <their parent>`.
   */
  tensorboard?: string | false;
  /** Stop after this many epochs of this call (the schedule still spans `config.epochs`). */
  stopAfterEpochs?: number;
  onStep?: (event: StepEvent) => void;
  onEpoch?: (record: EpochRecord) => void;
  onResume?: (progress: TrainingProgress) => void;
}

export interface TrainResult {
  outDir: string;
  history: EpochRecord[];
  best: { metric: number; epoch: number } | null;
  globalStep: number;
}

/**
 * Trains an anticipation model with the released R3D recipe (or any `TrainConfig`): shuffled
 * padded batches from a seeded generator, AdamW with decoupled weight decay, linear warm-up then
 * cosine, optional global-norm clipping, validation MoC each epoch with the best checkpoint kept,
 * the effective rank of tokens before/after fusion logged, and a `last` checkpoint (weights,
 * optimiser moments, schedule position, generator state) from which `resume: true` continues
 * bit for bit. A NaN/Inf loss stops the run with a `NonFiniteLossError` before that step touches
 * any weight or checkpoint.
 *
 * @example
 * const result = await train({ model, trainSamples, validationSamples, labels, config: parseTrainConfig({ epochs: 5 }) });
 * result.best; // { metric: 0.62, epoch: 4 }
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { model, trainSamples, labels, config } = options;
  const validation = options.validationSamples ?? [];
  const outDir = options.outDir ?? config.out;
  const lastDir = join(outDir, 'last');
  const bestDir = join(outDir, 'best');
  const logPath = join(outDir, 'log.jsonl');
  if (trainSamples.length === 0) throw new Error('train: no training samples');
  // tfjs-core's own entry registers no gradients; this package does (and checks for a second core)
  registerGradients();
  const variables = namedVariables(model);
  const byTfName = new Map(Object.entries(variables).map(([key, v]) => [v.name, key]));
  const varList = Object.values(variables);
  const optimizer = new AdamW({ weightDecay: config.weightDecay, beta1: config.beta1, beta2: config.beta2, epsilon: config.epsilon });
  const storedConfig = { train: config, model: options.modelConfig ?? null, labels };

  let progress: TrainingProgress = {
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    rng: new Rng(config.seed).state(),
    epochLossSum: 0,
    epochLossCount: 0,
    best: null,
    lr: 0,
  };
  mkdirSync(outDir, { recursive: true });
  if (checkpointExists(lastDir)) {
    if (!options.resume) throw new Error(`train: ${lastDir} already holds a checkpoint; resume it or choose another output folder`);
    const ckpt = loadCheckpoint(lastDir);
    restoreModel(model, ckpt.weights, join(ckpt.dir, 'weights.safetensors'));
    if (ckpt.optimizer && ckpt.state.optimizerStep != null) {
      const moments = entriesToTensors(ckpt.optimizer);
      optimizer.setState({ step: ckpt.state.optimizerStep, moments });
      tf.dispose(moments);
    }
    progress = ckpt.state.progress;
    truncateLog(logPath, progress.epoch);
    options.onResume?.(progress);
  } else if (existsSync(logPath)) {
    writeFileAtomic(logPath, '');
  }

  const history: EpochRecord[] = [];
  const n = trainSamples.length;
  const stepsPerEpoch = Math.ceil(n / config.batchSize);
  const schedule = { lr: config.lr, warmupEpochs: config.warmupEpochs ?? defaultWarmupEpochs(config.epochs), totalEpochs: config.epochs, minLr: config.minLr, ...(config.schedulePerStep ? { stepsPerEpoch } : {}) };
  const rankSubset = (validation.length > 0 ? validation : trainSamples).slice(0, config.rankMonitor.samples);
  const lastEpoch = options.stopAfterEpochs != null ? Math.min(config.epochs, progress.epoch + options.stopAfterEpochs) : config.epochs;
  const board = options.tensorboard === false ? null : new TrainingBoard(options.tensorboard ?? join(outDir, 'tb'), progress.globalStep > 0 ? progress.globalStep : null);

  try {
    for (let epoch = progress.epoch; epoch < lastEpoch; epoch++) {
      const epochStartRng = progress.rng;
      const rng = Rng.fromState(epochStartRng);
      const batches = batchIndices(rng.permutation(n), config.batchSize);
      const nextRng = rng.state();
      const started = performance.now();
      let samplesSeen = 0;
      for (let s = progress.stepInEpoch; s < batches.length; s++) {
        const lr = learningRate(schedule, epoch, s);
        const idx = batches[s];
        const batch = collate(idx.map((i) => trainSamples[i]), idx, labels);
        let lossValue: number;
        let gradNorm: number | undefined;
        let lossTerms: Record<string, number> | undefined;
        try {
          // dropout masks from (run seed, global step) alone: a resumed run draws the same ones
          const seed = mixSeed(config.seed, progress.globalStep);
          const { value, grads } = tf.variableGrads(() => {
            const outputs = model.forward(batch, { training: true, seed });
            const loss = model.loss(outputs, batch);
            if (board && model.lossTerms) lossTerms = readScalars(model.lossTerms(outputs, batch));
            return loss;
          }, varList);
          lossValue = value.dataSync()[0];
          value.dispose();
          let named: Record<string, tf.Tensor> = {};
          for (const [tfName, g] of Object.entries(grads)) named[byTfName.get(tfName) ?? tfName] = g;
          if (!Number.isFinite(lossValue)) {
            tf.dispose(named);
            const record = { event: 'stopped', reason: 'non-finite loss', loss: String(lossValue), epoch: epoch + 1, step: progress.globalStep + 1 };
            appendFileSync(logPath, `${JSON.stringify(record)}\n`);
            throw new NonFiniteLossError({ step: progress.globalStep + 1, epoch: epoch + 1, loss: lossValue, ...(checkpointExists(lastDir) ? { checkpoint: lastDir } : {}) });
          }
          if (config.gradClipNorm != null) {
            const clipped = clipByGlobalNorm(named, config.gradClipNorm);
            named = clipped.grads;
            gradNorm = clipped.norm;
          }
          optimizer.applyGradients(named, variables, lr);
          tf.dispose(named);
        } finally {
          disposeBatch(batch);
        }
        samplesSeen += idx.length;
        progress = {
          ...progress,
          stepInEpoch: s + 1,
          globalStep: progress.globalStep + 1,
          epochLossSum: progress.epochLossSum + lossValue,
          epochLossCount: progress.epochLossCount + 1,
          lr,
        };
        const stepEvent: StepEvent = {
          epoch,
          step: s,
          stepsInEpoch: batches.length,
          globalStep: progress.globalStep,
          loss: lossValue,
          lr,
          samplesPerSecond: samplesSeen / ((performance.now() - started) / 1000),
          ...(gradNorm !== undefined ? { gradNorm } : {}),
        };
        board?.step(stepEvent, lossTerms);
        options.onStep?.(stepEvent);
        if (config.checkpointEverySteps > 0 && progress.globalStep % config.checkpointEverySteps === 0 && s + 1 < batches.length) {
          board?.flush();
          saveLast(lastDir, model, optimizer, { ...progress, rng: epochStartRng }, storedConfig);
        }
      }
      const seconds = (performance.now() - started) / 1000;
      const trainLoss = progress.epochLossSum / Math.max(progress.epochLossCount, 1);
      progress = { ...progress, epoch: epoch + 1, stepInEpoch: 0, rng: nextRng, epochLossSum: 0, epochLossCount: 0 };

      let report: EvaluationReport | undefined;
      let ranks: Record<string, number> | undefined;
      const validateNow = validation.length > 0 && ((epoch + 1) % config.validateEvery === 0 || epoch + 1 === config.epochs);
      if (validateNow) {
        report = evaluateAnticipation(model, validation, {
          labels,
          observationRatios: config.evalObservationRatios,
          predictionRatios: config.predictionRatios,
          anticipationRatio: config.anticipationRatio,
          batchSize: config.batchSize,
          protocol: config.protocol,
        });
      }
      if (config.rankMonitor.enabled) ranks = monitorEffectiveRank(model, rankSubset, labels, { batchSize: config.batchSize }).ranks;
      let isBest = false;
      if (report && Number.isFinite(report.meanMoc) && (progress.best == null || report.meanMoc > progress.best.metric)) {
        isBest = true;
        progress = { ...progress, best: { metric: report.meanMoc, epoch: epoch + 1 } };
      }
      const record: EpochRecord = {
        event: 'epoch',
        epoch: epoch + 1,
        globalStep: progress.globalStep,
        lr: progress.lr,
        trainLoss,
        samples: samplesSeen,
        seconds,
        samplesPerSecond: samplesSeen / Math.max(seconds, 1e-9),
        ...(report ? { validation: { meanMoc: report.meanMoc, cells: report.cells, segmentation: report.segmentation, protocol: report.protocol } } : {}),
        ...(ranks && Object.keys(ranks).length > 0 ? { effectiveRank: ranks } : {}),
        best: isBest,
        numTensors: tf.memory().numTensors,
      };
      // log first: a crash before the checkpoint below re-runs this epoch, and resume drops this line
      appendFileSync(logPath, `${JSON.stringify(record)}\n`);
      board?.epoch(record, model.histograms?.());
      if (isBest) {
        const weights = model.getWeights();
        try {
          saveCheckpoint(bestDir, { kind: 'best', weights, progress, config: storedConfig, metrics: { meanMoc: report!.meanMoc, epoch: epoch + 1 } });
        } finally {
          tf.dispose(weights);
        }
      }
      saveLast(lastDir, model, optimizer, progress, storedConfig);
      history.push(record);
      options.onEpoch?.(record);
    }
  } finally {
    optimizer.dispose();
    board?.close();
  }
  return { outDir, history, best: progress.best, globalStep: progress.globalStep };
}

// one read for all terms; inside the gradient tape, so the caller's tidy frees the tensors
function readScalars(terms: Record<string, tf.Scalar>): Record<string, number> {
  const names = Object.keys(terms);
  if (names.length === 0) return {};
  const values = tf.stack(names.map((n) => terms[n]!)).dataSync();
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
}

function saveLast(dir: string, model: TrainableModel, optimizer: AdamW, progress: TrainingProgress, config: unknown): void {
  const weights = model.getWeights();
  const state = optimizer.getState();
  try {
    saveCheckpoint(dir, { kind: 'last', weights, optimizer: state, progress, config });
  } finally {
    tf.dispose(weights);
    tf.dispose(state.moments);
  }
}

/** Loads checkpoint weights into the model after checking names and shapes. */
export function restoreModel(model: TrainableModel, entries: Parameters<typeof entriesToTensors>[0], file: string): void {
  const current = model.getWeights();
  try {
    checkWeightsMatch(file, entries, current);
  } finally {
    tf.dispose(current);
  }
  const tensors = entriesToTensors(entries);
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

function truncateLog(path: string, completedEpochs: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const r = JSON.parse(line) as { event?: string; epoch?: number };
        return r.event === 'epoch' && typeof r.epoch === 'number' && r.epoch <= completedEpochs;
      } catch {
        return false;
      }
    });
  writeFileAtomic(path, kept.length > 0 ? `${kept.join('\n')}\n` : '');
}
