import { mixSeed, Rng } from '../random.js';
import { SYNTHETIC_ACTIONS } from './world.js';

/**
 * Partners whose content is known by construction, the ablation's self-check: `informative`
 * carries what the hand will do next and how the scene will look a second ahead (which no camera
 * frame shows yet), `redundant` is what RGB already shows (RGB's own features again), `noise`
 * carries nothing.
 */
export const PLANTED_PARTNERS = ['informative', 'redundant', 'noise'] as const;
export type PlantedPartner = (typeof PLANTED_PARTNERS)[number];

/** Per-frame sizes of the planted partners at the default 24 x 32 frames and 256-d RGB features (informative: the intent, then a thumbnail of the scene ahead). */
export const PLANTED_DIMS: Record<PlantedPartner, number> = { informative: 3 * SYNTHETIC_ACTIONS.length + 1 + 2 * 4 + 48, redundant: 256, noise: 32 };

/** Harmonics of the current action's phase in the intent: sin and cos of k·π·phase, k = 1..4. */
export const PHASE_HARMONICS = 4;

/** Size of the intent part of the informative partner: one-hots of the next three actions and the time left. */
export const INTENT_DIM = 3 * SYNTHETIC_ACTIONS.length + 1 + 2 * PHASE_HARMONICS;


// Each planted partner draws from its own stream, so asking for one never changes another
// modality's bytes (nor the world's).
const STREAM: Record<PlantedPartner, number> = { informative: 0x1a7e57, redundant: 0x4ed0, noise: 0x0015e };

/**
 * The intent behind each frame, the way gaze or a spoken instruction leads the hand: one-hots of
 * the next three actions (the segments after the current one; zeros past the last) and the
 * seconds left in the current action, plus N(0, 0.02²) noise. It is made from the episode's future
 * labels, so it tells the model what RGB can only show once it happens.
 *
 * @example
 * intentFeatures([0, 0, 1, 1, 1, 2], 15, 1, 0); // 6 frames x 34 values
 */
export function intentFeatures(labels: ArrayLike<number>, fps: number, seed: number, index: number): Float32Array {
  const K = SYNTHETIC_ACTIONS.length;
  const dim = INTENT_DIM;
  const T = labels.length;
  const starts: number[] = [];
  for (let t = 0; t < T; t++) if (t === 0 || labels[t] !== labels[t - 1]) starts.push(t);
  const out = new Float32Array(T * dim);
  const rng = new Rng(mixSeed(seed ^ STREAM.informative, index));
  let segment = 0;
  for (let t = 0; t < T; t++) {
    while (segment + 1 < starts.length && starts[segment + 1]! <= t) segment++;
    const end = segment + 1 < starts.length ? starts[segment + 1]! : T;
    const row = out.subarray(t * dim, (t + 1) * dim);
    for (let k = 1; k <= 3; k++) if (segment + k < starts.length) row[(k - 1) * K + labels[starts[segment + k]!]!] = 1;
    row[3 * K] = (end - t) / fps;
    // how far the current action has got: its end (when the next action starts) is future information
    const phase = (t - starts[segment]! + 0.5) / (end - starts[segment]!);
    for (let k = 1; k <= PHASE_HARMONICS; k++) {
      row[3 * K + 2 * k - 1] = Math.sin(k * Math.PI * phase);
      row[3 * K + 2 * k] = Math.cos(k * Math.PI * phase);
    }
    for (let k = 0; k < dim; k++) row[k] = row[k]! + 0.02 * rng.normal();
  }
  return out;
}

/**
 * The `informative` partner: per frame, the intent (`intentFeatures`) followed by the luminance
 * thumbnail (`luminanceThumbnails`) of the frame `lead` frames ahead (the last frame near the
 * end): what the hand will do and how the scene will look a second ahead, neither of which the
 * current frame shows.
 *
 * @example
 * informativeFeatures(labels, rgbFrames, T, 24, 32, 15, 1, 0); // T x (34 + 48) values
 */
export function informativeFeatures(labels: ArrayLike<number>, rgbFrames: Float32Array, T: number, height: number, width: number, fps: number, seed: number, index: number, lead = fps): Float32Array {
  const intent = intentFeatures(labels, fps, seed, index);
  const thumbs = luminanceThumbnails(rgbFrames, T, height, width);
  const a = INTENT_DIM;
  const b = thumbs.length / Math.max(T, 1);
  const out = new Float32Array(T * (a + b));
  for (let t = 0; t < T; t++) {
    const later = Math.min(T - 1, t + lead);
    out.set(intent.subarray(t * a, (t + 1) * a), t * (a + b));
    out.set(thumbs.subarray(later * b, (later + 1) * b), t * (a + b) + a);
  }
  return out;
}

/**
 * 4 x 4-pooled luminance thumbnails (0.299 R + 0.587 G + 0.114 B, centred) of rendered frames:
 * the scene part of the `informative` partner. (The `redundant` partner is RGB's own features
 * again: see `SyntheticDataset`.)
 *
 * @example
 * luminanceThumbnails(rgbFrames, T, 24, 32); // T x 48 values
 */
export function luminanceThumbnails(rgbFrames: Float32Array, T: number, height: number, width: number): Float32Array {
  const h4 = Math.floor(height / 4);
  const w4 = Math.floor(width / 4);
  const out = new Float32Array(T * h4 * w4);
  for (let t = 0; t < T; t++) {
    const f = rgbFrames.subarray(t * height * width * 3, (t + 1) * height * width * 3);
    for (let y = 0; y < h4; y++) {
      for (let x = 0; x < w4; x++) {
        let s = 0;
        for (let dy = 0; dy < 4; dy++) {
          for (let dx = 0; dx < 4; dx++) {
            const a = ((4 * y + dy) * width + 4 * x + dx) * 3;
            s += 0.299 * f[a]! + 0.587 * f[a + 1]! + 0.114 * f[a + 2]!;
          }
        }
        out[(t * h4 + y) * w4 + x] = s / 16 - 0.5;
      }
    }
  }
  return out;
}

/**
 * The `noise` partner: N(0, 1) values, independent of everything in the world.
 *
 * @example
 * noiseFeatures(40, 1, 0); // 40 x 32 values
 */
export function noiseFeatures(T: number, seed: number, index: number): Float32Array {
  const rng = new Rng(mixSeed(seed ^ STREAM.noise, index));
  return Float32Array.from({ length: T * PLANTED_DIMS.noise }, () => rng.normal());
}
