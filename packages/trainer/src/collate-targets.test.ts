import { selectBackend } from '@r3d-ts/backend';
import { makeAnticipationSample, samplesFromSequences, type Sequence } from '@r3d-ts/datasets';
import { r3dLoss } from '@r3d-ts/r3d-model';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { collate, disposeBatch } from './batching.js';
import type { LabelSpace } from './model.js';

// The targets the loss reads are the released loader's (golden-tested in @r3d-ts/datasets'
// released-targets.test.ts): here, that the trainer hands them on unchanged — the pad value on the
// NONE slot and after (written by `collate` from `durationMask`), and the transition weight the loss
// derives from the padded batch.
const labels: LabelSpace = { numClasses: 11, none: 10, pad: 12, ignore: [-1] };

function randomSequence(seed: number): Sequence {
  let a = seed >>> 0;
  const next = () => {
    a = (Math.imul(a ^ (a >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return a / 4294967296;
  };
  const L = 40 + Math.floor(next() * 400);
  const labelsOf: number[] = [];
  while (labelsOf.length < L) {
    const len = 1 + Math.floor(next() * (next() < 0.3 ? 20 : 90));
    const label = next() < 0.1 ? -1 : Math.floor(next() * 10);
    for (let i = 0; i < len && labelsOf.length < L; i++) labelsOf.push(label);
  }
  return { id: `s${seed}`, frames: L, labels: Int32Array.from(labelsOf), modalities: { rgb: { dim: 1, data: new Float32Array(L) } } };
}

describe('samplesFromSequences + collate hand the released targets to the loss', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'cpu' });
  });

  it.each([1, 15])('sample rate %i: durations padded with the pad index, transition weights as the samples say', (sampleRate) => {
    const seqs = Array.from({ length: 64 }, (_, i) => randomSequence(i + 7 * sampleRate));
    const samples = samplesFromSequences(seqs, { observationRatios: [0.2, 0.3, 0.5], labels, sampleRate });
    const reference = seqs.flatMap((seq) => [0.2, 0.3, 0.5].map((obs) => makeAnticipationSample(seq, { observationRatio: obs, sampleRate, noneClass: labels.none, padClass: labels.pad })));
    expect(samples).toHaveLength(reference.length);
    samples.forEach((s, i) => {
      const r = reference[i]!;
      expect([...s.actions]).toEqual([...r.actions]);
      expect([...s.durations]).toEqual([...r.durations]);
      expect([...s.observedLabels]).toEqual([...r.observedLabels]);
    });
    for (let start = 0; start < samples.length; start += 8) {
      const items = samples.slice(start, start + 8);
      const batch = collate(items, items.map((_, k) => start + k), labels);
      const [b, t] = batch.observedLabels.shape;
      const padded = reference.slice(start, start + 8).flatMap((r) => Array.from(r.durations, (d, q) => (r.durationMask[q] ? d : labels.pad)));
      expect([...batch.targetDurations.dataSync()]).toEqual(padded.map((d) => Math.fround(d)));
      const outputs = { action: tf.zeros([b, 8, labels.numClasses]) as tf.Tensor3D, duration: tf.zeros([b, 8]) as tf.Tensor2D, segmentation: tf.zeros([b, t, labels.numClasses]) as tf.Tensor3D };
      const loss = r3dLoss(outputs, { labels: batch.observedLabels, action: batch.targetActions, duration: batch.targetDurations }, { padIndex: labels.pad, ignoreIndices: [-1] });
      expect(loss.itemWeights).toEqual(reference.slice(start, start + 8).map((r) => r.weight));
      tf.dispose([outputs.action, outputs.duration, outputs.segmentation, loss.segmentation, loss.action, loss.duration, loss.total]);
      disposeBatch(batch);
    }
  });
});
