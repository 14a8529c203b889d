// `--help`, `--version` and a user error answer before TensorFlow.js loads: each command parses
// its flags and reads its configuration with light modules (@r3d-ts/trainer/cli, commander, zod)
// and imports the backends, models and datasets only for a command that passed its checks.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIS, cliEnv, root, type CliName } from './commands.js';
import { removeTempDirs, tempDir } from './inputs.js';

const tmp = tempDir('startup');
afterAll(removeTempDirs);

// A module-resolution hook (node:module register) that appends every URL a process resolves to a file.
const hooks = join(tmp, 'trace-hooks.mjs');
writeFileSync(hooks, [
  "import { appendFileSync } from 'node:fs';",
  'export async function resolve(specifier, context, next) {',
  '  const resolved = await next(specifier, context);',
  '  appendFileSync(process.env.R3D_TRACE_FILE, `${resolved.url}\\n`);',
  '  return resolved;',
  '}',
].join('\n'));
const register = join(tmp, 'trace-register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

/** The URLs a run of `node --import register <args>` resolved, and its exit status. */
function traced(args: string[]): { status: number | null; urls: string[] } {
  const trace = join(tmp, 'trace.txt');
  rmSync(trace, { force: true });
  writeFileSync(trace, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, ...args], { cwd: root, env: cliEnv({ R3D_TRACE_FILE: trace }), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, urls: readFileSync(trace, 'utf8').split('\n').filter(Boolean) };
}

const HEAVY = /\/@tensorflow\/|\/(r3d-model|backend|rtf-fuser|native-blas)\/dist\//;

describe('the commands start light', () => {
  it('the trace sees TensorFlow.js where it loads (the check can fail)', () => {
    const script = join(tmp, 'loads-tf.mjs');
    writeFileSync(script, `await import(${JSON.stringify(pathToFileURL(join(root, 'packages', 'trainer', 'dist', 'index.mjs')).href)});\n`);
    const { status, urls } = traced([script]);
    expect(status).toBe(0);
    expect(urls.filter((u) => HEAVY.test(u)).length).toBeGreaterThan(0);
  });

  it.each([
    ['r3d', ['--help'], 0],
    ['r3d', ['--version'], 0],
    ['r3d', ['train', '--help'], 0],
    ['r3d', ['train', '--epoch', '3'], 2],
    ['r3d', ['train', '--out', '/nonexistent-r3d-root/x', '--set', 'epochs=0'], 2],
    ['r3d', ['eval', '--checkpoint', '/nonexistent-r3d-checkpoint', '--protocol', 'fast'], 2],
    ['r3d-ablation', ['--help'], 0],
    ['r3d-ablation', ['run', '--bogus'], 2],
    ['r3d-ablation', ['run', '--seeds', '1,x'], 2],
    ['r3d-data', ['--help'], 0],
    ['r3d-data', ['import', '--videos', 'v', '--labels', 'l', '--out', 'o', '--rgb-normalise', 'bogus'], 2],
  ] as Array<[CliName, string[], number]>)('%s %j loads no TensorFlow.js, backend or model', (cli, args, code) => {
    const { status, urls } = traced([CLIS[cli], ...args]);
    expect(status).toBe(code);
    expect(urls.some((u) => u.includes('/commander/'))).toBe(true);
    expect(urls.filter((u) => HEAVY.test(u))).toEqual([]);
  });
});
