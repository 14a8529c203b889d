import type { AnticipationSample } from '@r3d-ts/datasets';
import type { AnticipationProtocol } from '@r3d-ts/r3d-model';
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, collate, disposeBatch } from './batching.js';
import type { LabelSpace, TrainableModel } from './model.js';
import { decodeFuture, MocAccumulator, scoredFutureFrames, segmentationAccuracy } from './moc.js';

export interface EvaluateOptions {
  labels: LabelSpace;
  /** Observation ratios to score (default {0.2, 0.3}); samples of other ratios are skipped. */
  observationRatios?: number[];
  /** Prediction ratios (default {0.1, 0.2, 0.3, 0.5}). */
  predictionRatios?: number[];
  /** The future window the model's durations are relative to, as a share of L (default 0.5). */
  anticipationRatio?: number;
  batchSize?: number;
  /**
   * `'released'` (default): MoC exactly as the released `predict` + `utils.eval_file` compute it.
   * `'corrected'`: rounding leftovers keep the last action before NONE, an empty transcript
   * predicts NONE, and the label space's `ignore` labels (UNDEFINED) are not scored. See the README.
   */
  protocol?: AnticipationProtocol;
}

/** One cell of the MoC table. */
export interface MocCell {
  observationRatio: number;
  predictionRatio: number;
  moc: number;
  /** Classes scored (present in the ground truth). */
  classes: number;
  frames: number;
}

export interface EvaluationReport {
  /** The protocol the MoC cells were computed with. */
  protocol: AnticipationProtocol;
  cells: MocCell[];
  /** Mean of the MoC cells (the number "best by validation" compares). */
  meanMoc: number;
  /** Observed-frame segmentation accuracy per observation ratio (NaN when the model has no segmentation head). */
  segmentation: Array<{ observationRatio: number; accuracy: number; frames: number }>;
  samples: number;
}

const sameRatio = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

/**
 * Scores a model on evaluation samples as the released evaluation does (`protocol: 'released'`,
 * default): each sample's queries are decoded over int(anticipationRatio * L) frames
 * (`decodeFuture`), the prediction is the observed ground truth followed by them, and for each
 * prediction ratio the frames int(obs L) to min(int((obs + pred) L), len(prediction), L) are
 * scored (`scoredFutureFrames`); per class, correct and total frames are summed over all videos,
 * then MoC averages correct/total over the classes with frames. Every ground-truth label but the
 * pad is a class (UNDEFINED too, as in the released mapping). `protocol: 'corrected'` is described
 * in the README. Also reports frame accuracy of the observed-frame segmentation. Every sample needs
 * `futureLabels` (frames from int(obs L) on) and `videoLength`. Runs in inference mode, no tensors kept.
 *
 * @example
 * const report = evaluateAnticipation(model, testSamples, { labels });
 * report.cells.find((c) => c.observationRatio === 0.2 && c.predictionRatio === 0.5)?.moc;
 */
export function evaluateAnticipation(model: TrainableModel, samples: readonly AnticipationSample[], options: EvaluateOptions): EvaluationReport {
  const obsRatios = options.observationRatios ?? [0.2, 0.3];
  const predRatios = options.predictionRatios ?? [0.1, 0.2, 0.3, 0.5];
  const anticipation = options.anticipationRatio ?? 0.5;
  const { labels } = options;
  const protocol = options.protocol ?? 'released';
  if (protocol !== 'released' && protocol !== 'corrected') throw new Error(`evaluateAnticipation: protocol must be 'released' or 'corrected', got ${String(protocol)}`);
  const ignore = [labels.pad, ...(labels.ignore ?? [])];
  // released: eval_file scores every ground-truth class of the mapping, UNDEFINED included
  const unscored = protocol === 'released' ? [labels.pad] : ignore;
  const batchSize = options.batchSize ?? 8;
  const cells: MocCell[] = [];
  const segmentation: EvaluationReport['segmentation'] = [];
  let scored = 0;
  for (const obs of obsRatios) {
    const picked = samples.map((s, i) => ({ s, i })).filter(({ s }) => sameRatio(s.observationRatio, obs));
    const accs = predRatios.map(() => new MocAccumulator(unscored));
    let segCorrect = 0;
    let segTotal = 0;
    let hasSeg = false;
    for (const idx of batchIndices(picked.map((_, k) => k), batchSize)) {
      const items = idx.map((k) => picked[k].s);
      const batch = collate(items, idx.map((k) => picked[k].i), labels);
      let logits: Float32Array;
      let durs: Float32Array;
      let seg: Float32Array | undefined;
      let q: number;
      let n: number;
      let tMax: number;
      try {
        const read = tf.tidy(() => {
          const out = model.forward(batch, { training: false });
          return [out.actionLogits, out.durations, ...(out.segLogits ? [out.segLogits] : [])];
        });
        [q, n] = [read[0].shape[1] as number, read[0].shape[2] as number];
        tMax = batch.observedLabels.shape[1];
        logits = read[0].dataSync() as Float32Array;
        durs = read[1].dataSync() as Float32Array;
        seg = read[2]?.dataSync() as Float32Array | undefined;
        read.forEach((t) => t.dispose());
      } finally {
        disposeBatch(batch);
      }
      items.forEach((s, b) => {
        if (!s.futureLabels || !s.videoLength) throw new Error(`evaluateAnticipation: sample ${s.id} has no futureLabels/videoLength`);
        const L = s.videoLength;
        const start = Math.trunc(obs * L);
        if (s.futureLabels.length !== L - start) throw new Error(`evaluateAnticipation: sample ${s.id} has ${s.futureLabels.length} future labels, expected L - int(obs L) = ${L - start}`);
        const window = Math.trunc(anticipation * L);
        const decoded = decodeFuture(logits.subarray(b * q * n, (b + 1) * q * n), durs.subarray(b * q, (b + 1) * q), n, labels.none, window, labels.none, { protocol });
        predRatios.forEach((pred, k) => {
          const { count } = scoredFutureFrames(obs, pred, L, anticipation);
          accs[k].add(s.futureLabels!.subarray(0, count), decoded.subarray(0, count));
        });
        if (seg) {
          hasSeg = true;
          const T = s.observedLabels.length;
          const argmax = new Int32Array(T);
          for (let t = 0; t < T; t++) {
            const base = (b * tMax + t) * n;
            let best = 0;
            for (let c = 1; c < n; c++) if (seg[base + c] > seg[base + best]) best = c;
            argmax[t] = best;
          }
          const r = segmentationAccuracy(s.observedLabels, argmax, ignore);
          segCorrect += r.correct;
          segTotal += r.total;
        }
      });
      scored += items.length;
    }
    predRatios.forEach((pred, k) => {
      const r = accs[k].result();
      cells.push({ observationRatio: obs, predictionRatio: pred, moc: r.moc, classes: r.perClass.size, frames: r.frames });
    });
    segmentation.push({ observationRatio: obs, accuracy: hasSeg && segTotal > 0 ? segCorrect / segTotal : Number.NaN, frames: segTotal });
  }
  const finite = cells.filter((c) => Number.isFinite(c.moc));
  const meanMoc = finite.length > 0 ? finite.reduce((a, c) => a + c.moc, 0) / finite.length : Number.NaN;
  return { protocol, cells, meanMoc, segmentation, samples: scored };
}

/** The MoC table as aligned text: one row per observation ratio, one column per prediction ratio. */
export function formatMocTable(report: EvaluationReport): string {
  const preds = [...new Set(report.cells.map((c) => c.predictionRatio))];
  const obs = [...new Set(report.cells.map((c) => c.observationRatio))];
  const head = ['obs \\ pred', ...preds.map((p) => p.toFixed(2))].map((s) => s.padStart(10)).join(' ');
  const rows = obs.map((o) => [o.toFixed(2), ...preds.map((p) => {
    const c = report.cells.find((x) => x.observationRatio === o && x.predictionRatio === p);
    return c && Number.isFinite(c.moc) ? (100 * c.moc).toFixed(2) : '-';
  })].map((s) => s.padStart(10)).join(' '));
  return [head, ...rows].join('\n');
}
