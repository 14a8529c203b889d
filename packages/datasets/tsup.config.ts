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
    },
  }),
);
