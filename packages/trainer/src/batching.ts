import type { AnticipationSample, FrameModality } from '@r3d-ts/datasets';
import * as tf from '@tensorflow/tfjs-core';
import type { AnticipationBatch, LabelSpace } from './model.js';

/**
 * The last batch array of each modality, with the tensor made from it: on backends that keep the
 * array itself as the tensor's data (cpu, native-blas), writing a fresh 61 MB depth batch costs
 * ~200 ms of page faults on a VM, refilling a kept one ~3 ms. An array is reused only once its
 * tensor is disposed and its backend holds no other reference to the data (a reshape shares it).
 */
const kept = new Map<string, { data: Float32Array; tensor: tf.Tensor; backend: tf.KernelBackend }>();

function batchArray(modality: string, length: number): { data: Float32Array; fresh: boolean } {
  const k = kept.get(modality);
  if (k && k.data.buffer.byteLength >= length * 4 && k.tensor.isDisposed && k.backend.refCount(k.tensor.dataId) === 0) {
    return { data: new Float32Array(k.data.buffer, 0, length), fresh: false };
  }
  return { data: new Float32Array(length), fresh: true };
}

/**
 * Stacks samples of different lengths into one padded batch: every modality is zero-padded to the
 * longest item's T (per frame `shape`, else `dim` values), observed labels are padded with
 * `labels.pad`, and `mask` is 1 exactly on the real frames. Duration targets carry `labels.pad`
 * where the sample's `durationMask` is 0 (the NONE slot and after), the released convention the
 * loss masks by. Targets must have the same number of queries in every sample.
 *
 * The arrays behind a batch's modality tensors are refilled by the next batch once the tensors
 * are disposed (see `kept`): copy any data read back from them that must outlive the batch.
 *
 * @example
 * const batch = collate([s0, s1], [0, 1], { numClasses: 5, none: 4, pad: -100 });
 * // batch.mask: [[1,1,1],[1,1,0]] for lengths 3 and 2; disposeBatch(batch) when done
 */
export function collate(samples: readonly AnticipationSample[], indices: readonly number[], labels: LabelSpace): AnticipationBatch {
  if (samples.length === 0) throw new Error('collate: empty batch');
  const b = samples.length;
  const lengths = samples.map((s) => s.observedLabels.length);
  const tMax = Math.max(...lengths);
  const q = samples[0].actions.length;
  const names = Object.keys(samples[0].modalities).sort();
  const frameShape = (m: FrameModality): number[] => m.shape ?? [m.dim];
  for (const [i, s] of samples.entries()) {
    if (s.actions.length !== q || s.durations.length !== q || s.durationMask.length !== q) {
      throw new Error(`collate: sample ${s.id} has ${s.actions.length} target actions / ${s.durations.length} durations, expected ${q} like ${samples[0].id}`);
    }
    const theirs = Object.keys(s.modalities).sort();
    if (theirs.join() !== names.join()) throw new Error(`collate: sample ${s.id} has modalities [${theirs}], expected [${names}]`);
    for (const n of names) {
      const m = s.modalities[n];
      if (m.data.length !== lengths[i] * m.dim) throw new Error(`collate: sample ${s.id} modality ${n} has ${m.data.length / m.dim} frames, labels have ${lengths[i]}`);
    }
  }
  const modalities: Record<string, tf.Tensor> = {};
  for (const n of names) {
    const frame = frameShape(samples[0].modalities[n]);
    const per = samples[0].modalities[n].dim;
    const { data, fresh } = batchArray(n, b * tMax * per);
    samples.forEach((s, i) => {
      const m = s.modalities[n];
      if (frameShape(m).join() !== frame.join()) throw new Error(`collate: sample ${s.id} modality ${n} frame shape [${frameShape(m)}], expected [${frame}]`);
      data.set(m.data.subarray(0, lengths[i] * per), i * tMax * per);
      if (!fresh) data.fill(0, (i * tMax + lengths[i]) * per, (i + 1) * tMax * per); // padding
    });
    modalities[n] = tf.tensor(data, [b, tMax, ...frame], 'float32');
    kept.set(n, { data, tensor: modalities[n], backend: tf.backend() });
  }
  const obs = new Int32Array(b * tMax).fill(labels.pad);
  const mask = new Float32Array(b * tMax);
  const acts = new Int32Array(b * q);
  const durs = new Float32Array(b * q);
  samples.forEach((s, i) => {
    obs.set(s.observedLabels, i * tMax);
    mask.fill(1, i * tMax, i * tMax + lengths[i]);
    acts.set(s.actions, i * q);
    for (let k = 0; k < q; k++) durs[i * q + k] = s.durationMask[k] ? s.durations[k] : labels.pad;
  });
  return {
    modalities,
    observedLabels: tf.tensor2d(obs, [b, tMax], 'int32'),
    mask: tf.tensor2d(mask, [b, tMax], 'float32'),
    targetActions: tf.tensor2d(acts, [b, q], 'int32'),
    targetDurations: tf.tensor2d(durs, [b, q], 'float32'),
    lengths,
    indices: [...indices],
  };
}

/** Disposes every tensor of a batch. */
export function disposeBatch(batch: AnticipationBatch): void {
  for (const t of Object.values(batch.modalities)) t.dispose();
  batch.observedLabels.dispose();
  batch.mask.dispose();
  batch.targetActions.dispose();
  batch.targetDurations.dispose();
}

/** Splits an ordering of sample indices into consecutive batches (the last one may be short). */
export function batchIndices(order: readonly number[], batchSize: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < order.length; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}
