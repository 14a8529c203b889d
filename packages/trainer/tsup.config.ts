import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig([
  packageConfig(),
  // the `r3d` bin: ESM only (it uses top-level await), no typings
  packageConfig({ entry: { cli: 'src/cli.ts' }, format: ['esm'], dts: false, clean: false }),
]);
