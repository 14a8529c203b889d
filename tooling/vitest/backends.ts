import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the workspace's @r3d-ts/native-blas keeps its addon and build record. */
const nativeBlasRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'native-blas');

/**
 * Why `native-blas` cannot join the matrix, or undefined when its addon loads. The addon is loaded
 * here (a plain `require` of the .node file) so a broken build is caught before any suite runs.
 */
export function nativeBlasProblem(root = nativeBlasRoot): string | undefined {
  if (!existsSync(join(root, 'package.json'))) return 'packages/native-blas is not in this checkout';
  const addon = join(root, 'build', 'Release', 'r3d_blas.node');
  if (!existsSync(addon)) {
    try {
      const status = JSON.parse(readFileSync(join(root, 'build', 'addon-status.json'), 'utf8')) as { reason?: string };
      return `addon not built: ${status.reason ?? 'no reason recorded'}`;
    } catch {
      return 'addon not built (no build record: was `pnpm install` run with scripts enabled?)';
    }
  }
  try {
    createRequire(import.meta.url)(addon);
    return undefined;
  } catch (err) {
    return `addon failed to load: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  }
}

/**
 * The TensorFlow.js backends every tf-dependent suite runs on (the per-backend test matrix, as
 * tfjs's own `describeWithFlags(ALL_ENVS)`): cpu and wasm, plus native-blas when its OpenBLAS addon
 * loads. Under CI=true native-blas is always in the matrix, so an addon that should have built
 * (CI installs libopenblas-dev) fails its suites loudly instead of silently shrinking the matrix;
 * `R3D_NATIVE_BLAS_OPTIONAL=1` relaxes that. `R3D_TEST_BACKENDS=cpu,wasm` overrides it all.
 *
 * @example
 * describe.each(testBackends())('on %s', (name) => { beforeAll(() => useBackend(name)); ... });
 */
export function testBackends(): string[] {
  const fromEnv = process.env.R3D_TEST_BACKENDS;
  if (fromEnv) return fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
  const backends = ['cpu', 'wasm'];
  const ciDemandsIt = process.env.CI === 'true' && process.env.R3D_NATIVE_BLAS_OPTIONAL !== '1';
  const problem = nativeBlasProblem();
  if (problem === undefined || ciDemandsIt) {
    if (problem !== undefined) console.warn(`testBackends: native-blas stays in the CI matrix although ${problem}`);
    backends.push('native-blas');
  }
  return backends;
}
