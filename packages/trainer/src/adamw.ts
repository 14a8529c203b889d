// The optimiser lives in @r3d-ts/optim so that benches of lower packages (r3d-model's) can run
// the trainer's exact update without depending on the trainer; re-exported here unchanged.
export { AdamW, clipByGlobalNorm } from '@r3d-ts/optim';
export type { AdamWOptions, AdamWState } from '@r3d-ts/optim';
