export { registerGradients } from './gradients.js';
export { selectBackend, describeBackend } from './select-backend.js';
export type { BackendReport, SelectBackendOptions } from './select-backend.js';
export { defaultCandidates } from './candidates.js';
export type { BackendCandidate } from './candidates.js';
export { BackendUnavailableError } from './errors.js';
export { silenceNodeBanner } from './node-banner.js';
export { registerDropoutKernel, dropoutMultiplier } from './dropout-kernel.js';
