import * as tf from '@tensorflow/tfjs-core';
import { type R3DConfig, type R3DConfigInput, resolveConfig } from './config.js';
import { decoderLayer, encoderLayer, type TransformerRunOptions } from './decoder.js';
import { encodeFrames } from './encoders.js';
import { ModelConfigError, WeightImportError } from './errors.js';
import { type Fuser, type FuserOutput, type FuserTokens, layerNorm, linear } from '@r3d-ts/rtf-fuser';
import type { HostTensor } from '@r3d-ts/tensor-io';
import type { FuserLayer } from '@r3d-ts/rtf-fuser/layers';
import { buildFuser, buildFuserLayer, FUSER_PREFIX, fuserWeightShapes, importFuserLayers, isFuserLayer, isLateFusion } from './fuser.js';
import { withDropoutSeed } from './layers.js';
import { initialValue, modelParamSpecs } from './params.js';
import { modelArtifacts } from './artifacts.js';
import type { DecodedAnticipation } from './decode.js';
import { type PredictOptions, predictAnticipation } from './predict.js';

/** The tokens of one fuser call: its inputs, what it exchanged and its block's, and `fused` (late fusion's already combined). */
function tokensOf(rgb: tf.Tensor3D, partner: tf.Tensor3D, out: FuserOutput, fused: tf.Tensor3D): FuserTokens {
  const tokens: FuserTokens = { x: rgb, y: partner, fused };
  if (out.exchangedX && out.exchangedY) [tokens.exchangedX, tokens.exchangedY] = [out.exchangedX, out.exchangedY];
  if (out.block) tokens.block = out.block;
  return tokens;
}

/** One batch of observed frames. */
export interface R3DInputs {
  /** (B, T, D) per-frame RGB features. */
  rgb: tf.Tensor;
  /** (B, T, H, W) depth frames or (B, T, D) partner vectors. */
  partner: tf.Tensor;
  /** Valid frames per item of a padded batch (frames after an item's length are padding). */
  lengths?: number[];
  /** (B, T) 1 for a valid frame, 0 for padding (instead of `lengths`). */
  mask?: tf.Tensor2D;
}

export interface ApplyOptions {
  /** Training mode: BatchNorm batch statistics (updating the running ones), dropout, key padding mask. */
  training?: boolean;
  /** Dropout on/off; defaults to `training`. Parity runs use training statistics without dropout. */
  dropout?: boolean;
  /** Mask padded frames as keys of the cross-attention; defaults to `training` (the released mode='train'). */
  keyPaddingMask?: boolean;
  /**
   * Seed of this pass's dropout masks (fuser and decoder), for reproducible training; unseeded
   * when absent. An int32 scalar tensor holding an unsigned 32-bit seed's pattern draws the masks
   * of that number without a readback, so a captured step can take the seed as an input.
   */
  seed?: number | tf.Scalar;
}

/** What one forward pass returns (dispose it, or call inside `tf.tidy`). */
export type R3DOutputs = {
  /** (B, Q, N) action logits per query, NONE included. */
  action: tf.Tensor3D;
  /** (B, Q) raw (log-scale) duration per query. */
  duration: tf.Tensor2D;
  /** (B, T, N) per-frame segmentation logits from the fused tokens. */
  segmentation: tf.Tensor3D;
  /** (B, T, C) fused tokens (the decoder's memory). */
  fused: tf.Tensor3D;
  /** (B, Q, C) decoder output after the final LayerNorm (the heads' input). */
  decoder: tf.Tensor3D;
  /**
   * The fuser's tokens from this pass's one fuser call: the encoder outputs entering it (`x` RGB,
   * `y` partner), the exchanged tokens (rtf, hard-swap), the cross-modal block's (rtf, sa-fuser)
   * and `fused` (the same tensor as above). `tokenRanks` of `@r3d-ts/rtf-fuser` turns them into
   * effective ranks.
   */
  tokens: FuserTokens;
};

/** What `setWeights` did with the names it was given. */
export interface WeightLoadReport {
  /** Names it assigned (without any `module.` prefix). */
  loaded: string[];
  /** Names the model has no use for (encoder layers of a bypassed encoder, counters, ...). */
  unused: string[];
}

/**
 * The R3D anticipation model: per-frame encoders for RGB and a partner, a fuser, a FUTR-style
 * transformer (encoder bypassed by default, one post-norm decoder layer on learned queries) and
 * the action, duration and segmentation heads. Parameters carry the authors' PyTorch names.
 *
 * @example
 * const model = createR3DModel({ numClasses: 12, fuser: { name: 'rtf', options: { ratio: 0.1 } } });
 * const out = model.apply({ rgb, partner: depth, lengths: [24, 20] }, { training: true });
 */
export class R3DModel {
  readonly config: R3DConfig;
  /** The functional fuser the forward pass runs; with a fuser Layer, the Layer's own (`fuserLayer.fuser`), on its weights. */
  readonly fuser: Fuser;
  /**
   * The fuser as a `tf.layers.Layer` (`@r3d-ts/rtf-fuser/layers`), when the model was built from
   * one (`load`, `buildR3DModel`, or `createR3DModel` given a Layer): its weights are the model's
   * fuser weights, so it can join a `tf.model` of your own.
   */
  readonly fuserLayer: FuserLayer | undefined;
  private readonly params = new Map<string, tf.Variable>();
  private disposed = false;

  constructor(config: R3DConfig, fuser: Fuser | FuserLayer) {
    this.config = config;
    this.fuserLayer = isFuserLayer(fuser) ? fuser : undefined;
    this.fuser = isFuserLayer(fuser) ? fuser.fuser : fuser;
    modelParamSpecs(config).forEach((spec, i) => {
      const init = tf.tidy(() => initialValue(spec, config.seed * 1009 + i));
      this.params.set(spec.name, tf.variable(init, true, `r3d/${spec.name}/${nextId++}`));
      init.dispose();
    });
  }

  /** The model's own parameter (not the fuser's) by PyTorch name. */
  param(name: string): tf.Variable {
    const p = this.params.get(name);
    if (!p) throw new ModelConfigError('param', `one of the model's parameter names (${[...this.params.keys()].slice(0, 4).join(', ')}, ...)`, name);
    return p;
  }

  /** Variables an optimiser updates: the model's and the fuser's. */
  trainableVariables(): tf.Variable[] {
    return [...this.params.values(), ...this.fuser.trainableVariables];
  }

  /** The trainable variables by the authors' weight names (`fuser.` prefix for the fuser's). */
  namedTrainableVariables(): Map<string, tf.Variable> {
    const out = new Map(this.params);
    for (const [name, v] of this.fuser.namedTrainableVariables) out.set(FUSER_PREFIX + name, v);
    return out;
  }

  /** Frame mask (B, T) from `inputs.mask` or `inputs.lengths`, or undefined when all frames are valid. */
  frameMask(inputs: R3DInputs): tf.Tensor2D | undefined {
    const [b, t] = inputs.rgb.shape as [number, number];
    if (inputs.mask) {
      if (inputs.mask.shape[0] !== b || inputs.mask.shape[1] !== t) throw new ModelConfigError('inputs.mask', `shape [${b}, ${t}]`, `[${inputs.mask.shape.join(', ')}]`);
      return inputs.mask;
    }
    if (!inputs.lengths) return undefined;
    if (inputs.lengths.length !== b) throw new ModelConfigError('inputs.lengths', `${b} lengths (one per item)`, inputs.lengths);
    const data = new Float32Array(b * t);
    inputs.lengths.forEach((len, i) => {
      if (!Number.isInteger(len) || len < 1 || len > t) throw new ModelConfigError(`inputs.lengths[${i}]`, `an integer in [1, ${t}]`, len);
      data.fill(1, i * t, i * t + len);
    });
    return tf.tensor2d(data, [b, t]);
  }

  /** Training mode, dropout rate and key masking of a pass, from its options. */
  private modeOf(options: ApplyOptions): { training: boolean; rate: number; useKeyMask: boolean } {
    const training = options.training ?? false;
    return { training, rate: (options.dropout ?? training) ? this.config.dropout : 0, useKeyMask: options.keyPaddingMask ?? training };
  }

  /** The pass up to the fuser, shared by `apply` and `fuserTokens` (inside their tidy and dropout seed). */
  private encodeAndFuse(inputs: R3DInputs, options: ApplyOptions) {
    if (this.disposed) throw new ModelConfigError('model', 'a model that was not disposed', 'disposed');
    const cfg = this.config;
    const { training, rate } = this.modeOf(options);
    if (inputs.rgb.rank !== 3) throw new ModelConfigError('inputs.rgb', `a (B, T, ${cfg.rgb.inputDim}) tensor`, `[${inputs.rgb.shape.join(', ')}]`);
    const [b, t] = inputs.rgb.shape as [number, number];
    if (inputs.partner.shape[0] !== b || inputs.partner.shape[1] !== t) {
      throw new ModelConfigError('inputs.partner', `the batch and frame axes of rgb [${b}, ${t}, ...]`, `[${inputs.partner.shape.join(', ')}]`);
    }
    if (t > cfg.maxPositions) throw new ModelConfigError('inputs.rgb', `at most maxPositions = ${cfg.maxPositions} frames`, t);
    const param = (name: string): tf.Tensor => this.param(name);
    const mask = this.frameMask(inputs);
    const rgb = encodeFrames(inputs.rgb, cfg.rgb, param, 'inputs.rgb');
    const partner = encodeFrames(inputs.partner, cfg.partner, param, 'inputs.partner');
    const validity = inputs.mask ? { mask: inputs.mask } : inputs.lengths ? { lengths: inputs.lengths } : {};
    const seed = options.seed == null ? {} : { seed: typeof options.seed === 'number' ? options.seed + 104_729 : { base: options.seed, offset: 104_729 } };
    const fuserOut = this.fuser.apply(rgb, partner, { training, dropout: rate > 0, ...seed, ...validity });
    return { b, t, mask, rgb, partner, fuserOut };
  }

  /**
   * The fuser's tokens of a pass that stops at the fuser: the same tensors, bit for bit, as
   * `apply(inputs, options).tokens`, without the decoder and heads. What an effective-rank
   * measurement needs (`tokenRanks` of `@r3d-ts/rtf-fuser`); the ablation measures its rank gains
   * this way over every test video at nine observation ratios.
   *
   * @example
   * const tokens = model.fuserTokens({ rgb, partner: depth, lengths });
   * tokenRanks(tokens, { lengths }).xAfter; tf.dispose(tokens);
   */
  fuserTokens(inputs: R3DInputs, options: ApplyOptions = {}): FuserTokens {
    return withDropoutSeed(options.seed, () => tf.tidy(() => {
      const { rgb, partner, fuserOut } = this.encodeAndFuse(inputs, options);
      const fused = isLateFusion(this.fuser) ? this.fuser.combine(fuserOut.fused) as tf.Tensor3D : fuserOut.fused;
      return tokensOf(rgb, partner, fuserOut, fused) as unknown as tf.TensorContainer;
    })) as unknown as FuserTokens;
  }

  /**
   * One forward pass. Evaluation (default) uses running BatchNorm statistics, no dropout and no
   * key padding mask, as the released evaluation script; `training: true` turns all three on.
   *
   * @example
   * const out = model.apply({ rgb, partner }, { training: false });
   * out.action.print(); tf.dispose(out);
   */
  apply(inputs: R3DInputs, options: ApplyOptions = {}): R3DOutputs {
    const cfg = this.config;
    const { rate, useKeyMask } = this.modeOf(options);
    return withDropoutSeed(options.seed, () => tf.tidy(() => {
      const param = (name: string): tf.Tensor => this.param(name);
      const { b, t, mask, rgb, partner, fuserOut } = this.encodeAndFuse(inputs, options);
      const fused = fuserOut.fused;
      // Late fusion stacks the streams along the batch: run the decoder on 2B items, then average.
      const late = isLateFusion(this.fuser);
      const rows = late ? 2 * b : b;
      if (fused.rank !== 3 || fused.shape[0] !== rows || fused.shape[1] !== t || fused.shape[2] !== cfg.hidden) {
        throw new ModelConfigError('fuser', `fused tokens of shape [${rows}, ${t}, ${cfg.hidden}]`, `[${fused.shape.join(', ')}]`);
      }
      const rowMask = mask && late ? (tf.concat([mask, mask], 0) as tf.Tensor2D) : mask;
      const keyBias = useKeyMask && rowMask ? (tf.mul(tf.sub(rowMask, 1), 1e9) as tf.Tensor2D) : undefined;
      const run: TransformerRunOptions = { heads: cfg.heads, dropout: rate, ...(keyBias ? { keyBias } : {}) };
      const pos = tf.reshape(tf.slice(param('pos_embedding'), [0, 0, 0], [1, t, cfg.hidden]), [1, t, cfg.hidden]);
      let memory = fused;
      for (let i = 0; i < cfg.encoderLayers; i++) memory = encoderLayer(memory, pos, param, `transformer.encoder.layers.${i}`, run);
      const memoryWithPos = tf.add(memory, pos) as tf.Tensor3D;
      const queryPos = param('query_embed.weight') as tf.Tensor2D;
      let tgt = tf.zeros([rows, cfg.numQueries, cfg.hidden]) as tf.Tensor3D;
      for (let i = 0; i < cfg.decoderLayers; i++) tgt = decoderLayer(tgt, memoryWithPos, queryPos, param, `transformer.decoder.layers.${i}`, run);
      let decoder = layerNorm(tgt, param('transformer.decoder.norm.weight') as tf.Tensor1D, param('transformer.decoder.norm.bias') as tf.Tensor1D) as tf.Tensor3D;
      const head = (x: tf.Tensor, name: string) => linear(x, param(`${name}.weight`) as tf.Tensor2D, param(`${name}.bias`) as tf.Tensor1D);
      let action = head(decoder, 'fc') as tf.Tensor3D;
      let duration = tf.reshape(head(decoder, 'fc_len'), [rows, cfg.numQueries]) as tf.Tensor2D;
      let segmentation = head(fused, 'fc_seg') as tf.Tensor3D;
      let fusedOut = fused;
      if (isLateFusion(this.fuser)) {
        // logits and log-durations of the two streams are averaged (a geometric mean of the probabilities)
        const combine = this.fuser.combine.bind(this.fuser);
        [action, duration, segmentation, decoder, fusedOut] = [action, duration, segmentation, decoder, fused].map((x) => combine(x)) as [
          tf.Tensor3D, tf.Tensor2D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D,
        ];
      }
      return { action, duration, segmentation, fused: fusedOut, decoder, tokens: tokensOf(rgb, partner, fuserOut, fusedOut) };
    }));
  }

  /**
   * Anticipates each item's future: an evaluation-mode forward pass, then the released decoding
   * (`decodeAnticipation`) into plain arrays: the actions up to the first NONE, each one's share
   * of the future window and its softmax confidence, and with `futureFrames` one label per future
   * frame. Reads back asynchronously after the pass and frees every tensor it made.
   *
   * @example
   * const [item] = await model.predict({ rgb, partner: depth }, { futureFrames: 150 });
   * item.actions; item.durations; item.frames; // [4, 9], [0.4, 0.6], Int32Array(150)
   */
  predict(inputs: R3DInputs, options: PredictOptions = {}): Promise<DecodedAnticipation[]> {
    return predictAnticipation(this, inputs, options);
  }

  /**
   * Saves the model as standard `tf.io` artefacts (see `modelArtifacts`: `model.json` with the
   * configuration in `userDefinedMetadata.r3d` and the weight manifest, plus one binary weight
   * file) through a `tf.io` handler or URL: `indexeddb://name`, `localstorage://name`,
   * `downloads://name` or `http(s)://` (a POST) in a browser; in Node, `fileSystem(path)` from
   * `@r3d-ts/r3d-model/node` (no tfjs-node needed). `load` reads any of them back.
   *
   * @example
   * await model.save('indexeddb://r3d-darai');
   * const again = await load('indexeddb://r3d-darai');
   */
  async save(handlerOrURL: string | tf.io.IOHandler): Promise<tf.io.SaveResult> {
    const handler = typeof handlerOrURL === 'string' ? saveHandlerFor(handlerOrURL) : handlerOrURL;
    if (handler == null || typeof handler.save !== 'function') throw new ModelConfigError('handler', 'a tf.io IOHandler with a save method', typeof handler);
    return handler.save(await modelArtifacts(this));
  }

  /** Names of every weight the model needs, its own and the fuser's (`fuser.` prefix). */
  weightNames(): string[] {
    return [...this.params.keys(), ...fuserWeightShapes(this.fuser).keys()];
  }

  /**
   * Copies of every weight by the authors' PyTorch name (own + `fuser.*`, running statistics
   * included, PyTorch layout), ready for export. The caller disposes them.
   */
  getWeights(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [name, v] of this.params) out.set(name, tf.clone(v));
    for (const [name, v] of this.fuser.getWeights()) out.set(FUSER_PREFIX + name, v);
    return out;
  }

  /**
   * Assigns weights by the authors' names, with or without the `module.` prefix of DataParallel
   * checkpoints. Shapes must match exactly; a required name that is absent throws a
   * `WeightImportError` listing all missing ones (unless `allowMissing`). Names the model does
   * not use (a bypassed encoder's layers, unused heads, counters) are reported, not fatal.
   *
   * @example
   * const { unused } = model.setWeights(readNpyFolder('ckpt/'), { source: 'ckpt/' });
   */
  setWeights(weights: Map<string, HostTensor | tf.Tensor>, options: { source?: string; allowMissing?: boolean } = {}): WeightLoadReport {
    const source = options.source ?? '<weights>';
    const byName = new Map<string, HostTensor | tf.Tensor>();
    for (const [raw, value] of weights) byName.set(raw.startsWith('module.') ? raw.slice('module.'.length) : raw, value);
    const fuserShapes = fuserWeightShapes(this.fuser);
    const required = [...this.params.keys(), ...fuserShapes.keys()];
    const missing = required.filter((n) => !byName.has(n));
    if (missing.length > 0 && !options.allowMissing) {
      throw new WeightImportError({
        file: source,
        expected: `every weight the model needs; ${missing.length} missing: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`,
        missing,
      });
    }
    const check = (name: string, want: readonly number[], value: HostTensor | tf.Tensor): void => {
      const size = want.reduce((a, n) => a * n, 1);
      const got = value.shape;
      const count = value instanceof tf.Tensor ? value.size : value.data.length;
      if (got.length !== want.length || got.some((n, i) => n !== want[i]) || count !== size) {
        throw new WeightImportError({ file: source, expected: `weight ${name} of shape [${want.join(', ')}]`, found: [...got] });
      }
    };
    const loaded: string[] = [];
    const unused: string[] = [];
    const fuserPart = new Map<string, HostTensor | tf.Tensor>();
    const assignments: Array<[tf.Variable, HostTensor | tf.Tensor]> = [];
    for (const [name, value] of byName) {
      const own = this.params.get(name);
      const fuserShape = fuserShapes.get(name);
      if (own) {
        check(name, own.shape, value);
        assignments.push([own, value]);
      } else if (fuserShape) {
        check(name, fuserShape, value);
        fuserPart.set(name.slice(FUSER_PREFIX.length), value);
      } else {
        unused.push(name);
        continue;
      }
      loaded.push(name);
    }
    // every shape was checked first, so a bad file leaves the model untouched
    for (const [v, value] of assignments) {
      tf.tidy(() => v.assign(value instanceof tf.Tensor ? tf.cast(value, 'float32') : tf.tensor(Float32Array.from(value.data), v.shape, 'float32')));
    }
    if (fuserPart.size > 0) this.fuser.setWeights(fuserPart);
    return { loaded, unused };
  }

  /** Frees every variable of the model and its fuser (a fuser Layer: one reference of it, as `Layer.dispose`). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
    // a Layer that also sits in a graph of yours keeps its weights until that graph lets go of it
    if (this.fuserLayer && this.fuserLayer.dispose().refCountAfterDispose > 0) return;
    this.fuser.dispose();
  }
}

let nextId = 0;

function saveHandlerFor(url: string): tf.io.IOHandler {
  const handlers = tf.io.getSaveHandlers(url);
  if (handlers.length === 1) return handlers[0]!;
  if (handlers.length > 1) throw new ModelConfigError('save', `one tf.io save handler for ${url}`, `${handlers.length}`);
  throw new ModelConfigError(
    'save',
    "a URL a tf.io save handler is registered for (indexeddb://, localstorage://, downloads:// or http(s):// in a browser), or an IOHandler: in Node, fileSystem(path) from '@r3d-ts/r3d-model/node'",
    url,
  );
}


/**
 * Builds an R3D model from a (partial) configuration, synchronously. Its fuser is the configured
 * functional fuser of `@r3d-ts/rtf-fuser`, or `options.fuser`: a functional fuser, or a fuser
 * Layer of `@r3d-ts/rtf-fuser/layers` (built here to the model's width when it is not yet). A
 * Layer runs the same functional fuser on its own weights, so for the same configuration and seed
 * both give the same weights and bit-identical outputs; `buildR3DModel` builds the Layer for you.
 *
 * @example
 * const model = createR3DModel({ numClasses: 20, partner: depthEncoder(120, 160), fuser: { name: 'rtf' } });
 * const withLayer = createR3DModel({ numClasses: 20 }, { fuser: new RTFuserLayer({ ratio: 0.1, seed: 0 }) });
 */
export function createR3DModel(config: R3DConfigInput, options: { fuser?: Fuser | FuserLayer } = {}): R3DModel {
  const resolved = resolveConfig(config);
  const given = options.fuser;
  if (isFuserLayer(given)) given.buildFor(resolved.hidden);
  const fuser = given ?? buildFuser(resolved.fuser, resolved.hidden, resolved.seed);
  const channels = isFuserLayer(fuser) ? fuser.fuser.channels : fuser.channels;
  if (channels !== resolved.hidden) throw new ModelConfigError('fuser.channels', `the model's hidden width ${resolved.hidden}`, channels);
  return new R3DModel(resolved, fuser);
}

/**
 * Builds an R3D model whose fuser is the configured fuser as a `tf.layers.Layer`
 * (`model.fuserLayer`, from `@r3d-ts/rtf-fuser/layers`, imported on the first call: it needs
 * `@tensorflow/tfjs-layers`, whose first import registers tfjs-core's gradients). Weights and
 * outputs are those of `createR3DModel` for the same configuration, bit for bit.
 *
 * @example
 * const model = await buildR3DModel({ numClasses: 20, partner: depthEncoder(120, 160) });
 * model.fuserLayer; // an RTFuserLayer holding the fuser's weights
 */
export async function buildR3DModel(config: R3DConfigInput): Promise<R3DModel> {
  const layers = await importFuserLayers();
  const resolved = resolveConfig(config);
  return createR3DModel(resolved, { fuser: buildFuserLayer(layers, resolved.fuser, resolved.hidden, resolved.seed) });
}
