import { defineConfig } from 'tsup';
import { packageConfig } from '@r3d-ts/tooling/tsup';

// `.` is browser-safe (bytes in, bytes out); `./node` adds the file writer. Splitting puts the
// shared code in one chunk, so both entries share one EventFileError class.
export default defineConfig(packageConfig({ entry: { index: 'src/index.ts', node: 'src/node.ts' }, splitting: true }));
