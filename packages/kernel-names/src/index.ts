export { R3DAdamW, R3DDropoutMultiplier, R3DGelu, R3DGeluGrad, R3DLayerNorm, R3DLayerNormGrad, R3DLinearNormRelu } from './kernel-names.js';
export type {
  R3DAdamWAttrs,
  R3DAdamWInputs,
  R3DDropoutMultiplierAttrs,
  R3DDropoutMultiplierInputs,
  R3DGeluGradInputs,
  R3DGeluInputs,
  R3DLayerNormAttrs,
  R3DLayerNormGradInputs,
  R3DLayerNormInputs,
  R3DLinearNormReluAttrs,
  R3DLinearNormReluInputs,
} from './kernel-names.js';
