import { spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashTree } from '@r3d-ts/tooling/vitest/hash-tree';
import { testBackends } from '@r3d-ts/tooling/vitest/backends';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIS, cliEnv, expectUserError, runPiped, type Outcome } from './commands.js';
import { futrData, futrLayout, matrixNpy, r3dConfig, removeTempDirs, tempDir, TINY_SYNTHETIC } from './inputs.js';

// Class 17's "backends other than wasm": the cases where the backend's own code runs (training
// steps, checkpoint writes and reads, a stop between two steps, a diverging loss) on every backend
// of the test matrix (cpu, wasm, native-blas; CI always includes native-blas), through the built
// `r3d` command as a user runs it.
afterAll(removeTempDirs);

/** Runs `r3d train` and, when `stopAtStep` is given, sends `signal` once that step is logged. */
function train(args: string[], backend: string, stop?: { step: number; signal: NodeJS.Signals }): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLIS.r3d, 'train', '--no-progress', '--backend', backend, ...args], { env: cliEnv({ R3D_BACKEND: backend }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString('utf8');
    if (!stop || sent) return;
    for (const line of stdout.split('\n').slice(0, -1)) {
      const record = JSON.parse(line) as { globalStep?: number };
      if ((record.globalStep ?? 0) >= stop.step) {
        sent = true;
        child.kill(stop.signal);
        break;
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started })));
}

const weights = (run: string, which = 'last') => readFileSync(join(run, which, 'weights.safetensors'));

describe.each(testBackends())('r3d train on %s', (backend) => {
  // 10 synthetic videos, 2 epochs of a few steps: enough for a stop between steps, a resume and a
  // validation split to evaluate.
  const dir = tempDir(`be-${backend}`);
  const config = r3dConfig(dir, { ...TINY_SYNTHETIC, count: 10 }, { backend, epochs: 2, seed: 11 });
  const straight = join(dir, 'straight');
  let straightRun: Promise<Outcome> | undefined;
  const straightOnce = () => (straightRun ??= train(['-c', config, '--out', straight], backend));

  it('SIGTERM between steps: exit 143 with a usable last/, and --resume ends on the uninterrupted weights, bit for bit', async () => {
    const stopped = join(dir, 'stopped');
    const first = await train(['-c', config, '--out', stopped, '--log-steps'], backend, { step: 2, signal: 'SIGTERM' });
    expect(first.status, first.stderr).toBe(143);
    const resumed = await train(['-c', config, '--out', stopped, '--resume'], backend);
    expect(resumed.status, resumed.stderr).toBe(0);
    const done = await straightOnce();
    expect(done.status, done.stderr).toBe(0);
    expect(weights(stopped).equals(weights(straight))).toBe(true);
  });

  it('--resume over a checkpoint with a flipped weight byte: exit 2 in one line naming the file, folder unchanged', async () => {
    const done = await straightOnce();
    expect(done.status, done.stderr).toBe(0);
    const copy = join(dir, 'tampered');
    cpSync(straight, copy, { recursive: true });
    const file = join(copy, 'last', 'weights.safetensors');
    const bytes = readFileSync(file);
    bytes[bytes.length - 3]! ^= 1;
    writeFileSync(file, bytes);
    const before = hashTree(copy);
    const r = await train(['-c', config, '--out', copy, '--resume'], backend);
    expectUserError(r, 'r3d', new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: expected`));
    expect(hashTree(copy)).toEqual(before);
  });

  it('a diverging run (learning rate 1e30) stops with exit 3 and one line, and leaves no non-finite checkpoint', async () => {
    const run = join(dir, 'diverged');
    const r = await train(['-c', config, '--out', run, '--lr', '1e30'], backend);
    expect(r.status, r.stderr).toBe(3);
    const lines = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('r3d: '));
    expect(lines, r.stderr).toEqual([expect.stringMatching(/non-finite|NaN|Infinity/)]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a truncated feature file is refused before the backend computes anything: exit 2, one line naming it', () => {
    const root = futrLayout({ a: { split: 'train', labels: 10, features: matrixNpy([10, 8]).subarray(0, 100) }, c: { split: 'val', labels: 10 } });
    const d = tempDir(`trunc-${backend}`);
    const r = runPiped('r3d', ['train', '-c', r3dConfig(d, futrData(root), { backend }), '--out', join(d, 'run'), '--backend', backend], { env: { R3D_BACKEND: backend } });
    expectUserError(r, 'r3d', /features\/a\.npy @byte \d+: expected/);
  });

  it('a checkpoint written on this backend is evaluated on every other backend with the same table', async () => {
    const done = await straightOnce();
    expect(done.status, done.stderr).toBe(0);
    const tables = testBackends().map((other) => {
      const r = runPiped('r3d', ['eval', '--checkpoint', join(straight, 'best'), '--split', 'val', '--backend', other, '--json'], { env: { R3D_BACKEND: other } });
      expect(r.status, `${other}: ${r.stderr}`).toBe(0);
      const { backend: used, ...table } = JSON.parse(r.stdout) as { backend: string };
      expect(used).toBe(other);
      return table;
    });
    for (const t of tables.slice(1)) expect(t).toEqual(tables[0]);
  });
});
