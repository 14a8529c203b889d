// Gradients come from @r3d-ts/tfjs-gradients (tfjs-core's own entry registers none), so that
// selecting a backend is enough for training to work in plain Node.
export { registerGradients } from '@r3d-ts/tfjs-gradients';
