import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// The library in ESM + CJS; the CLI (top-level await, ESM-only vega) and the cell worker process in ESM alone.
export default defineConfig([packageConfig({ clean: false }), packageConfig({ entry: ['src/cli.ts', 'src/cell-worker.ts'], format: ['esm'], dts: false, clean: false, splitting: true })]);
