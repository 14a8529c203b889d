/**
 * Pixel normalisations a model may expect, applied to RGB in [0, 1] (`normalisePixels` in
 * extractors.ts). A module of its own so that the command line lists them without loading the
 * extractors and TensorFlow.js.
 *
 * @example
 * NORMALISATIONS.includes('imagenet'); // true
 */
export const NORMALISATIONS = ['0-1', '-1-1', '0-255', 'imagenet'] as const;
export type Normalisation = (typeof NORMALISATIONS)[number];
