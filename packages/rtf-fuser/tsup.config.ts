import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig(
  packageConfig({
    entry: {
      index: 'src/index.ts',
      layers: 'src/layers/index.ts',
    },
    // `./layers` shares the main entry's modules through chunks (ESM and CJS) rather than carrying
    // its own copies, so a Layer's fuser is the main entry's class (`instanceof`, `FuserError`).
    splitting: true,
  }),
);
