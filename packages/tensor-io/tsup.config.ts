import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig(
  packageConfig({
    entry: {
      index: 'src/index.ts',
      node: 'src/node/index.ts',
    },
    // `./node` shares the main entry's modules through chunks (in both ESM and CJS) instead of
    // carrying its own copies, so an error class is one class: `instanceof SafetensorsFormatError`
    // holds for what `readSafetensors` throws.
    splitting: true,
  }),
);
