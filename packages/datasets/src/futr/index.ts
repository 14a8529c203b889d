export { parseMapping, parseGroundTruth, parseSplit, labelIndices, UNDEFINED_NAMES } from './layout.js';
export type { GroundTruth } from './layout.js';
export { FutrDataset } from './dataset.js';
export type { FutrOptions } from './dataset.js';
