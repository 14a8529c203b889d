export { R3DAdamW, R3DGelu, R3DLayerNorm } from './kernel-names.js';
export type { R3DAdamWAttrs, R3DAdamWInputs, R3DGeluInputs, R3DLayerNormAttrs, R3DLayerNormInputs } from './kernel-names.js';
