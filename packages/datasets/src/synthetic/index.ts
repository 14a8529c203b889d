export { SyntheticDataset } from './dataset.js';
export type { SyntheticOptions } from './dataset.js';
export { SYNTHETIC_ACTIONS, simulateEpisode } from './world.js';
export type { ActionGrammar, SyntheticAction, Episode, WorldState } from './world.js';
export { renderFrame, cameraRays } from './render.js';
export type { Camera, Primitive } from './render.js';
export { PLANTED_PARTNERS, PLANTED_DIMS, INTENT_DIM, PHASE_HARMONICS, intentFeatures, informativeFeatures, luminanceThumbnails, noiseFeatures } from './planted.js';
export type { PlantedPartner } from './planted.js';
