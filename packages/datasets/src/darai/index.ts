export { parseAnnotationCsv, parseAnnotationFileName, labelSegments, daraiSplit, DARAI_SPLITS } from './annotations.js';
export type { DaraiSegment, DaraiRecordingName } from './annotations.js';
export { DaraiDataset } from './dataset.js';
export type { DaraiOptions } from './dataset.js';
