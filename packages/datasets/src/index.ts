export { DatasetFormatError } from './errors.js';
export { parseNpy, readNpy, encodeNpy, writeNpy } from './npy.js';
export type { NpyArray, NpyData, NpyDtype } from './npy.js';
