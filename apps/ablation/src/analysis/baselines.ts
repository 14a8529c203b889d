import { type AnticipationSample, samplesFromSequences } from '@r3d-ts/datasets';
import { evaluateAnticipation, type AnticipationBatch, type LabelSpace, type MocCell, type TrainableModel } from '@r3d-ts/trainer';
import * as tf from '@tensorflow/tfjs-core';
import type { AblationConfig } from '../config.js';
import { cellSequences, labelSpace, type AblationData } from '../data.js';

// Baselines a trained model has to beat, scored by the trainer's own `evaluateAnticipation` (the
// same decoding, scored window and MoC as every cell): each is a "model" whose queries spell a
// one-action transcript, so the released decoding fills the whole future window with that action.

/** The baselines the report shows next to the cells. */
export const BASELINES = ['majority-class', 'repeat-last'] as const;
export type BaselineName = (typeof BASELINES)[number];

/** One baseline's MoC on the test samples, with the protocol it was scored under. */
export interface BaselineResult {
  name: BaselineName;
  /** What it predicts, in words (for the report). */
  description: string;
  meanMoc: number;
  moc: MocCell[];
  protocol: string;
}

/**
 * A `TrainableModel` that predicts, for every sample of a batch, the transcript "`label(sample)`,
 * then NONE": query 0 carries the action (share 1 of the window), the others NONE. It has no
 * weights and is only ever evaluated.
 *
 * @example
 * evaluateAnticipation(constantTranscriptModel(() => 3, labels), testSamples, { labels });
 */
export function constantTranscriptModel(labelOf: (batch: AnticipationBatch, item: number) => number, labels: LabelSpace, queries = 8): TrainableModel {
  const n = labels.numClasses;
  return {
    trainableVariables: {},
    forward(batch) {
      const b = batch.lengths.length;
      const logits = new Float32Array(b * queries * n);
      for (let i = 0; i < b; i++) {
        const action = labelOf(batch, i);
        for (let q = 0; q < queries; q++) logits[(i * queries + q) * n + (q === 0 ? action : labels.none)] = 1;
      }
      // log-duration 0 for every query: after the first NONE they are masked, so query 0 gets the whole window
      return { actionLogits: tf.tensor3d(logits, [b, queries, n]), durations: tf.zeros([b, queries]) };
    },
    loss: () => tf.scalar(0),
    getWeights: () => ({}),
    setWeights: () => undefined,
  };
}

/**
 * The most frequent ground-truth class in the training samples' future windows (the
 * int(0.5 L) frames after each observation), pad and UNDEFINED (-1) left out; ties go to the
 * lower class index.
 *
 * @example
 * majorityClass(trainSamples, labels); // e.g. 1 ('reach')
 */
export function majorityClass(samples: readonly AnticipationSample[], labels: LabelSpace, anticipationRatio = 0.5): number {
  const counts = new Map<number, number>();
  for (const s of samples) {
    const window = s.futureLabels?.subarray(0, Math.trunc(anticipationRatio * (s.videoLength ?? 0))) ?? [];
    for (const l of window) if (l !== labels.pad && l >= 0) counts.set(l, (counts.get(l) ?? 0) + 1);
  }
  let best = labels.none;
  let most = -1;
  for (const [label, count] of [...counts.entries()].sort((a, b) => a[0] - b[0])) {
    if (count > most) [best, most] = [label, count];
  }
  return best;
}

/**
 * The majority-class and repeat-the-last-observed-action baselines, scored on the test samples
 * with `evaluateAnticipation` at the given ratios and protocol (the cells' MoC, to the frame):
 * `majority-class` predicts the most frequent future class of the training samples everywhere;
 * `repeat-last` predicts, for each test sample, the ground-truth label of its last observed frame
 * (skipping padding and UNDEFINED) for the whole future.
 *
 * @example
 * const [majority, last] = computeBaselines(trainSamples, testSamples, labels, { observationRatios: [0.2, 0.3], predictionRatios: [0.1, 0.5] });
 */
export function computeBaselines(
  trainSamples: readonly AnticipationSample[],
  testSamples: readonly AnticipationSample[],
  labels: LabelSpace,
  options: { observationRatios: number[]; predictionRatios: number[]; batchSize?: number },
): BaselineResult[] {
  const majority = majorityClass(trainSamples, labels);
  const lastObserved = (batch: AnticipationBatch, item: number) => {
    const row = tf.slice(batch.observedLabels, [item, 0], [1, batch.lengths[item]!]);
    const values = row.dataSync();
    row.dispose();
    for (let t = values.length - 1; t >= 0; t--) if (values[t] !== labels.pad && values[t]! >= 0) return values[t]!;
    return majority;
  };
  const score = (name: BaselineName, description: string, model: TrainableModel): BaselineResult => {
    const r = evaluateAnticipation(model, testSamples, { labels, ...options });
    return { name, description, meanMoc: r.meanMoc, moc: r.cells, protocol: r.protocol };
  };
  return [
    score('majority-class', `the most frequent future class of the training videos (class ${majority}) for every frame`, constantTranscriptModel(() => majority, labels)),
    score('repeat-last', 'the last observed frame\u2019s ground-truth action for the whole future', constantTranscriptModel(lastObserved, labels)),
  ];
}

/**
 * The baselines of a grid's data: training samples at the training observation ratios (for the
 * majority class), test samples at the evaluation ratios, scored at the evaluation x prediction
 * ratios exactly as `runCell` scores a cell.
 *
 * @example
 * const baselines = dataBaselines(config, await loadAblationData(config));
 */
export function dataBaselines(config: Pick<AblationConfig, 'trainObservationRatios' | 'evalObservationRatios' | 'predictionRatios' | 'batchSize'>, data: AblationData): BaselineResult[] {
  const labels = labelSpace(data.classNames.length);
  // the RGB-alone cell's samples: the same videos, windows and labels every cell is scored on
  const samplesAt = (videos: AblationData['train'], ratios: readonly number[]) => samplesFromSequences(cellSequences(videos, 'rgb'), { observationRatios: ratios, labels });
  const train = samplesAt(data.train, config.trainObservationRatios);
  const test = samplesAt(data.test, config.evalObservationRatios);
  return computeBaselines(train, test, labels, { observationRatios: config.evalObservationRatios, predictionRatios: config.predictionRatios, batchSize: config.batchSize });
}
