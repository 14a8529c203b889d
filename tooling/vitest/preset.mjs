import { availableParallelism } from 'node:os';

/**
 * Shared vitest settings: tests live beside the code as `src/**\/*.test.ts`, run in forked
 * processes (TensorFlow.js keeps global backend state per process), with generous timeouts for
 * numeric suites on a 2-core CI machine, and at least two test files at a time: vitest's default
 * (cores - 1) runs one file at a time on two cores, while most files spend much of their time on a
 * single thread or waiting for a child process (28-32% off rtf-fuser, r3d-model and trainer). A
 * package whose tests time themselves or count idle cores runs them alone (`fileParallelism:
 * false`, or a project of its own with `maxWorkers: 1` as the ablation's planted self-check).
 * wasm runs on one thread in tests (`R3D_WASM_THREADS=1` unless set).
 *
 * @example
 * // packages/foo/vitest.config.ts
 * import { defineConfig } from 'vitest/config';
 * import { preset } from '@r3d-ts/tooling/vitest';
 * export default defineConfig(preset());
 *
 * @param {import('vitest/config').ViteUserConfig['test']} [overrides]
 * @returns {import('vitest/config').ViteUserConfig}
 */
export function preset(overrides = {}) {
  return {
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      pool: 'forks',
      maxWorkers: Math.max(2, availableParallelism() - 1),
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...overrides,
      // wasm on its single-threaded binary: two test files run at once, and starting the threaded
      // one costs ~0.3 s a process (its own tests set the variable for the processes they start)
      env: { R3D_WASM_THREADS: process.env.R3D_WASM_THREADS ?? '1', ...overrides.env },
    },
  };
}
