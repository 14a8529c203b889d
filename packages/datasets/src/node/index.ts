export { readFeatureNpy, readDepthNpy, readEmbeddingsNpy, readRgbFrame, readPhraseFile, readTimeSeriesCsv } from './readers.js';
export { numberedFiles } from './files.js';
export { decodeImage, decodeRgbFrame, decodeDepthPng } from '../modalities/image.js';
export type { RawImage, DecodeImageOptions } from '../modalities/image.js';
