import * as tf from '@tensorflow/tfjs-core';
import type { EncoderConfig, R3DConfig } from './config.js';

type Init = 'zeros' | 'ones' | 'normal' | 'xavier' | { uniform: number };

/** One trainable tensor of the model, by its PyTorch state_dict name. */
export interface ParamSpec {
  name: string;
  shape: number[];
  init: Init;
}

function linearSpecs(name: string, out: number, inDim: number, xavier = false): ParamSpec[] {
  const bound = 1 / Math.sqrt(inDim); // nn.Linear's default kaiming-uniform(a = sqrt 5) bound
  return [
    { name: `${name}.weight`, shape: [out, inDim], init: xavier ? 'xavier' : { uniform: bound } },
    { name: `${name}.bias`, shape: [out], init: { uniform: bound } },
  ];
}

function normSpecs(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.weight`, shape: [c], init: 'ones' },
    { name: `${name}.bias`, shape: [c], init: 'zeros' },
  ];
}

function attentionSpecs(name: string, c: number): ParamSpec[] {
  return [
    { name: `${name}.in_proj_weight`, shape: [3 * c, c], init: 'xavier' },
    { name: `${name}.in_proj_bias`, shape: [3 * c], init: 'zeros' },
    { name: `${name}.out_proj.weight`, shape: [c, c], init: 'xavier' },
    { name: `${name}.out_proj.bias`, shape: [c], init: 'zeros' },
  ];
}

function encoderSpecs(e: EncoderConfig, c: number): ParamSpec[] {
  const specs = linearSpecs(e.linearName, c, e.inputDim);
  if (e.layerNorm) specs.push(...normSpecs(e.layerNormName!, c));
  return specs;
}

/**
 * Every parameter outside the fuser, in the authors' state_dict order and naming, with the
 * initialisers PyTorch/DETR use (xavier for the transformer's matrices, default Linear bounds,
 * unit-normal queries and positions).
 */
export function modelParamSpecs(config: R3DConfig): ParamSpec[] {
  const c = config.hidden;
  const specs: ParamSpec[] = [{ name: 'pos_embedding', shape: [1, config.maxPositions, c], init: 'normal' }];
  specs.push(...encoderSpecs(config.rgb, c));
  for (let i = 0; i < config.encoderLayers; i++) {
    const p = `transformer.encoder.layers.${i}`;
    specs.push(...attentionSpecs(`${p}.self_attn`, c));
    specs.push(...linearSpecs(`${p}.linear1`, config.ffnDim, c, true), ...linearSpecs(`${p}.linear2`, c, config.ffnDim, true));
    specs.push(...normSpecs(`${p}.norm1`, c), ...normSpecs(`${p}.norm2`, c));
  }
  for (let i = 0; i < config.decoderLayers; i++) {
    const p = `transformer.decoder.layers.${i}`;
    specs.push(...attentionSpecs(`${p}.self_attn`, c), ...attentionSpecs(`${p}.multihead_attn`, c));
    specs.push(...linearSpecs(`${p}.linear1`, config.ffnDim, c, true), ...linearSpecs(`${p}.linear2`, c, config.ffnDim, true));
    specs.push(...normSpecs(`${p}.norm1`, c), ...normSpecs(`${p}.norm2`, c), ...normSpecs(`${p}.norm3`, c));
  }
  specs.push(...normSpecs('transformer.decoder.norm', c));
  specs.push({ name: 'query_embed.weight', shape: [config.numQueries, c], init: 'normal' });
  specs.push(...linearSpecs('fc_seg', config.numClasses, c));
  specs.push(...linearSpecs('fc', config.numClasses, c));
  specs.push(...linearSpecs('fc_len', 1, c));
  specs.push(...encoderSpecs(config.partner, c));
  return specs;
}

/** Creates the initial value of one parameter (deterministic in `seed`). */
export function initialValue(spec: ParamSpec, seed: number): tf.Tensor {
  const { shape, init } = spec;
  if (init === 'zeros') return tf.zeros(shape);
  if (init === 'ones') return tf.ones(shape);
  if (init === 'normal') return tf.randomNormal(shape, 0, 1, 'float32', seed);
  if (init === 'xavier') {
    const bound = Math.sqrt(6 / (shape[0]! + shape[1]!));
    return tf.randomUniform(shape, -bound, bound, 'float32', seed);
  }
  return tf.randomUniform(shape, -init.uniform, init.uniform, 'float32', seed);
}
