import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FuserError, shapeText } from '../errors.js';
import type { Fuser, FuserName } from '../fuser.js';
import { createFuser } from '../fusers/index.js';
import type { RtfOptions } from '../rtf.js';
import { withVariableFactory } from '../weights.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type Shape = Array<number | null>;
type Kwargs = Parameters<tfl.layers.Layer['call']>[1];

/** What a fuser Layer outputs: the fused tokens (B, T, C), or the two streams before they merge. */
export type FuserLayerOutput = 'fused' | 'pair';

/** Options every fuser Layer takes, besides its fuser's own (all serialised by `getConfig`). */
export interface FuserLayerArgs extends LayerArgs {
  /**
   * `'fused'` (default): one output, the fused tokens (B, T, C) (for `late`: the streams stacked
   * along the batch, (2B, T, C), as its functional `apply`). `'pair'`: two outputs, the RGB and
   * partner streams (B, T, C) right before the fuser merges them (`FuserOutput.pair`; concat has none).
   */
  output?: FuserLayerOutput;
  /** Token width C; taken from the inputs when absent, checked against them when given. */
  channels?: number;
  /** Seeds the initial weights (default: unseeded). */
  seed?: number;
}

/** The RTF Layer's options: the functional fuser's (`RtfOptions`) and the Layer's. */
export type RTFuserLayerArgs = FuserLayerArgs & Omit<RtfOptions, 'channels' | 'seed'>;
/** The hard-swap Layer's options: RTF's without alpha. */
export type HardSwapFuserLayerArgs = FuserLayerArgs & Omit<RtfOptions, 'channels' | 'seed' | 'alpha'>;
/** The SA-Fuser Layer's options. */
export type SAFuserLayerArgs = FuserLayerArgs & Pick<RtfOptions, 'heads' | 'mlpRatio' | 'dropout'>;

// Layers' own arguments (and what `fromConfig` adds), kept out of the fuser's options.
const LAYER_ARG_KEYS = ['inputShape', 'batchInputShape', 'batchSize', 'dtype', 'name', 'trainable', 'weights', 'inputDType', 'output', 'customObjects'];

let layerIds = 0;

/**
 * A fuser as a `tf.layers.Layer`: its weights are Layers weights made in `build()` (`addWeight`,
 * named `<layer name>/<the authors' PyTorch name>`, BatchNorm running statistics non-trainable),
 * so `model.fit` trains them and `model.save` stores them; `call` runs the functional fuser's own
 * `apply` on those variables (one implementation of the math), with BatchNorm batch statistics,
 * running-statistic updates and dropout when Layers calls it in training (`fit`).
 *
 * Inputs: `[rgb, partner]` (B, T, C) each, optionally a third (B, T) frame mask (1 = valid frame),
 * or one (B, T, 2, C) tensor holding both streams (for `tf.sequential`). Output: see `output`.
 */
export abstract class FuserLayer extends tfl.layers.Layer {
  /** Which fuser of `createFuser` this Layer runs. */
  abstract readonly fuserName: FuserName;
  /** `'fused'` or `'pair'` (see `FuserLayerArgs.output`). */
  readonly outputKind: FuserLayerOutput;
  /** The fuser's options as given (what `getConfig` serialises). */
  protected readonly fuserOptions: Record<string, unknown>;
  private fuserInstance: Fuser | undefined;

  constructor(args: FuserLayerArgs, defaultName: string) {
    super({ ...args, name: args.name ?? `${defaultName}_${++layerIds}` });
    this.outputKind = args.output ?? 'fused';
    if (this.outputKind !== 'fused' && this.outputKind !== 'pair') {
      throw new FuserError({ field: 'output', expected: "'fused' | 'pair'", found: String(this.outputKind) });
    }
    this.fuserOptions = Object.fromEntries(Object.entries(args).filter(([k, v]) => v !== undefined && !LAYER_ARG_KEYS.includes(k)));
  }

  /** The functional fuser behind this Layer (after `build`), e.g. for `getWeights()` by PyTorch name. */
  get fuser(): Fuser {
    if (!this.fuserInstance) throw new FuserError({ field: 'fuser', expected: 'a built Layer (apply it to inputs first)', found: 'an unbuilt Layer' });
    return this.fuserInstance;
  }

  override build(inputShape: Shape | Shape[]): void {
    const [x] = streamShapes(inputShape);
    const C = x[2];
    if (C == null) throw new FuserError({ field: 'inputs', expected: 'a known channel width C (last axis)', found: shapeText(x.map((d) => d ?? -1)) });
    const given = this.fuserOptions.channels;
    if (given != null && given !== C) throw new FuserError({ field: 'channels', expected: `the inputs' width ${C}`, found: String(given) });
    this.fuserOptions.channels = C;
    this.fuserInstance = withVariableFactory(
      (init, name, trainable) => {
        const weight = this.addWeight(name, init.shape, 'float32', tfl.initializers.zeros(), undefined, trainable);
        weight.write(init);
        return weight.read() as tf.Variable;
      },
      () => createFuser(this.fuserName, this.fuserOptions),
    );
    if (this.outputKind === 'pair' && this.fuserName === 'concat') {
      throw new FuserError({ field: 'output', expected: "'fused' (the concat fuser merges the streams in one projection)", found: "'pair'" });
    }
    this.built = true;
  }

  /**
   * Builds the Layer for (B, T, `channels`) streams without a graph of your own, as applying it to
   * two `tf.input`s does (weights named `<layer name>/<PyTorch name>`, `dispose()` allowed); a
   * built Layer is left as it is. For code that runs the Layer's `fuser` directly (R3D does).
   *
   * @example
   * const layer = new RTFuserLayer({ ratio: 0.1 }).buildFor(128);
   * layer.fuser.apply(rgb, depth, { training: true, lengths: [24, 20] });
   */
  buildFor(channels: number): this {
    if (!this.built) this.apply([tfl.input({ batchShape: [null, null, channels] }), tfl.input({ batchShape: [null, null, channels] })]);
    return this;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    const [x] = streamShapes(inputShape);
    const tokens: Shape = [x[0]!, x[1]!, x[2]!];
    if (this.outputKind === 'pair') return [tokens, [...tokens]];
    return this.fuserName === 'late' ? [x[0] == null ? null : 2 * x[0], x[1]!, x[2]!] : tokens;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const fuser = this.fuser;
    return tf.tidy(() => {
      const [x, y, mask] = streams(inputs);
      const out = fuser.apply(x, y, { training: kwargs.training === true, pair: this.outputKind === 'pair', ...(mask ? { mask } : {}) });
      return this.outputKind === 'pair' ? [...out.pair!] : out.fused;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...(this.fuserOptions as tf.serialization.ConfigDict), output: this.outputKind, ...super.getConfig() };
  }
}

/** The (B, T, C) shapes of X and Y from `[x, y]`, `[x, y, mask]` or one (B, T, 2, C) shape. */
function streamShapes(inputShape: Shape | Shape[]): [Shape, Shape] {
  const shapes = Array.isArray(inputShape[0]) || inputShape[0] === undefined ? (inputShape as Shape[]) : [inputShape as Shape];
  if (shapes.length === 1) {
    const s = shapes[0]!;
    if (s.length !== 4 || s[2] !== 2) throw new FuserError({ field: 'inputs', expected: '[rgb, partner] (B, T, C) each, or one (B, T, 2, C) tensor', found: shapeText(s.map((d) => d ?? -1)) });
    return [[s[0]!, s[1]!, s[3]!], [s[0]!, s[1]!, s[3]!]];
  }
  if (shapes.length !== 2 && shapes.length !== 3) {
    throw new FuserError({ field: 'inputs', expected: '[rgb, partner] or [rgb, partner, frame mask]', found: `${shapes.length} inputs` });
  }
  const [x, y] = shapes as [Shape, Shape];
  if (x.length !== 3 || y.length !== 3) throw new FuserError({ field: 'inputs', expected: 'rgb and partner tokens (B, T, C)', found: `${shapeText(x.map((d) => d ?? -1))} and ${shapeText(y.map((d) => d ?? -1))}` });
  return [x, y];
}

function streams(inputs: tf.Tensor | tf.Tensor[]): [tf.Tensor3D, tf.Tensor3D, tf.Tensor | undefined] {
  const list = Array.isArray(inputs) ? inputs : [inputs];
  if (list.length === 1) {
    const [B, T, , C] = list[0]!.shape as [number, number, number, number];
    const [x, y] = tf.split(list[0]!, 2, 2).map((t) => tf.reshape(t, [B, T, C]) as tf.Tensor3D);
    return [x!, y!, undefined];
  }
  return [list[0] as tf.Tensor3D, list[1] as tf.Tensor3D, list[2]];
}

/**
 * The rank-enhancing token fuser (`RankEnhancingTokenFuser`) as a Layer, with any channel
 * selection (`variance`, `svd-energy`, `bn-gamma`); class name `r3d>RTFuser`.
 *
 * @example
 * const rgb = tf.input({ shape: [24, 128] });
 * const depth = tf.input({ shape: [24, 128] });
 * const fused = new RTFuserLayer({ selection: 'variance', ratio: 0.3 }).apply([rgb, depth]) as tf.SymbolicTensor;
 */
export class RTFuserLayer extends FuserLayer {
  static className = 'r3d>RTFuser';
  readonly fuserName: FuserName = 'rtf';
  constructor(args: RTFuserLayerArgs = {}) {
    super(args, 'rt_fuser');
  }
}

/**
 * The CEN-style hard-swap baseline as a Layer (`createFuser('hard-swap')`); class name
 * `r3d>HardSwapFuser`.
 *
 * @example
 * const layer = new HardSwapFuserLayer({ selection: 'variance', ratio: 0.3 });
 */
export class HardSwapFuserLayer extends FuserLayer {
  static className = 'r3d>HardSwapFuser';
  readonly fuserName: FuserName = 'hard-swap';
  constructor(args: HardSwapFuserLayerArgs = {}) {
    super(args, 'hard_swap_fuser');
  }
}

/**
 * The SA-Fuser baseline (no exchange) as a Layer; class name `r3d>SAFuser`.
 *
 * @example
 * const layer = new SAFuserLayer({ heads: 8 });
 */
export class SAFuserLayer extends FuserLayer {
  static className = 'r3d>SAFuser';
  readonly fuserName: FuserName = 'sa-fuser';
  constructor(args: SAFuserLayerArgs = {}) {
    super(args, 'sa_fuser');
  }
}

/**
 * The concatenation baseline ([X, Y], then Linear(2C, C)) as a Layer; class name `r3d>ConcatFuser`.
 *
 * @example
 * const layer = new ConcatFuserLayer({ seed: 1 });
 */
export class ConcatFuserLayer extends FuserLayer {
  static className = 'r3d>ConcatFuser';
  readonly fuserName: FuserName = 'concat';
  constructor(args: FuserLayerArgs = {}) {
    super(args, 'concat_fuser');
  }
}

/**
 * The mean baseline ((X + Y) / 2) as a Layer; class name `r3d>MeanFuser`.
 *
 * @example
 * const layer = new MeanFuserLayer();
 */
export class MeanFuserLayer extends FuserLayer {
  static className = 'r3d>MeanFuser';
  readonly fuserName: FuserName = 'mean';
  constructor(args: FuserLayerArgs = {}) {
    super(args, 'mean_fuser');
  }
}

/**
 * Late fusion as a Layer; class name `r3d>LateFusion`. With `output: 'pair'` (the useful form in
 * a Layers graph) it passes both streams on, to per-modality heads whose predictions you average
 * (`tf.layers.average`); `'fused'` stacks them along the batch as `LateFusion.apply` does.
 *
 * @example
 * const [r, d] = new LateFusionLayer({ output: 'pair' }).apply([rgb, depth]) as tf.SymbolicTensor[];
 */
export class LateFusionLayer extends FuserLayer {
  static className = 'r3d>LateFusion';
  readonly fuserName: FuserName = 'late';
  constructor(args: FuserLayerArgs = {}) {
    super(args, 'late_fusion');
  }
}

/**
 * A fuser Layer by `createFuser` name: `rtf`, `hard-swap`, `sa-fuser`, `concat`, `mean`, `late`.
 *
 * @example
 * const layer = fuserLayer('rtf', { selection: 'bn-gamma', ratio: 0.1 });
 */
export function fuserLayer(name: FuserName, args: RTFuserLayerArgs = {}): FuserLayer {
  switch (name) {
    case 'rtf':
      return new RTFuserLayer(args);
    case 'hard-swap': {
      const { alpha: _alpha, ...rest } = args;
      return new HardSwapFuserLayer(rest);
    }
    case 'sa-fuser': {
      const { selection: _s, ratio: _r, topQ: _q, batchNorm: _b, alpha: _a, crossModalBlock: _c, ...rest } = args;
      return new SAFuserLayer(rest);
    }
    case 'concat':
    case 'mean':
    case 'late': {
      const { output, channels, seed, name: layerName, trainable, inputShape, batchInputShape, batchSize, dtype, inputDType } = args;
      const base: FuserLayerArgs = Object.fromEntries(
        Object.entries({ output, channels, seed: name === 'concat' ? seed : undefined, name: layerName, trainable, inputShape, batchInputShape, batchSize, dtype, inputDType }).filter(([, v]) => v !== undefined),
      );
      return name === 'concat' ? new ConcatFuserLayer(base) : name === 'mean' ? new MeanFuserLayer(base) : new LateFusionLayer(base);
    }
    default:
      throw new FuserError({ field: 'name', expected: 'rtf | hard-swap | sa-fuser | concat | mean | late', found: String(name) });
  }
}

/** Every fuser Layer class, each registered with `tf.serialization` when this module loads. */
export const FUSER_LAYER_CLASSES = [RTFuserLayer, HardSwapFuserLayer, SAFuserLayer, ConcatFuserLayer, MeanFuserLayer, LateFusionLayer] as const;

// What the Layers API expects of a custom layer: registered under its className when its module
// loads, so `tf.loadLayersModel` can rebuild a saved model. This registry is tfjs's serialization
// map, not a gradient or kernel registry: importing this module changes neither.
for (const cls of FUSER_LAYER_CLASSES) tf.serialization.registerClass(cls);
