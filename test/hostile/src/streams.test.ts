// CLI conventions (issue 17 item 3): --version, results on stdout and logs on stderr, progress
// bars only on a terminal (never under CI=true, NO_COLOR or --no-progress), exit codes, no tfjs
// banner, every backend in --help; each command through a pipe and through a pseudo-terminal.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliName, hasScript, runInTerminal, runPiped } from './commands.js';
import { ablationConfig, r3dConfig, removeTempDirs, tempDir, TINY_SYNTHETIC } from './inputs.js';

afterAll(removeTempDirs);

const BANNER = /Hi, looks like you are running TensorFlow\.js in Node\.js/;
/** What a drawn progress bar leaves in a stream: carriage returns or cursor escapes. */
const DRAWING = /\r|\x1b\[/;
const R3D_BAR = /\d+\/\d+ steps \| loss/;
const ABLATION_BAR = / grid +\[/;
const dir = tempDir('streams');

describe.each(['r3d', 'r3d-ablation'] as const)('%s: --version and --help', (cli: CliName) => {
  it('--version prints the version on stdout and exits 0, through a pipe and on a terminal', () => {
    const r = runPiped(cli, ['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?\n$/);
    expect(r.stderr).toBe('');
    if (hasScript) {
      const t = runInTerminal(cli, ['--version'], join(dir, `${cli}-version.txt`));
      expect(t.status).toBe(0);
      expect(t.stdout).toBe(r.stdout);
      expect(t.tty).toBe('');
    }
  });

  it('--help of every command that takes --backend lists every backend, on stdout', () => {
    for (const command of cli === 'r3d' ? ['train', 'eval'] : ['run']) {
      const r = runPiped(cli, [command, '--help']);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      for (const backend of ['auto', 'tensorflow', 'tensorflow-cpu', 'tensorflow-gpu', 'native-blas', 'wasm', 'cpu']) expect(r.stdout).toMatch(new RegExp(`\\b${backend}\\b`));
    }
  });
});

describe('r3d train', () => {
  const config = r3dConfig(dir, TINY_SYNTHETIC);
  let n = 0;
  const out = () => join(dir, `run-${++n}`);

  it('through a pipe: the result alone on stdout, logs on stderr, no bar, no banner, no "undefined"', () => {
    const r = runPiped('r3d', ['train', '-c', config, '--out', out()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^best val MoC \d+\.\d+% at epoch 1; checkpoints in \S+\n$/);
    expect(r.stderr).toMatch(/^backend wasm \(option\)\nsynthetic data: /);
    expect(r.stderr).toMatch(/^epoch 1\/1 \| loss /m);
    expect(r.stderr).not.toMatch(R3D_BAR);
    expect(r.stderr).not.toMatch(DRAWING);
    expect(r.stderr).not.toMatch(BANNER);
    expect(r.stderr + r.stdout).not.toMatch(/undefined/);
  });

  it('--json: one JSON line on stdout', () => {
    const r = runPiped('r3d', ['train', '-c', config, '--out', out(), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'train', epochs: 1, backend: 'wasm', best: { epoch: 1 } });
  });

  it.skipIf(!hasScript)('on a terminal: a progress bar on stderr, the result still alone on stdout', () => {
    const t = runInTerminal('r3d', ['train', '-c', config, '--out', out()], join(dir, 'r3d-tty.txt'));
    expect(t.status, t.tty).toBe(0);
    expect(t.tty).toMatch(R3D_BAR);
    expect(t.stdout).toMatch(/^best val MoC .*\n$/);
    expect(t.tty).not.toMatch(BANNER);
  });

  it.skipIf(!hasScript).each([
    ['CI=true', { CI: 'true' }, []],
    ['NO_COLOR=1', { NO_COLOR: '1' }, []],
    ['--no-progress', {}, ['--no-progress']],
  ] as const)('on a terminal with %s: no progress bar', (_name, env, flags) => {
    const t = runInTerminal('r3d', ['train', '-c', config, '--out', out(), ...flags], join(dir, 'r3d-tty-off.txt'), { env });
    expect(t.status, t.tty).toBe(0);
    expect(t.tty).toMatch(/epoch 1\/1 \| loss/);
    expect(t.tty).not.toMatch(R3D_BAR);
    expect(t.stdout).toMatch(/^best val MoC .*\n$/);
  });

  it('no "install our node backend" banner on the cpu backend, whose first tensor used to print it', () => {
    const r = runPiped('r3d', ['train', '-c', config, '--out', out(), '--backend', 'cpu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(BANNER);
    expect(r.stderr).toMatch(/^backend cpu \(option\)/);
  });
});

describe('r3d eval', () => {
  it('the table on stdout, the backend and data description on stderr', () => {
    const run = join(dir, 'eval-run');
    expect(runPiped('r3d', ['train', '-c', r3dConfig(dir, { ...TINY_SYNTHETIC, count: 8 }), '--out', run]).status).toBe(0);
    const r = runPiped('r3d', ['eval', '--checkpoint', join(run, 'best'), '--backend', 'wasm']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^MoC \(%\) on test, \d+ samples, released protocol:\nobs \\ pred/);
    expect(r.stdout).not.toMatch(/backend|data:/);
    expect(r.stderr).toMatch(/^backend wasm \(option\); synthetic data: /);
    const j = runPiped('r3d', ['eval', '--checkpoint', join(run, 'best'), '--backend', 'wasm', '--json']);
    expect(JSON.parse(j.stdout)).toMatchObject({ event: 'eval', split: 'test' });
  });
});

describe('r3d-ablation run', () => {
  const config = ablationConfig(dir);
  let n = 0;
  const out = () => join(dir, `grid-${++n}`);

  it('through a pipe: the report path alone on stdout, logs on stderr, no bar', () => {
    const o = out();
    const r = runPiped('r3d-ablation', ['--config', config, '--out', o]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`report: ${o}/index.html (1 of 1 cells)\n`);
    expect(r.stderr).toMatch(/^backend: backend wasm/m);
    expect(r.stderr).toMatch(/^cell depth\.mean\.s1: MoC/m);
    expect(r.stderr).not.toMatch(DRAWING);
    expect(r.stderr).not.toMatch(BANNER);
  });

  it('--json: one JSON line on stdout (and merge --json too)', () => {
    const o = out();
    const r = runPiped('r3d-ablation', ['--config', config, '--out', o, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ event: 'ablation', kind: 'grid', out: o, report: `${o}/index.html`, done: 1, cells: 1, missing: [] });
    const m = runPiped('r3d-ablation', ['merge', join(dir, 'merged'), o, '--json']);
    expect(m.status, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout)).toMatchObject({ event: 'merge', done: 1, cells: 1 });
  });

  it.skipIf(!hasScript)('on a terminal: progress bars on stderr; with --no-progress or CI=true log lines instead', () => {
    const o = out();
    const t = runInTerminal('r3d-ablation', ['--config', config, '--out', o], join(dir, 'ablation-tty.txt'));
    expect(t.status, t.tty).toBe(0);
    expect(t.tty).toMatch(ABLATION_BAR);
    expect(t.stdout).toBe(`report: ${o}/index.html (1 of 1 cells)\n`);
    const off = runInTerminal('r3d-ablation', ['--config', config, '--out', out(), '--no-progress'], join(dir, 'ablation-tty-off.txt'), { env: { CI: 'true' } });
    expect(off.status, off.tty).toBe(0);
    expect(off.tty).not.toMatch(ABLATION_BAR);
    expect(off.tty).toMatch(/cell depth\.mean\.s1: MoC/);
  });
});
