import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { type AnticipationSample, mixSeed, Rng } from '@r3d-ts/datasets';
import { lockFolder } from '@r3d-ts/tensor-io/node';
import { type CapturedStep, type CaptureStatus, captureStep } from '@r3d-ts/step-capture';
import { registerGradients } from '@r3d-ts/tfjs-gradients';
import { AdamW, clipByGlobalNorm } from './adamw.js';
import { batchIndices, collate, disposeBatch } from './batching.js';
import { checkpointExists, checkWeightsMatch, digestOf, entriesToTensors, saveCheckpoint, type TrainingProgress } from './checkpoint.js';
import { defaultWarmupEpochs, type TrainConfig } from './config.js';
import { NonFiniteLossError, TrainingStoppedError } from './errors.js';
import { type EvaluationReport, evaluateAnticipation } from './evaluate.js';
import { type AnticipationBatch, type CapturableStep, type LabelSpace, namedVariables, type TrainableModel } from './model.js';
import { monitorEffectiveRank } from './rank-monitor.js';
import { planRunFolder } from './run-folder.js';
import { learningRate } from './schedule.js';
import { signalExitCode } from './stop-signal.js';
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
  /** How `captureStep` ran this step (recording, replay, or eager with the reason); absent when the step was not captured. */
  capture?: CaptureStatus;
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
  /**
   * Continue from `<outDir>/last` when it exists (else start fresh). Everything the resume reads
   * is checked first (see `planRunFolder`); a folder holding `best/` but no `last/` is refused.
   */
  resume?: boolean;
  /** Start a new run in a folder that holds checkpoints of another run, removing them (else refused). */
  overwrite?: boolean;
  /**
   * How long to wait for a live process holding the run folder's lock to let go before refusing
   * (default 0: refuse at once). For callers that know the holder is ending, such as the worker of
   * a killed parent that is still finishing its step.
   */
  lockWaitMs?: number;
  /**
   * Stop at the next step boundary once aborted: a `last` checkpoint is written and a
   * `TrainingStoppedError` thrown (`stopOnSignals` makes one from SIGINT/SIGTERM).
   */
  signal?: AbortSignal;
  /** Extra configuration stored in each checkpoint's `config.json` (e.g. the model's). */
  modelConfig?: unknown;
  /**
   * TensorBoard log folder (default `<outDir>/tb`; `false` writes none): per-step loss, its
   * terms, learning rate and samples/s, and each epoch's `log.jsonl` numbers (see `TrainingBoard`).
   * Run folders side by side compare in `tensorboard --logdir <their parent>`.
   */
  tensorboard?: string | false;
  /**
   * Run the training step through `captureStep` (@r3d-ts/step-capture) when the model offers
   * `capturable` (`r3dTrainable` does): recorded at the first two steps of each batch shape, then
   * replayed without the engine's per-op work, bit for bit the eager step (default true).
   */
  captureStep?: boolean;
  /** Stop after this many epochs of this call (the schedule still spans `config.epochs`). */
  stopAfterEpochs?: number;
  onStep?: (event: StepEvent) => void;
  onEpoch?: (record: EpochRecord) => void;
  onResume?: (progress: TrainingProgress) => void;
  /**
   * Called once every check of the run folder has passed and training is about to begin (before
   * `onResume`): a CLI announces the run here, so a refused folder prints only its one error line.
   */
  onStart?: () => void;
}

export interface TrainResult {
  outDir: string;
  /** Every epoch of the run, the ones before a resume included (read back from the verified log). */
  history: EpochRecord[];
  /** Seconds spent training over every call of the run (a resumed run adds the checkpoint's). */
  seconds: number;
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
 * any weight or checkpoint. The run folder is locked for the whole call (`lockFolder`: a second
 * run into it is refused), and a run never replaces checkpoints it did not write unless told to
 * (`resume`, `overwrite`).
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
  const capturedStep = options.captureStep !== false && model.capturable ? capturedGradients(model.capturable, varList) : undefined;
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
    elapsedSeconds: 0,
  };
  const n = trainSamples.length;
  const stepsPerEpoch = Math.ceil(n / config.batchSize);
  mkdirSync(outDir, { recursive: true });
  // one writer per run folder: a second run into it is refused while this one runs
  const lock = lockFolder(outDir, { waitMs: options.lockWaitMs ?? 0 });
  try {
    const plan = planRunFolder(outDir, { resume: options.resume ?? false, overwrite: options.overwrite ?? false, epochs: config.epochs, stepsPerEpoch });
    const ckpt = plan.checkpoint;
    if (ckpt) {
      restoreModel(model, ckpt.weights, join(ckpt.dir, 'weights.safetensors'));
      if (ckpt.optimizer && ckpt.state.optimizerStep != null) {
        const moments = entriesToTensors(ckpt.optimizer);
        optimizer.setState({ step: ckpt.state.optimizerStep, moments });
        tf.dispose(moments);
      }
      progress = ckpt.state.progress;
    }
    // every check passed: only now may the folder change
    plan.apply();
    options.onStart?.();
    if (ckpt) options.onResume?.(progress);
    const callStarted = performance.now();
    const secondsBefore = progress.elapsedSeconds;
    const elapsed = (): number => secondsBefore + (performance.now() - callStarted) / 1000;
    const saveLast = (at: TrainingProgress): void => {
      const weights = model.getWeights();
      const state = optimizer.getState();
      try {
        saveCheckpoint(lastDir, { kind: 'last', weights, optimizer: state, progress: { ...at, elapsedSeconds: elapsed() }, config: storedConfig, log: digestOf(logPath) ?? { bytes: 0, sha256: EMPTY_SHA256 } });
      } finally {
        tf.dispose(weights);
        tf.dispose(state.moments);
      }
    };

    const history: EpochRecord[] = [...plan.history];
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
          if (options.signal) {
            // a step boundary: let a signal handler run, and stop here if asked to
            await new Promise((resolve) => setImmediate(resolve));
            if (options.signal.aborted) {
              board?.flush();
              saveLast({ ...progress, rng: epochStartRng });
              const reason = stopReason(options.signal.reason);
              throw new TrainingStoppedError({ reason, exitCode: signalExitCode(reason), checkpoint: lastDir, where: `after global step ${progress.globalStep} (epoch ${epoch + 1}, step ${s} of ${batches.length})` });
            }
          }
          const lr = learningRate(schedule, epoch, s);
          const idx = batches[s];
          const batch = collate(idx.map((i) => trainSamples[i]), idx, labels);
          let lossValue: number;
          let gradNorm: number | undefined;
          let lossTerms: Record<string, number> | undefined;
          let capture: CaptureStatus | undefined;
          try {
            // dropout masks from (run seed, global step) alone: a resumed run draws the same ones
            const seed = mixSeed(config.seed, progress.globalStep);
            let value: tf.Scalar;
            let grads: tf.NamedTensorMap;
            if (capturedStep) {
              const out = capturedStep.run(batch, seed);
              ({ value, grads, capture } = out);
              if (board) lossTerms = readScalars(out.terms);
              tf.dispose(Object.values(out.terms));
            } else {
              ({ value, grads } = tf.variableGrads(() => {
                const outputs = model.forward(batch, { training: true, seed });
                const loss = model.loss(outputs, batch);
                if (board && model.lossTerms) lossTerms = readScalars(model.lossTerms(outputs, batch));
                return loss;
              }, varList));
            }
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
            ...(capture ? { capture } : {}),
          };
          board?.step(stepEvent, lossTerms);
          options.onStep?.(stepEvent);
          if (config.checkpointEverySteps > 0 && progress.globalStep % config.checkpointEverySteps === 0 && s + 1 < batches.length) {
            board?.flush();
            saveLast({ ...progress, rng: epochStartRng });
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
            saveCheckpoint(bestDir, { kind: 'best', weights, progress: { ...progress, elapsedSeconds: elapsed() }, config: storedConfig, metrics: { meanMoc: report!.meanMoc, epoch: epoch + 1 }, log: digestOf(logPath)! });
          } finally {
            tf.dispose(weights);
          }
        }
        saveLast(progress);
        history.push(record);
        options.onEpoch?.(record);
      }
    } finally {
      board?.close();
    }
    return { outDir, history, seconds: elapsed(), best: progress.best, globalStep: progress.globalStep };
  } finally {
    optimizer.dispose();
    lock.release();
  }
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function stopReason(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  return reason instanceof Error && reason.message ? reason.message : 'an abort request';
}

// one read for all terms; inside the gradient tape, so the caller's tidy frees the tensors
/**
 * The training step of a `CapturableStep` through `captureStep`: the batch's tensors, the model's
 * prepared ones and the seed go in as inputs; the loss, the gradients (by variable name) and the
 * loss terms come out. One captured step per set of modalities (their order is fixed per set).
 */
function capturedGradients(capturable: CapturableStep, varList: tf.Variable[]) {
  const steps = new Map<string, { step: CapturedStep; terms: string[] }>();
  return {
    run(batch: AnticipationBatch, seed: number): { value: tf.Scalar; grads: tf.NamedTensorMap; terms: Record<string, tf.Scalar>; capture: CaptureStatus } {
      const names = Object.keys(batch.modalities).sort();
      const key = names.join('\u0000');
      let entry = steps.get(key);
      if (!entry) {
        const created: { step: CapturedStep; terms: string[] } = {
          terms: [],
          step: captureStep(([seedTensor, mask, ...rest]) => {
            const modalities = Object.fromEntries(names.map((n, i) => [n, rest[i]!]));
            let terms: tf.Scalar[] = [];
            const { value, grads } = tf.variableGrads(() => {
              const loss = capturable.loss({ modalities, mask: mask as tf.Tensor2D, prepared: rest.slice(names.length), seed: seedTensor as tf.Scalar });
              created.terms = Object.keys(loss.terms).sort();
              terms = created.terms.map((n) => tf.keep(loss.terms[n]!));
              return loss.total;
            }, varList);
            return [value, ...varList.map((v) => grads[v.name]!), ...terms];
          }),
        };
        entry = created;
        steps.set(key, entry);
      }
      const prepared = capturable.prepare(batch);
      const seedTensor = tf.scalar(seed | 0, 'int32');
      try {
        const [value, ...rest] = entry.step.run([seedTensor, batch.mask, ...names.map((n) => batch.modalities[n]!), ...prepared]);
        const grads = Object.fromEntries(varList.map((v, i) => [v.name, rest[i]!]));
        const terms = Object.fromEntries(entry.terms.map((n, i) => [n, rest[varList.length + i]! as tf.Scalar]));
        return { value: value as tf.Scalar, grads, terms, capture: entry.step.status };
      } finally {
        tf.dispose([seedTensor, ...prepared]);
      }
    },
  };
}

function readScalars(terms: Record<string, tf.Scalar>): Record<string, number> {
  const names = Object.keys(terms);
  if (names.length === 0) return {};
  const stacked = tf.stack(names.map((n) => terms[n]!));
  const values = stacked.dataSync();
  stacked.dispose();
  return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
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
