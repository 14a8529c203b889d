import type { AnticipationSample } from '@r3d-ts/datasets';
import { type AfterTokens, type FuserTokens, tokenRanks } from '@r3d-ts/rtf-fuser';
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices, collate, disposeBatch } from './batching.js';
import type { LabelSpace, TrainableModel } from './model.js';

/** What `monitorEffectiveRank` measured. */
export interface EffectiveRankReport {
  /** Mean effective rank over the samples by key: `before.<modality>`, `after.<modality>`, `fused`; empty when the model returns no tokens. */
  ranks: Record<string, number>;
  /** Which tokens the `after.*` keys measured (see `tokenRanks`); absent when the model returns no tokens. */
  after?: AfterTokens;
  /** Samples measured. */
  samples: number;
}

/**
 * Mean effective rank (the authors' variant, METHOD.md section 1) of the tokens around the fuser
 * over a set of samples, each sample's padded frames excluded: each modality before and after
 * fusion and the fused tokens, from the model's own forward pass (`returnTokens`) through
 * `tokenRanks` of `@r3d-ts/rtf-fuser`. Watching these per epoch shows feature collapse (a falling
 * rank) and modality collapse (one modality's rank gain vanishing) as they happen; the ablation
 * measures its rank gains with it too.
 *
 * @example
 * monitorEffectiveRank(model, validation.slice(0, 8), labels).ranks;
 * // { 'after.depth': 17.0, 'after.rgb': 23.9, 'before.depth': 12.1, 'before.rgb': 21.4, fused: 22.5 }
 */
export function monitorEffectiveRank(
  model: TrainableModel,
  samples: readonly AnticipationSample[],
  labels: LabelSpace,
  options: { batchSize?: number } = {},
): EffectiveRankReport {
  const sums: Record<string, number> = {};
  let after: AfterTokens | undefined;
  let measured = 0;
  for (const idx of batchIndices(samples.map((_, i) => i), options.batchSize ?? 8)) {
    const batch = collate(idx.map((i) => samples[i]), idx, labels);
    try {
      let names: readonly [string, string] | undefined;
      const tokens = tf.tidy(() => {
        // the pass up to the fuser where the model offers it: the decoder's work would be thrown away
        const fusion = model.fuserTokens ? model.fuserTokens(batch) : model.forward(batch, { training: false, returnTokens: true }).fusion;
        names = fusion?.modalities;
        return fusion?.tokens;
      }) as FuserTokens | undefined;
      if (!tokens || !names) continue;
      try {
        const r = tokenRanks(tokens, { lengths: batch.lengths });
        const [x, y] = names;
        const add = (key: string, values: Float64Array): void => {
          for (const v of values) sums[key] = (sums[key] ?? 0) + v;
        };
        add(`before.${x}`, r.xBefore);
        add(`after.${x}`, r.xAfter);
        add(`before.${y}`, r.yBefore);
        add(`after.${y}`, r.yAfter);
        add('fused', r.fused);
        after = r.after;
        measured += idx.length;
      } finally {
        tf.dispose(tokens);
      }
    } finally {
      disposeBatch(batch);
    }
  }
  const ranks: Record<string, number> = {};
  for (const key of Object.keys(sums).sort()) ranks[key] = sums[key] / measured;
  return { ranks, ...(after ? { after } : {}), samples: measured };
}
