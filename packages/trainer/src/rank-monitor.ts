import type { AnticipationSample } from '@r3d-ts/datasets';
import { batchEffectiveRank } from '@r3d-ts/rank-metrics';
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, collate, disposeBatch } from './batching.js';
import type { LabelSpace, TrainableModel } from './model.js';

/**
 * Mean effective rank (the authors' variant, METHOD.md section 1) of each modality's tokens
 * before and after the exchange and of the fused tokens, over a fixed set of samples, each
 * sample's padded frames excluded. Keys are `before.<modality>`, `after.<modality>`, `fused`;
 * empty when the model returns no tokens. Watching these per epoch shows feature collapse (a
 * falling rank) and modality collapse (one modality's rank gain vanishing) as they happen.
 *
 * @example
 * monitorEffectiveRank(model, validation.slice(0, 8), labels);
 * // { 'before.rgb': 21.4, 'after.rgb': 23.9, 'before.depth': 12.1, 'after.depth': 17.0, fused: 22.5 }
 */
export function monitorEffectiveRank(
  model: TrainableModel,
  samples: readonly AnticipationSample[],
  labels: LabelSpace,
  options: { batchSize?: number } = {},
): Record<string, number> {
  const sums: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const idx of batchIndices(samples.map((_, i) => i), options.batchSize ?? 8)) {
    const batch = collate(idx.map((i) => samples[i]), idx, labels);
    try {
      const named = tf.tidy(() => {
        const out = model.forward(batch, { training: false, returnTokens: true });
        const tokens: Record<string, tf.Tensor> = {};
        for (const [m, t] of Object.entries(out.tokens?.before ?? {})) tokens[`before.${m}`] = t;
        for (const [m, t] of Object.entries(out.tokens?.after ?? {})) tokens[`after.${m}`] = t;
        if (out.tokens?.fused) tokens.fused = out.tokens.fused;
        return tokens;
      });
      try {
        for (const [key, t] of Object.entries(named)) {
          const ranks = batchEffectiveRank({ data: t.dataSync(), shape: t.shape }, { variant: 'authors', lengths: batch.lengths });
          sums[key] = (sums[key] ?? 0) + ranks.reduce((a, b) => a + b, 0);
          counts[key] = (counts[key] ?? 0) + ranks.length;
        }
      } finally {
        for (const t of Object.values(named)) t.dispose();
      }
    } finally {
      disposeBatch(batch);
    }
  }
  const out: Record<string, number> = {};
  for (const key of Object.keys(sums).sort()) out[key] = sums[key] / counts[key];
  return out;
}
