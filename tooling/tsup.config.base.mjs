/**
 * The one tsup configuration every package publishes with: ESM (`.mjs`) + CJS (`.cjs`) + typings
 * for both (`.d.mts` / `.d.cts`), so `import` and `require` resolve their own types.
 * Plain JavaScript because tsup loads configs of dependencies with Node itself.
 *
 * @example
 * // packages/foo/tsup.config.ts
 * import { packageConfig } from '@r3d-ts/tooling/tsup';
 * export default packageConfig({ entry: ['src/index.ts'] });
 *
 * @param {import('tsup').Options} [overrides]
 * @returns {import('tsup').Options}
 */
export function packageConfig(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.mjs' }),
    ...overrides,
  };
}
