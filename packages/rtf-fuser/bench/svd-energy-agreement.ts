// How often svd-energy's tensor-op scores (`scoreChannels`, subspace iteration in float32) choose
// the same k = floor(0.3 C) channels as the exact Float64 SVD (`sampleChannelScores`), over every
// DARai demo token matrix (9 observation ratios x 34 sequences x RGB and depth = 612), with the
// largest score errors and the smallest boundary gaps (k+1-th minus k-th exact score, of the max).
//   node --import tsx bench/svd-energy-agreement.ts            (R3D_BENCH_BACKENDS=cpu,wasm,native-blas)
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@r3d-ts/backend';
import { sharedFixture } from '@r3d-ts/tooling/vitest/fixtures';
import { frameValidity, lowestChannelIndices, sampleChannelScores, scoreChannels } from '../src/selection.js';
import { daraiSequences, padSequences, readRows } from '../src/test-helpers.js';

const dir = sharedFixture('darai-demo');
if (!dir) throw new Error('the darai-demo fixture (../shared/fixtures/darai-demo) is missing');
const C = 128;
const k = Math.floor(0.3 * C);
const topQ = 8;
const RATIOS = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9'];

for (const backend of (process.env.R3D_BENCH_BACKENDS ?? 'cpu,wasm,native-blas').split(',')) {
  await selectBackend({ backend: backend as 'cpu' });
  let total = 0;
  let same = 0;
  const misses: string[] = [];
  const gaps: number[] = [];
  const errors: number[] = [];
  for (const ratio of RATIOS) {
    const seqs = daraiSequences(dir, ratio);
    for (const modality of ['rgb', 'depth']) {
      const p = padSequences(readRows(dir, `${modality}_raw_obs${ratio}.npy`).data, C, seqs);
      const B = seqs.length;
      const x = tf.tensor3d(p.batch, [B, p.tMax, C]);
      const scores = scoreChannels(x, { selection: 'svd-energy', lengths: p.lengths, topQ });
      const chosen = tf.tidy(() => lowestChannelIndices(scores, k).arraySync());
      const got = scores.arraySync();
      tf.dispose([x, scores]);
      const exact = sampleChannelScores(p.batch, [B, p.tMax, C], 'svd-energy', frameValidity(B, p.tMax, { lengths: p.lengths }), topQ);
      for (let b = 0; b < B; b++) {
        total++;
        const ex = exact[b]!;
        const order = [...ex.keys()].sort((i, j) => ex[i]! - ex[j]! || i - j);
        const want = new Set(order.slice(0, k));
        const max = Math.max(...ex);
        const gap = (ex[order[k]!]! - ex[order[k - 1]!]!) / max;
        gaps.push(gap);
        errors.push(Math.max(...got[b]!.map((v, c) => Math.abs(v - ex[c]!))) / max);
        if (chosen[b]!.every((c) => want.has(c))) same++;
        else misses.push(`obs ${ratio} ${modality} sequence ${seqs[b]!.sequence} (T = ${p.lengths[b]}): boundary gap ${gap.toExponential(2)} of the largest score`);
      }
    }
  }
  gaps.sort((a, b) => a - b);
  errors.sort((a, b) => b - a);
  console.log(`${backend}: the exact SVD's channels in ${same} of ${total} matrices; score error (of the largest score) median ${errors[errors.length >> 1]!.toExponential(2)}, largest ${errors.slice(0, 3).map((e) => e.toExponential(2)).join(', ')}; smallest boundary gaps ${gaps.slice(0, 3).map((g) => g.toExponential(2)).join(', ')}`);
  for (const m of misses) console.log(`  differs: ${m}`);
}
