export { parseMapping, parseGroundTruth, parseSplit, labelIndices, UNDEFINED_NAMES } from './layout.js';
export type { GroundTruth } from './layout.js';
export { FutrDataset, FUTR_FOLDERS } from './dataset.js';
export type { FutrOptions, FutrModality } from './dataset.js';
