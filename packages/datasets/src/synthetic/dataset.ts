import { HashedNgramEncoder } from '../modalities/text.js';
import { minMaxNormalise } from '../modalities/resize.js';
import { mixSeed, Rng } from '../random.js';
import { frameModality, subsampleSequence, type FrameModality, type Sequence } from '../sequence.js';
import { streamSequences } from '../stream.js';
import { apply, mul, rotY, rotZ, transpose, type Vec3 } from './geometry.js';
import { cameraRays, renderFrame, type Camera } from './render.js';
import { informativeFeatures, INTENT_DIM, noiseFeatures, PLANTED_DIMS, type PlantedPartner } from './planted.js';
import { type ActionGrammar, framePrimitives, simulateEpisode, SYNTHETIC_ACTIONS, type Episode } from './world.js';

/** Options of the synthetic dataset. */
export interface SyntheticOptions {
  /** Dataset seed: same seed, same bytes (default 1). */
  seed?: number;
  /** Number of sequences over all splits (default 300). */
  count?: number;
  /** Frame size of the RGB and depth renders (default 24 x 32). */
  height?: number;
  width?: number;
  /** Dimension of the fixed random-projection RGB features (default 256). */
  featureDim?: number;
  /** Dimension of the hashed text vectors (default 64). */
  textDim?: number;
  /** Frames per second of the simulation, used by the IMU (default 15). */
  fps?: number;
  /** Also return raw frames as `rgbFrames` (H x W x 3 in [0, 1]) and `depthMetres` (H x W). */
  includeFrames?: boolean;
  /** Fractions of train / val / test (default 0.7 / 0.15 / 0.15, by sequence index). */
  splitFractions?: [number, number, number];
  /** Seed of the RGB feature projection, fixed across datasets so features stay comparable (default 20260). */
  featureSeed?: number;
  /**
   * Planted partners to add as modalities of those names (default none): `informative` (the
   * next three actions, the time left in the current one and a thumbnail of the scene a second
   * ahead: future information no frame shows yet), `redundant` (RGB's features again: the same
   * camera through the same extractor) and `noise` (N(0, 1)). Each
   * draws from its own stream: the other modalities are the same bytes with or without them.
   */
  planted?: readonly PlantedPartner[];
  /**
   * How tasks are chosen (default `random`, the bytes of every earlier version): `by-object`
   * lets the object decide the task (ball slid, cup poured, block carried; see `ActionGrammar`),
   * so the next actions follow from what the video shows.
   */
  grammar?: ActionGrammar;
}

const CLASS_PHRASE: Record<string, string> = {
  idle: 'waiting with the hand at rest',
  reach: 'reaching for the',
  grasp: 'grasping the',
  lift: 'lifting the',
  move_toward: 'bringing the {o} toward the camera',
  move_away: 'moving the {o} away from the camera',
  pour: 'pouring from the',
  place: 'placing the {o} on the table',
  push: 'pushing the',
  pull: 'pulling the',
  retract: 'pulling the hand back',
};

const NOISE_MASK = 0xffff;
const NOISE = (() => {
  const r = new Rng(0x5eed);
  return Float32Array.from({ length: NOISE_MASK + 1 }, () => r.normal());
})();

function phrase(action: string, target: string): string {
  const p = CLASS_PHRASE[action] ?? action;
  if (p.includes('{o}')) return p.replace('{o}', target || 'object');
  return p.endsWith('the') ? `${p} ${target || 'object'}` : p;
}

/**
 * A small simulated table-top world, the embedded default dataset: an arm reaches, grasps,
 * lifts, moves objects toward or away from a pinhole camera, pours, places, pushes and pulls a
 * ball, a cup and a block. Every modality comes from the same world state: `rgb` (a fixed seeded
 * random projection of 2x2-pooled ray-cast RGB frames to 256-d, ReLU), `depth` (the z-buffer,
 * min-max normalised per frame), `imu` (wrist acceleration by finite differences plus gravity,
 * and angular velocity, in the sensor frame, with bias and noise) and `text` (hashed phrases of
 * the action labels). Deterministic for a seed: its own PRNG, no `Math.random`.
 *
 * @example
 * const ds = new SyntheticDataset({ seed: 1, count: 300 });
 * const train = ds.split('train'); // Sequence[]
 * ds.classNames; // ['idle', 'reach', ...]
 */
export class SyntheticDataset {
  static readonly classNames: readonly string[] = SYNTHETIC_ACTIONS;
  readonly classNames: string[] = [...SYNTHETIC_ACTIONS];
  readonly options: Required<Omit<SyntheticOptions, 'splitFractions' | 'planted'>> & { splitFractions: [number, number, number]; planted: readonly PlantedPartner[] };
  private readonly projections = new Map<string, { offsets: Int32Array; inputs: Int32Array; signs: Float64Array }>();
  private readonly text: HashedNgramEncoder;

  constructor(options: SyntheticOptions = {}) {
    this.options = {
      seed: options.seed ?? 1,
      count: options.count ?? 300,
      height: options.height ?? 24,
      width: options.width ?? 32,
      featureDim: options.featureDim ?? 256,
      textDim: options.textDim ?? 64,
      fps: options.fps ?? 15,
      includeFrames: options.includeFrames ?? false,
      splitFractions: options.splitFractions ?? [0.7, 0.15, 0.15],
      featureSeed: options.featureSeed ?? 20260,
      planted: [...new Set(options.planted ?? [])],
      grammar: options.grammar ?? 'random',
    };
    const { height, width, count, featureDim, textDim, fps, grammar } = this.options;
    if (grammar !== 'random' && grammar !== 'by-object') throw new RangeError(`SyntheticDataset: grammar must be 'random' or 'by-object', got ${String(grammar)}`);
    if (!(Number.isSafeInteger(count) && count >= 0)) throw new RangeError(`SyntheticDataset: count must be a non-negative integer, got ${count}`);
    for (const [name, v] of [['height', height], ['width', width], ['featureDim', featureDim], ['textDim', textDim]] as const) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`SyntheticDataset: ${name} must be a positive integer, got ${v}`);
    }
    if (!(fps > 0 && Number.isFinite(fps))) throw new RangeError(`SyntheticDataset: fps must be positive, got ${fps}`);
    if (height % 2 !== 0 || width % 2 !== 0) throw new RangeError(`SyntheticDataset: height and width must be even, got ${height}x${width}`);
    this.text = new HashedNgramEncoder({ dim: this.options.textDim });
  }

  /** Class index of NONE and of padding for anticipation samples (after the real classes). */
  get noneClass(): number {
    return this.classNames.length;
  }
  get padClass(): number {
    return this.classNames.length + 1;
  }

  /** Sequence indices of a split. */
  indices(split: 'train' | 'val' | 'test' | 'all' = 'all'): number[] {
    const n = this.options.count;
    const [a, b] = this.options.splitFractions;
    const nTrain = Math.round(a * n);
    const nVal = Math.round(b * n);
    const all = Array.from({ length: n }, (_, i) => i);
    if (split === 'train') return all.slice(0, nTrain);
    if (split === 'val') return all.slice(nTrain, nTrain + nVal);
    if (split === 'test') return all.slice(nTrain + nVal);
    return all;
  }

  /** Generates every sequence of a split (in memory: a few MB for the defaults). */
  split(split: 'train' | 'val' | 'test'): Sequence[] {
    return this.indices(split).map((i) => this.generate(i));
  }

  /** Streams the sequences of a split one at a time. */
  sequences(split: 'train' | 'val' | 'test' | 'all' = 'all'): AsyncGenerator<Sequence> {
    return streamSequences(this.indices(split), (i) => this.generate(i));
  }

  /**
   * A very sparse random projection (Li, Hastie & Church 2006: each entry +-sqrt(s/n) with
   * probability 1/(2s) each, else 0, s = 12), stored per output column as its inputs (ascending)
   * and signs: it preserves distances like a Gaussian projection at a twelfth of the cost. The
   * entries are drawn input by input, as they always were, so each seed keeps its projection.
   */
  private featureProjection(seed = this.options.featureSeed, featureDim = this.options.featureDim): { offsets: Int32Array; inputs: Int32Array; signs: Float64Array } {
    const key = `${seed}:${featureDim}`;
    let projection = this.projections.get(key);
    if (!projection) {
      const { height, width } = this.options;
      const inDim = (height / 2) * (width / 2) * 3;
      const rng = new Rng(seed);
      const sparsity = 12;
      const k = Math.sqrt(sparsity / inDim);
      const perColumn: Array<{ inputs: number[]; signs: number[] }> = Array.from({ length: featureDim }, () => ({ inputs: [], signs: [] }));
      for (let i = 0; i < inDim; i++) {
        for (let d = 0; d < featureDim; d++) {
          const u = rng.next();
          if (u < 1 / sparsity) {
            perColumn[d]!.inputs.push(i);
            perColumn[d]!.signs.push(u < 0.5 / sparsity ? k : -k);
          }
        }
      }
      const offsets = new Int32Array(featureDim + 1);
      for (let d = 0; d < featureDim; d++) offsets[d + 1] = offsets[d]! + perColumn[d]!.inputs.length;
      // the signs are float32 values, as they always were, held as doubles for the products
      projection = { offsets, inputs: Int32Array.from(perColumn.flatMap((c) => c.inputs)), signs: Float64Array.from(perColumn.flatMap((c) => c.signs.map(Math.fround))) };
      this.projections.set(key, projection);
    }
    return projection;
  }

  /**
   * Generates sequence `index` (deterministic for the dataset seed and the index). With
   * `keepEvery: k` it returns every k-th frame from the first, the same values as
   * `subsampleSequence(generate(index), k)`, and renders only the frames it keeps (and those the
   * planted `informative` partner looks ahead to), skipping the others' sensor-noise draws: about
   * k times less work at k = 5, the ablation's 3 fps.
   *
   * @example
   * ds.generate(0, { keepEvery: 5 }).frames; // Math.ceil(ds.generate(0).frames / 5)
   */
  generate(index: number, options: { keepEvery?: number } = {}): Sequence {
    const { seed, height: H, width: W, featureDim: D, fps, includeFrames } = this.options;
    const every = options.keepEvery ?? 1;
    if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`SyntheticDataset.generate: keepEvery must be a positive integer, got ${every}`);
    const rng = new Rng(mixSeed(seed, index));
    const ep = simulateEpisode(rng, { grammar: this.options.grammar });
    const T = ep.states.length;
    // the informative partner shows the scene a second ahead: those frames are rendered too
    const lead = fps;
    const needed = neededFrames(T, every, this.options.planted.includes('informative') ? lead : 0);
    const cam: Camera = { position: [rng.uniform(-0.02, 0.02), 0.56 + rng.uniform(-0.02, 0.02), 0], pitch: 0.5 + rng.uniform(-0.04, 0.04), focal: W * 0.86, height: H, width: W };
    const rays = cameraRays(cam);
    const light: Vec3 = [0.4 + rng.uniform(-0.2, 0.2), 0.85, -0.45 + rng.uniform(-0.2, 0.2)];
    const skin: Vec3 = [0.86 + rng.uniform(-0.08, 0.06), 0.66 + rng.uniform(-0.08, 0.06), 0.52 + rng.uniform(-0.08, 0.06)];
    const rgbFrames = new Float32Array(T * H * W * 3);
    const depthMetres = new Float32Array(T * H * W);
    const frame = new Float32Array(H * W * 3);
    const depthFrame = new Float32Array(H * W);
    const draws = new Uint32Array(frame.length + depthFrame.length);
    for (let t = 0; t < T; t++) {
      // a frame nobody reads stays 0; its noise draws are skipped so that later frames get theirs
      if (!needed[t]) { rng.skip(frame.length + depthFrame.length); continue; }
      renderFrame(cam, rays, framePrimitives(ep, ep.states[t]!, skin), light, frame, depthFrame);
      // Sensor noise: normals drawn from a fixed table by the seeded PRNG (one draw per value, RGB's first).
      rng.fill(draws);
      for (let i = 0; i < frame.length; i++) frame[i] = Math.min(1, Math.max(0, frame[i]! + 0.015 * NOISE[draws[i]! & NOISE_MASK]!));
      for (let i = 0; i < depthFrame.length; i++) depthFrame[i] = depthFrame[i]! * (1 + 0.004 * NOISE[draws[frame.length + i]! & NOISE_MASK]!);
      rgbFrames.set(frame, t * H * W * 3);
      depthMetres.set(depthFrame, t * H * W);
    }
    const depth = new Float32Array(depthMetres);
    for (let t = 0; t < T; t++) minMaxNormalise(depth.subarray(t * H * W, (t + 1) * H * W));
    const rgb = this.features(rgbFrames, T, {}, needed);
    const imu = this.imu(ep, fps, rng);
    const phrases = ep.labels.map((l, t) => phrase(SYNTHETIC_ACTIONS[l]!, ep.targets[t]!));
    const text = this.text.encode(phrases);
    const modalities: Record<string, FrameModality> = {
      rgb: frameModality(T, D, rgb),
      depth: frameModality(T, H * W, depth, [H, W]),
      imu: frameModality(T, 6, imu),
      text: frameModality(T, this.options.textDim, text),
    };
    for (const kind of this.options.planted) {
      if (kind === 'informative') modalities.informative = frameModality(T, INTENT_DIM + Math.floor(H / 4) * Math.floor(W / 4), informativeFeatures(ep.labels, rgbFrames, T, H, W, fps, seed, index, lead));
      // the same camera through the same extractor: exactly what RGB shows
      else if (kind === 'redundant') modalities.redundant = frameModality(T, D, new Float32Array(rgb));
      else modalities.noise = frameModality(T, PLANTED_DIMS.noise, noiseFeatures(T, seed, index));
    }
    if (includeFrames) {
      modalities.rgbFrames = frameModality(T, H * W * 3, rgbFrames, [H, W, 3]);
      modalities.depthMetres = frameModality(T, H * W, depthMetres, [H, W]);
    }
    const sequence = { id: `synthetic-${seed}-${String(index).padStart(4, '0')}`, frames: T, labels: Int32Array.from(ep.labels), modalities, meta: { seed, index, phrases } };
    return subsampleSequence(sequence, every);
  }


  /**
   * The fixed feature extractor: 2x2 average pooling, centring, a seeded sparse random projection,
   * ReLU. `projection` picks another seed and size (the planted `informative` partner's view ahead);
   * `frames` (1 = extract) leaves the other frames' rows 0.
   */
  features(rgbFrames: Float32Array, T: number, projection: { seed?: number; dim?: number } = {}, frames?: Uint8Array): Float32Array {
    const { height: H, width: W } = this.options;
    const D = projection.dim ?? this.options.featureDim;
    const { offsets, inputs, signs } = this.featureProjection(projection.seed ?? this.options.featureSeed, D);
    const h2 = H / 2, w2 = W / 2;
    const out = new Float32Array(T * D);
    const pooled = new Float64Array(h2 * w2 * 3);
    for (let t = 0; t < T; t++) {
      if (frames && !frames[t]) continue; // a frame generate drops: its row stays 0
      const f = rgbFrames.subarray(t * H * W * 3);
      for (let y = 0; y < h2; y++) for (let x = 0; x < w2; x++) for (let c = 0; c < 3; c++) {
        const a = (((2 * y) * W + 2 * x) * 3) + c;
        pooled[(y * w2 + x) * 3 + c] = (f[a]! + f[a + 3]! + f[a + W * 3]! + f[a + W * 3 + 3]!) / 4 - 0.5;
      }
      // each column sums its inputs in ascending order, in doubles, then ReLU
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = offsets[d]!; j < offsets[d + 1]!; j++) acc += pooled[inputs[j]!]! * signs[j]!;
        out[t * D + d] = acc > 0 ? acc : 0;
      }
    }
    return out;
  }

  /** Wrist IMU at the frame rate: specific force (m/s^2) and angular velocity (rad/s) in the sensor frame. */
  private imu(ep: Episode, fps: number, rng: Rng): Float32Array {
    const T = ep.states.length;
    const out = new Float32Array(T * 6);
    const bias = Array.from({ length: 6 }, (_, i) => (i < 3 ? 0.05 : 0.01) * rng.normal());
    const pos = (t: number) => ep.states[Math.min(T - 1, Math.max(0, t))]!.hand;
    for (let t = 0; t < T; t++) {
      const s = ep.states[t]!;
      const p0 = pos(t - 1), p1 = pos(t), p2 = pos(t + 1);
      const acc: Vec3 = [(p2[0] - 2 * p1[0] + p0[0]) * fps * fps, (p2[1] - 2 * p1[1] + p0[1]) * fps * fps + 9.81, (p2[2] - 2 * p1[2] + p0[2]) * fps * fps];
      const R = mul(rotY(s.yaw), rotZ(s.roll));
      const local = apply(transpose(R), acc);
      const prev = ep.states[Math.max(0, t - 1)]!;
      const next = ep.states[Math.min(T - 1, t + 1)]!;
      const span = (Math.min(T - 1, t + 1) - Math.max(0, t - 1)) || 1;
      const wroll = ((next.roll - prev.roll) * fps) / span;
      const wyaw = ((next.yaw - prev.yaw) * fps) / span;
      // Yaw turns about the world vertical: seen from the rolled sensor it splits over x and y.
      const gyro: Vec3 = [Math.sin(s.roll) * wyaw, Math.cos(s.roll) * wyaw, wroll];
      for (let k = 0; k < 3; k++) {
        out[t * 6 + k] = local[k]! + bias[k]! + 0.08 * rng.normal();
        out[t * 6 + 3 + k] = gyro[k]! + bias[3 + k]! + 0.03 * rng.normal();
      }
    }
    return out;
  }
}

/** Which of T frames `generate` renders when it keeps every `every`-th: those, and the frames `lead` after them (clamped to the last). */
function neededFrames(T: number, every: number, lead: number): Uint8Array {
  const needed = new Uint8Array(T);
  for (let t = 0; t < T; t += every) needed[t] = needed[Math.min(T - 1, t + lead)] = 1;
  return needed;
}
