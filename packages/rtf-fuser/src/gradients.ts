// tfjs-core's own entry registers no gradients (the @tensorflow/tfjs union package does); the
// fuser trains, so register them here. The registry is global, shared by every copy of core.
// Caveat: this file of tfjs-core is ESM with extensionless imports: bundlers, vitest and tsx load
// it, plain `node` on the built dist does not (load @tensorflow/tfjs first there).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
