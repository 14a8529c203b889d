export { runConfigSchema, dataConfigSchema, parseRunConfig, loadRunConfig } from './config.js';
export type { RunConfig, RunConfigInput, DataConfig } from './config.js';
export { prepareRun } from './setup.js';
export type { PreparedRun } from './setup.js';
