export { AdamW, clipByGlobalNorm } from './adamw.js';
export type { AdamWOptions, AdamWState } from './adamw.js';
