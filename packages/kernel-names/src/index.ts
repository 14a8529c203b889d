export { R3DAdamW, R3DGelu, R3DLayerNorm, R3DLinearNormRelu } from './kernel-names.js';
export type {
  R3DAdamWAttrs,
  R3DAdamWInputs,
  R3DGeluInputs,
  R3DLayerNormAttrs,
  R3DLayerNormInputs,
  R3DLinearNormReluAttrs,
  R3DLinearNormReluInputs,
} from './kernel-names.js';
