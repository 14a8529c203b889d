import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '@r3d-ts/backend';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { batchEffectiveRank, channelScores, effectiveRank } from './index.js';

describe.each(testBackends())('tf.Tensor inputs on %s', (backend) => {
  beforeAll(async () => {
    await selectBackend({ backend });
  });

  it('reads 2-D and 3-D tensors without leaking and matches plain arrays', () => {
    const rows = [[1, 2, 0], [0, 1, 3], [2, 2, 2], [1, 0, 1]];
    const before = tf.memory().numTensors;
    const t2 = tf.tensor2d(rows);
    const t3 = tf.tensor3d([rows, rows.map((r) => r.map((x) => x * 2))]);
    expect(effectiveRank(t2)).toBeCloseTo(effectiveRank(rows), 6);
    expect(Array.from(channelScores(t2, { method: 'variance' }))).toEqual(Array.from(channelScores(rows, { method: 'variance' })));
    const batch = batchEffectiveRank(t3, { lengths: [4, 2] });
    expect(batch[0]).toBeCloseTo(effectiveRank(rows), 6);
    expect(batch[1]).toBeCloseTo(effectiveRank(rows.slice(0, 2)), 6); // scale does not change effective rank (to eps)
    tf.dispose([t2, t3]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
