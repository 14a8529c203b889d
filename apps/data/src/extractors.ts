import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as tfc from '@tensorflow/tfjs-core';
import { SyntheticDataset } from '@r3d-ts/datasets/synthetic';
import { fileSystem } from '@r3d-ts/r3d-model/node';
import { ImportError } from './errors.js';
import type { Normalisation } from './normalisations.js';
import type { Size } from './sources.js';

/** Turns frames (RGB in [0, 1], H x W x 3 each) into per-frame feature vectors. */
export interface FeatureExtractor {
  /** What the features are, for the summary and `import.json` (says "baseline" for the baseline). */
  readonly description: string;
  /** Frame size the extractor takes; frames are decoded (ffmpeg) or resized to it. */
  readonly size: Size;
  /** Frames per call `extract` prefers (a batch for a model, 1 for the baseline). */
  readonly batch: number;
  /** Features of `count` frames packed in `frames` (count x H x W x 3), as count x dim values. */
  extract(frames: Float32Array, count: number): Promise<{ dim: number; data: Float32Array }>;
  dispose(): void;
}

/** Settings of the baseline extractor. */
export interface BaselineOptions {
  /** Frame size (default 24 x 32, the synthetic world's; both even). */
  size?: Size;
  /** Feature size (default 256). */
  dim?: number;
  /** Projection seed (default 20260, the synthetic world's, so features stay comparable across datasets). */
  seed?: number;
}

/**
 * The fixed baseline extractor, for data without a trained image model: the synthetic world's own
 * RGB features (2x2 average pooling of the frame, centred, a seeded very sparse random projection
 * to `dim`, ReLU; see `SyntheticDataset.features`). It learns nothing and knows nothing of
 * objects or people: a BASELINE that keeps coarse colour layout, enough to check a pipeline end
 * to end, not to report results with.
 *
 * @example
 * const ex = baselineExtractor(); // 24 x 32 frames -> 256-d
 */
export function baselineExtractor(options: BaselineOptions = {}): FeatureExtractor {
  const size = options.size ?? { height: 24, width: 32 };
  const dim = options.dim ?? 256;
  const seed = options.seed ?? 20260;
  if (size.height % 2 !== 0 || size.width % 2 !== 0) throw new ImportError(`--rgb-size: the baseline extractor pools 2x2, so height and width must be even, got ${size.height}x${size.width}`);
  const world = new SyntheticDataset({ count: 0, height: size.height, width: size.width, featureDim: dim, featureSeed: seed });
  return {
    description: `BASELINE extractor (no model): 2x2-pooled ${size.height}x${size.width} RGB, seeded sparse random projection (seed ${seed}) to ${dim}-d, ReLU`,
    size,
    batch: 1,
    extract: async (frames, count) => ({ dim, data: world.features(frames, count) }),
    dispose: () => {},
  };
}

export { NORMALISATIONS, type Normalisation } from './normalisations.js';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/**
 * Normalises RGB in [0, 1] (H x W x 3 values, any number of frames) in place: `0-1` leaves it,
 * `-1-1` maps to [-1, 1] (MobileNet), `0-255` scales to bytes, `imagenet` subtracts the ImageNet
 * mean and divides by its std per channel (ResNet in PyTorch).
 *
 * @example
 * normalisePixels(frame, 'imagenet');
 */
export function normalisePixels(data: Float32Array, mode: Normalisation): Float32Array {
  if (mode === '0-1') return data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    data[i] = mode === '-1-1' ? v * 2 - 1 : mode === '0-255' ? v * 255 : (v - IMAGENET_MEAN[i % 3]!) / IMAGENET_STD[i % 3]!;
  }
  return data;
}

/** Settings of a TF.js model extractor. */
export interface ModelExtractorOptions {
  /** A model folder or `model.json` on disk, a `file://` path, or any `tf.io` URL (`http(s)://`, ...). */
  model: string;
  /** `layers`, `graph` or `auto` (default: the `format` field of a local model.json; a URL tries layers, then graph). */
  format?: 'auto' | 'layers' | 'graph';
  /** Input frame size (default: the model's input shape, which must then be fixed). */
  size?: Size;
  normalise?: Normalisation;
  /** Layer (LayersModel) or node (GraphModel) whose output are the features (default: the model's output). */
  output?: string;
  /** Frames per model call (default 16). */
  batch?: number;
}

/**
 * A feature extractor running a user's TF.js image model (a LayersModel or a GraphModel) on
 * batches of normalised frames (N x H x W x 3), each frame's output flattened to one vector. The
 * input size comes from `size` or the model's input shape; the output from `output` (a layer or
 * node name) or the model's own output. The backend must be set before (see `selectBackend`).
 *
 * @example
 * const ex = await modelExtractor({ model: 'models/mobilenet', normalise: '-1-1', output: 'global_average_pooling2d' });
 */
export async function modelExtractor(options: ModelExtractorOptions): Promise<FeatureExtractor> {
  const tf = await import('@tensorflow/tfjs-core');
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(options.model) && !options.model.startsWith('file://');
  const local = options.model.startsWith('file://') ? options.model.slice(7) : options.model;
  let format = options.format ?? 'auto';
  if (!isUrl && !existsSync(local)) throw new ImportError(`--rgb-model ${options.model}: no such file or folder`);
  if (format === 'auto' && !isUrl) {
    const jsonPath = statSync(local).isDirectory() ? join(local, 'model.json') : local;
    let json: { format?: string } = {};
    try {
      if (existsSync(jsonPath)) json = JSON.parse(readFileSync(jsonPath, 'utf8')) as { format?: string };
    } catch (e) {
      throw new ImportError(`${jsonPath}: expected a TF.js model.json, found ${(e as Error).message}`);
    }
    format = json.format === 'graph-model' ? 'graph' : 'layers';
  }
  const source = isUrl ? options.model : fileSystem(local);
  const normalise = options.normalise ?? '0-1';
  const batch = options.batch ?? 16;
  let run: (x: tfc.Tensor4D) => tfc.Tensor;
  let inputShape: readonly (number | null)[] | undefined;
  let dispose: () => void;
  const tryLayers = async (): Promise<void> => {
    const { loadLayersModel, model: makeModel } = await import('@tensorflow/tfjs-layers');
    const m = await loadLayersModel(source as tfc.io.IOHandler);
    let net = m;
    if (options.output) {
      let layer;
      try {
        layer = m.getLayer(options.output);
      } catch {
        throw new ImportError(`--rgb-output ${options.output}: no such layer in ${options.model} (layers: ${m.layers.map((l) => l.name).join(', ')})`);
      }
      net = makeModel({ inputs: m.inputs, outputs: layer.output as never });
    }
    inputShape = m.inputs[0]?.shape;
    run = (x) => net.predict(x) as tfc.Tensor;
    dispose = () => m.dispose();
  };
  const tryGraph = async (): Promise<void> => {
    const { loadGraphModel } = await import('@tensorflow/tfjs-converter');
    const m = await loadGraphModel(source as tfc.io.IOHandler);
    inputShape = m.inputs[0]?.shape;
    const out = options.output;
    run = (x) => (out ? m.execute(x, out) : m.execute(x)) as tfc.Tensor;
    dispose = () => m.dispose();
  };
  try {
    if (format === 'layers') await tryLayers();
    else if (format === 'graph') await tryGraph();
    else {
      try {
        await tryLayers();
      } catch {
        await tryGraph();
      }
    }
  } catch (e) {
    if (e instanceof ImportError) throw e;
    throw new ImportError(`--rgb-model ${options.model}: cannot load it as a ${format === 'auto' ? 'LayersModel or GraphModel' : `${format} model`} (${(e as Error).message.split('\n')[0]})`);
  }
  const h = options.size?.height ?? inputShape?.[1];
  const w = options.size?.width ?? inputShape?.[2];
  if (!(typeof h === 'number' && h > 0 && typeof w === 'number' && w > 0)) {
    throw new ImportError(`--rgb-model ${options.model}: its input shape [${(inputShape ?? []).join(', ')}] has no fixed height and width; pass --rgb-size HxW`);
  }
  if (inputShape && inputShape.length === 4 && inputShape[3] != null && inputShape[3] !== 3) {
    throw new ImportError(`--rgb-model ${options.model}: expected an image model taking N x H x W x 3, its input is [${inputShape.join(', ')}]`);
  }
  const size = { height: h, width: w };
  return {
    description: `TF.js ${format === 'graph' ? 'GraphModel' : 'LayersModel'} ${options.model}${options.output ? ` (output ${options.output})` : ''}, ${h}x${w} input, ${normalise} pixels`,
    size,
    batch,
    async extract(frames, count) {
      const x = normalisePixels(frames, normalise);
      const y = tf.tidy(() => {
        const out = run!(tf.tensor4d(x, [count, h, w, 3]));
        return tf.reshape(out, [count, -1]);
      });
      try {
        return { dim: y.shape[1]!, data: (await y.data()) as Float32Array };
      } finally {
        y.dispose();
      }
    },
    dispose: () => dispose!(),
  };
}
