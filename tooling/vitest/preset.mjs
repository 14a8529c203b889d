/**
 * Shared vitest settings: tests live beside the code as `src/**\/*.test.ts`, run in forked
 * processes (TensorFlow.js keeps global backend state per process), with generous timeouts for
 * numeric suites on a 2-core CI machine.
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
      testTimeout: 120_000,
      hookTimeout: 120_000,
      ...overrides,
    },
  };
}
