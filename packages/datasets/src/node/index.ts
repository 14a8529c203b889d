export { readFeatureNpy, readDepthNpy, readEmbeddingsNpy, readRgbFrame, readPhraseFile, readTimeSeriesCsv } from './readers.js';
export { numberedFiles } from './files.js';
export { decodeImage, decodeRgbFrame, decodeDepthPng } from '../modalities/image.js';
export type { RawImage, DecodeImageOptions } from '../modalities/image.js';
export { checkFutrDataset } from '../futr/check.js';
export type { DatasetCheckOptions, DatasetCheckReport, DatasetProblem, ProblemSeverity } from '../futr/check.js';
export { formatCheckReport } from '../futr/check-report.js';
