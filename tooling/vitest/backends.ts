/**
 * The TensorFlow.js backends every tf-dependent suite runs on (the per-backend test matrix, as
 * tfjs's own `describeWithFlags(ALL_ENVS)`). `R3D_TEST_BACKENDS=cpu,wasm` narrows or widens it.
 *
 * @example
 * describe.each(testBackends())('on %s', (name) => { beforeAll(() => useBackend(name)); ... });
 */
export function testBackends(): string[] {
  const fromEnv = process.env.R3D_TEST_BACKENDS;
  if (fromEnv) return fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
  return ['cpu', 'wasm'];
}
