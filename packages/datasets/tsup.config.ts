import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

export default defineConfig(
  packageConfig({
    entry: {
      index: 'src/index.ts',
      ntu: 'src/ntu/index.ts',
      utkinect: 'src/utkinect/index.ts',
      darai: 'src/darai/index.ts',
      futr: 'src/futr/index.ts',
      synthetic: 'src/synthetic/index.ts',
      node: 'src/node/index.ts',
    },
    // the subpaths share the main entry's modules through chunks, so an error class is one class:
    // `instanceof DatasetFormatError` holds for what `./node` and the dataset classes throw.
    splitting: true,
  }),
);
