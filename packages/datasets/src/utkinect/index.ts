export { parseActionLabels, labelFrames, UTK_ACTIONS } from './labels.js';
export type { UtkRange, UtkSession } from './labels.js';
export { parseDepthXml, readDepthXml } from './depth-xml.js';
export { UtkinectDataset } from './dataset.js';
export type { UtkinectOptions } from './dataset.js';
