import { defineConfig } from 'vitest/config';
import { preset } from '@r3d-ts/tooling/vitest';

// Two files at once (the slowest READMEs and the rest; src/readme-examples.ts has the figures):
// each block is a child process that spends much of its time starting Node and loading
// TensorFlow.js on one thread.
export default defineConfig(preset({ testTimeout: 180_000 }));
