// tfjs-core's own entry registers no gradients (the @tensorflow/tfjs union package does); the
// fuser trains, so register them here. The registry is global, shared by every copy of core.
// That file of tfjs-core is ESM with extensionless imports, which plain `node` cannot load, so
// tsup.config.ts bundles it into dist (about 300 KB) and package.json marks this file as having
// side effects so that the import survives tree-shaking.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
