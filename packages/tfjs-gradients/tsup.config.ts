import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// tfjs-core ships its gradient registrations only as extensionless ESM that plain Node cannot
// load: bundle that file (and the core modules it reaches) into this package's dist. The
// gradient registry and the engine live on the global object, so the bundled registrations serve
// the one real @tensorflow/tfjs-core of the install.
export default defineConfig(packageConfig({ noExternal: [/^@tensorflow\/tfjs-core\/dist\//] }));
