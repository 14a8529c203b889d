import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// tfjs-core's gradient registration is an ESM file with extensionless imports that plain Node
// cannot load; bundling it makes the built package register gradients under node, bundlers and tsx.
export default defineConfig(packageConfig({ noExternal: [/^@tensorflow\/tfjs-core\/dist\/register_all_gradients/] }));
