import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { collate, disposeBatch } from './batching.js';
import type { AnticipationSample } from './model.js';

const labels = { numClasses: 5, none: 4, pad: -100 };

function sample(video: string, frames: number, value: number): AnticipationSample {
  return {
    video,
    observationRatio: 0.3,
    modalities: { depth: { data: new Float32Array(frames * 6).fill(value), shape: [frames, 2, 3] } },
    observedLabels: new Int32Array(frames).fill(1),
    targetActions: Int32Array.from([2, 4]),
    targetDurations: Float32Array.from([1, -100]),
  };
}

describe.each(testBackends())('collate on %s', (backend) => {
  it('pads with zeros and masks, also when it refills the previous batch array', async () => {
    await selectBackend({ backend });
    // 4 + 2 frames, then 3 + 1 in a smaller batch that reuses the first array
    const first = collate([sample('a', 4, 7), sample('b', 2, 8)], [0, 1], labels);
    expect(Array.from(first.modalities.depth!.dataSync())).toEqual([...new Array(24).fill(7), ...new Array(12).fill(8), ...new Array(12).fill(0)]);
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
