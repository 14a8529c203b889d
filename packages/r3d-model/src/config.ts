import { ModelConfigError } from './errors.js';

/**
 * One per-frame encoder: Linear(inputDim, C), then LayerNorm(C) when `layerNorm`, then ReLU.
 * `frameShape` [H, W] makes the encoder take (B, T, H, W) frames and flatten them row-major
 * (index h*W + w), as the released depth encoder does. Names are the PyTorch state_dict names.
 */
export interface EncoderConfig {
  inputDim: number;
  layerNorm: boolean;
  frameShape?: [number, number];
  /** state_dict name of the Linear (e.g. `input_embed`, `depth_projection`). */
  linearName: string;
  /** state_dict name of the LayerNorm (e.g. `depth_layernorm`), when `layerNorm`. */
  layerNormName?: string;
}

/** The fuser to build by name from `@r3d-ts/rtf-fuser` (`createFuser(name, options)`). */
export interface FuserSpec {
  name: string;
  options?: Record<string, unknown>;
}

/** Everything that fixes the model's shapes and wiring. `resolveConfig` fills the defaults. */
export interface R3DConfig {
  /** Action classes including NONE (the class that ends a transcript). */
  numClasses: number;
  /** Index of NONE (default numClasses - 1). */
  noneIndex: number;
  /** Padding index in labels and targets (default numClasses + 1, as the released loader). */
  padIndex: number;
  /** Labels the losses ignore besides padding (default [47, -1]: the released UNDEFINED class, and -1, UNDEFINED in @r3d-ts/datasets). */
  ignoreIndices: number[];
  /** Token channels C (128). */
  hidden: number;
  /** Attention heads of the decoder and optional encoder layers (8). */
  heads: number;
  /** Learned action queries (8). */
  numQueries: number;
  /** FFN width of decoder/encoder layers (512). */
  ffnDim: number;
  /** Rows of the learned positional embedding (2000). */
  maxPositions: number;
  /** Transformer encoder layers on the fused tokens; 0 = bypassed, as released. */
  encoderLayers: number;
  /** Post-LN decoder layers (1 as released). */
  decoderLayers: number;
  /** Dropout in training (0.1). */
  dropout: number;
  rgb: EncoderConfig;
  partner: EncoderConfig;
  fuser: FuserSpec;
  /** Seed of the initialisers. */
  seed: number;
}

export type R3DConfigInput = Partial<Omit<R3DConfig, 'numClasses'>> & { numClasses: number };

/**
 * The released RGB encoder: Linear(inputDim, C) -> ReLU, named `input_embed`.
 *
 * @example
 * rgbEncoder(2048) // { inputDim: 2048, layerNorm: false, linearName: 'input_embed' }
 */
export function rgbEncoder(inputDim = 2048): EncoderConfig {
  return { inputDim, layerNorm: false, linearName: 'input_embed' };
}

/**
 * The released depth encoder: a (H, W) frame flattened row-major -> Linear(H*W, C) ->
 * LayerNorm -> ReLU, named `depth_projection` / `depth_layernorm`.
 *
 * @example
 * depthEncoder(120, 160) // inputDim 19200
 */
export function depthEncoder(height = 120, width = 160): EncoderConfig {
  return { inputDim: height * width, frameShape: [height, width], layerNorm: true, linearName: 'depth_projection', layerNormName: 'depth_layernorm' };
}

/**
 * A partner given as one vector per frame (text embedding, IMU window): Linear -> LayerNorm ->
 * ReLU, named `<name>_projection` / `<name>_layernorm`.
 *
 * @example
 * vectorEncoder(768, 'text') // linearName 'text_projection'
 */
export function vectorEncoder(inputDim: number, name = 'partner'): EncoderConfig {
  return { inputDim, layerNorm: true, linearName: `${name}_projection`, layerNormName: `${name}_layernorm` };
}

function positiveInt(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new ModelConfigError(field, 'a positive integer', value);
}

function checkEncoder(field: string, e: EncoderConfig): void {
  if (e == null || typeof e !== 'object') throw new ModelConfigError(field, 'an encoder config (rgbEncoder(), depthEncoder(h, w), vectorEncoder(d))', e);
  positiveInt(`${field}.inputDim`, e.inputDim);
  if (e.frameShape) {
    const [h, w] = e.frameShape;
    positiveInt(`${field}.frameShape[0]`, h);
    positiveInt(`${field}.frameShape[1]`, w);
    if (h * w !== e.inputDim) throw new ModelConfigError(`${field}.inputDim`, `frameShape[0] * frameShape[1] = ${h * w}`, e.inputDim);
  }
  if (typeof e.linearName !== 'string' || e.linearName === '') throw new ModelConfigError(`${field}.linearName`, 'a state_dict name', e.linearName);
  if (e.layerNorm && (typeof e.layerNormName !== 'string' || e.layerNormName === '')) {
    throw new ModelConfigError(`${field}.layerNormName`, 'a state_dict name when layerNorm is true', e.layerNormName);
  }
}

/**
 * Fills the released defaults (C 128, 8 heads, 8 queries, FFN 512, 2000 positions, encoder
 * bypassed, one decoder layer, dropout 0.1, RGB 2048 + depth 120x160, fuser `rtf`) and checks
 * every field, throwing a `ModelConfigError` that names the bad one.
 *
 * @example
 * const config = resolveConfig({ numClasses: 20, partner: depthEncoder(120, 160) });
 */
export function resolveConfig(input: R3DConfigInput): R3DConfig {
  if (input == null || typeof input !== 'object') throw new ModelConfigError('config', 'an object with at least numClasses', input);
  positiveInt('numClasses', input.numClasses);
  const numClasses = input.numClasses;
  const config: R3DConfig = {
    numClasses,
    noneIndex: input.noneIndex ?? numClasses - 1,
    padIndex: input.padIndex ?? numClasses + 1,
    ignoreIndices: input.ignoreIndices ?? [47, -1],
    hidden: input.hidden ?? 128,
    heads: input.heads ?? 8,
    numQueries: input.numQueries ?? 8,
    ffnDim: input.ffnDim ?? 512,
    maxPositions: input.maxPositions ?? 2000,
    encoderLayers: input.encoderLayers ?? 0,
    decoderLayers: input.decoderLayers ?? 1,
    dropout: input.dropout ?? 0.1,
    rgb: input.rgb ?? rgbEncoder(),
    partner: input.partner ?? depthEncoder(),
    fuser: input.fuser ?? { name: 'rtf' },
    seed: input.seed ?? 1,
  };
  for (const f of ['hidden', 'heads', 'numQueries', 'ffnDim', 'maxPositions', 'decoderLayers'] as const) positiveInt(f, config[f]);
  if (!Number.isInteger(config.encoderLayers) || config.encoderLayers < 0) throw new ModelConfigError('encoderLayers', 'an integer >= 0', config.encoderLayers);
  if (config.hidden % config.heads !== 0) throw new ModelConfigError('heads', `a divisor of hidden (${config.hidden})`, config.heads);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new ModelConfigError('dropout', 'a rate in [0, 1)', config.dropout);
  if (!Number.isInteger(config.noneIndex) || config.noneIndex < 0 || config.noneIndex >= numClasses) {
    throw new ModelConfigError('noneIndex', `an integer in [0, ${numClasses})`, config.noneIndex);
  }
  if (!Number.isInteger(config.padIndex) || (config.padIndex >= 0 && config.padIndex < numClasses)) {
    throw new ModelConfigError('padIndex', `an integer outside the classes [0, ${numClasses})`, config.padIndex);
  }
  checkEncoder('rgb', config.rgb);
  checkEncoder('partner', config.partner);
  if (config.rgb.linearName === config.partner.linearName) throw new ModelConfigError('partner.linearName', 'a name different from rgb.linearName', config.partner.linearName);
  if (config.fuser == null || typeof config.fuser.name !== 'string') throw new ModelConfigError('fuser', "{ name: string, options? } (e.g. { name: 'rtf' })", config.fuser);
  return config;
}
