import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { breathe, type Progress } from './analysis.js';
import type { TokenMatrix } from './tensor-files.js';
import type { PairGroup, PairSample, PairSet } from './workspace.js';

/** Shape of the built-in example: sequences of the synthetic world, tokens of this width. */
export const EXAMPLE = { sequences: 12, channels: 64, seed: 1, ratios: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] } as const;

/** A small seeded generator (mulberry32) for the fixed projections; the world has its own. */
function gaussians(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform()));
    const th = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(th);
    if (i + 1 < n) out[i + 1] = r * Math.sin(th);
  }
  return out;
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
    wRgb ??= gaussians(seed * 7919 + 1, rgb.dim * channels);
    wDepth ??= gaussians(seed * 7919 + 2, depth.dim * channels);
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
