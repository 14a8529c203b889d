// The README opens with an example that must work as written: its first ```ts block is run in a
// fresh Node process against the built package (`pnpm build` first; CI builds before it tests),
// in a temporary working folder where it saves and loads ./my-r3d.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'r3d-readme-'));
  // inside the package (an ignored folder), so `@r3d-ts/r3d-model` resolves to this package's dist
  const script = join(pkg, '.tmp', `readme-example-${process.pid}.mjs`);
  afterAll(() => {
    rmSync(cwd, { recursive: true, force: true });
    rmSync(script, { force: true });
  });

  it('its first ts example runs as written: save to file://./my-r3d, load (the fuser a Layer), predict', () => {
    const readme = readFileSync(join(pkg, 'README.md'), 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toContain('await load(');
    expect(block).toContain('.predict(');
    expect(existsSync(join(pkg, 'dist', 'node.mjs')), 'the package is built (pnpm build)').toBe(true);
    mkdirSync(dirname(script), { recursive: true });
    writeFileSync(script, transformSync(block!, { loader: 'ts', format: 'esm', target: 'node20' }).code);
    const run = spawnSync(process.execPath, [script], { cwd, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr.split('\n').filter((l) => /Error|at /.test(l))).toEqual([]);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('r3d>RTFuser');
    expect(lines.at(-1)).toBe('45');
    // console.log(future.actions, future.durations): two arrays of numbers (Node may wrap the second)
    expect(lines.slice(1, -1).join(' ')).toMatch(/^\[[\d,\s]*\] \[[\d.,e\s-]*\]$/);
    expect(readdirSync(join(cwd, 'my-r3d')).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
  });
});
