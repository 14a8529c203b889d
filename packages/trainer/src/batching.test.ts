import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { collate, disposeBatch } from './batching.js';
import { type AnticipationSample, makeAnticipationSample } from '@r3d-ts/datasets';

const labels = { numClasses: 5, none: 4, pad: -100 };

/** `frames` observed frames of label 1 (depth 2 x 3, every value `value`), then as many of label 2. */
function sample(id: string, frames: number, value: number): AnticipationSample {
  const sequence = {
    id,
    frames: 2 * frames,
    labels: Int32Array.from({ length: 2 * frames }, (_, t) => (t < frames ? 1 : 2)),
    modalities: { depth: { dim: 6, data: new Float32Array(2 * frames * 6).fill(value), shape: [2, 3] } },
  };
  return makeAnticipationSample(sequence, { observationRatio: 0.5, nQueries: 2, noneClass: labels.none, padClass: labels.pad });
}

describe.each(testBackends())('collate on %s', (backend) => {
  it('pads with zeros and masks, also when it refills the previous batch array', async () => {
    await selectBackend({ backend });
    // 4 + 2 frames, then 3 + 1 in a smaller batch that reuses the first array
    const first = collate([sample('a', 4, 7), sample('b', 2, 8)], [0, 1], labels);
    expect(Array.from(first.modalities.depth!.dataSync())).toEqual([...new Array(24).fill(7), ...new Array(12).fill(8), ...new Array(12).fill(0)]);
    expect(Array.from(first.targetActions.dataSync())).toEqual([2, 4, 2, 4]);
    expect(Array.from(first.targetDurations.dataSync())).toEqual([1, -100, 1, -100]); // pad where the sample's durationMask is 0
    disposeBatch(first);
    const second = collate([sample('c', 3, 9), sample('d', 1, 5)], [2, 3], labels);
    expect(second.modalities.depth!.shape).toEqual([2, 3, 2, 3]);
    expect(Array.from(second.modalities.depth!.dataSync())).toEqual([...new Array(18).fill(9), ...new Array(6).fill(5), ...new Array(12).fill(0)]);
    expect(Array.from(second.mask.dataSync())).toEqual([1, 1, 1, 1, 0, 0]);
    disposeBatch(second);
  });

  it('does not reuse an array whose data is still referenced (a reshape of the batch kept alive)', async () => {
    await selectBackend({ backend });
    const first = collate([sample('a', 2, 3)], [0], labels);
    const alias = tf.reshape(first.modalities.depth!, [-1]); // shares the data on cpu-like backends
    disposeBatch(first);
    const second = collate([sample('b', 2, 6)], [1], labels);
    expect(Array.from(alias.dataSync())).toEqual(new Array(12).fill(3));
    expect(Array.from(second.modalities.depth!.dataSync())).toEqual(new Array(12).fill(6));
    alias.dispose();
    disposeBatch(second);
  });
});
