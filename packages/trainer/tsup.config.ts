import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig(
  packageConfig({
    entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
    // `./cli` shares the main entry's modules through chunks, so an error class is one class
    // (`instanceof NonFiniteLossError` in runCli holds for what `train` throws).
    splitting: true,
  }),
);
