import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// The library in ESM + CJS; the `r3d` bin (top-level await) in ESM alone.
export default defineConfig([packageConfig({ clean: false }), packageConfig({ entry: ['src/cli.ts'], format: ['esm'], dts: false, clean: false, splitting: true })]);
