import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig(
  packageConfig({
    entry: {
      index: 'src/index.ts',
      node: 'src/node/index.ts',
    },
    // `./node` shares the main entry's modules through chunks, so what its `load` returns is an
    // `R3DModel` of the main entry and its errors are the main entry's classes.
    splitting: true,
  }),
);
