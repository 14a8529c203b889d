import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// The gradient configs of tfjs-core ship only as extensionless ESM: bundle them (see src/gradients.ts).
export default defineConfig(packageConfig({ noExternal: [/^@tensorflow\/tfjs-core\/dist\//] }));
