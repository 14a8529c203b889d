import { defineConfig } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

// One fork runs the blocks in file order: each block is its own child process already, and a
// 2-core machine gains nothing from running two TensorFlow.js examples at once.
export default defineConfig(preset({ testTimeout: 180_000, fileParallelism: false }));
