import { mixSeed, Rng } from '@r3d-ts/datasets';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { breathe, type Progress } from './analysis.js';
import type { TokenMatrix } from './tensor-files.js';
import type { PairGroup, PairSample, PairSet } from './workspace.js';

/** Shape of the built-in example: sequences of the synthetic world, tokens of this width. */
export const EXAMPLE = { sequences: 12, channels: 64, seed: 1, ratios: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] } as const;

/** n standard normal draws from the repository's one seeded PRNG. */
function gaussians(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/**
 * Projects (T, D) frame features to (T, C) tokens with a fixed Gaussian matrix, then normalises
 * each token over its channels (zero mean, unit variance): a stand-in for a model's per-modality
 * projection and LayerNorm, so both modalities meet at one width like the authors' `*_raw` tokens.
 */
function project(data: Float32Array, frames: number, dim: number, weights: Float32Array, channels: number): TokenMatrix {
  const out = new Float32Array(frames * channels);
  const scale = 1 / Math.sqrt(dim);
  for (let t = 0; t < frames; t++) {
    const row = out.subarray(t * channels, (t + 1) * channels);
    for (let d = 0; d < dim; d++) {
      const v = data[t * dim + d]!;
      if (v === 0) continue;
      const w = weights.subarray(d * channels, (d + 1) * channels);
      for (let c = 0; c < channels; c++) row[c] = row[c]! + v * w[c]! * scale;
    }
    let mean = 0;
    for (let c = 0; c < channels; c++) mean += row[c]!;
    mean /= channels;
    let v2 = 0;
    for (let c = 0; c < channels; c++) v2 += (row[c]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v2 / channels + 1e-5);
    for (let c = 0; c < channels; c++) row[c] = (row[c]! - mean) * inv;
  }
  return { data: out, rows: frames, cols: channels };
}

function firstRows(m: TokenMatrix, rows: number): TokenMatrix {
  return { data: m.data.subarray(0, rows * m.cols), rows, cols: m.cols };
}

/**
 * The built-in example, generated in the page: sequences of the project's synthetic world
 * (`@r3d-ts/datasets/synthetic`: an arm handling objects before a camera), their RGB features and
 * depth frames projected to tokens of one width, each cut at 9 observation ratios like the
 * authors' demo. It has no exchanged tokens: the RTF panel makes them.
 *
 * @example
 * const set = await exampleSet(); // 9 groups of 12 (T, 64) RGB + depth pairs
 */
export async function exampleSet(onProgress?: Progress, isCurrent?: () => boolean): Promise<PairSet> {
  const { sequences, channels, seed, ratios } = EXAMPLE;
  const world = new SyntheticDataset({ seed, count: sequences });
  const groups: PairGroup[] = ratios.map((ratio) => ({ ratio, samples: [] as PairSample[] }));
  let wRgb: Float32Array | undefined;
  let wDepth: Float32Array | undefined;
  for (let i = 0; i < sequences; i++) {
    onProgress?.(i, sequences, 'generating the synthetic world');
    await breathe(isCurrent);
    const seq = world.generate(i);
    const rgb = seq.modalities.rgb!;
    const depth = seq.modalities.depth!;
    wRgb ??= gaussians(mixSeed(seed, 1), rgb.dim * channels);
    wDepth ??= gaussians(mixSeed(seed, 2), depth.dim * channels);
    const a = project(rgb.data, seq.frames, rgb.dim, wRgb, channels);
    const b = project(depth.data, seq.frames, depth.dim, wDepth, channels);
    for (const g of groups) {
      const rows = Math.max(2, Math.floor(g.ratio! * seq.frames));
      g.samples.push({ seq: i, a: firstRows(a, rows), b: firstRows(b, rows) });
    }
  }
  onProgress?.(sequences, sequences, 'generating the synthetic world');
  return { name: `built-in example: ${sequences} sequences of the synthetic world`, labels: ['rgb', 'depth'], groups, hasAfter: false, demo: false };
}
