// Runs the built command-line tools as a user would (node apps/<app>/dist/cli.mjs) and checks
// what a user error must look like.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@r3d-ts/tooling/vitest/fixtures';
import { expect } from 'vitest';

export const root = repoRoot();
export const CLIS = {
  r3d: join(root, 'apps', 'train', 'dist', 'cli.mjs'),
  'r3d-ablation': join(root, 'apps', 'ablation', 'dist', 'cli.mjs'),
  'r3d-data': join(root, 'apps', 'data', 'dist', 'cli.mjs'),
} as const;
export type CliName = keyof typeof CLIS;

export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The environment of a run: no CI/NO_COLOR from the test runner unless asked, wasm by default. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, R3D_BACKEND: 'wasm' };
  delete env.CI;
  delete env.NO_COLOR;
  delete env.FORCE_COLOR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs a command through pipes (stdin closed) and returns its exit status and both streams. */
export function runPiped(cli: CliName, args: readonly string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Outcome {
  const started = performance.now();
  const r = spawnSync(process.execPath, [CLIS[cli], ...args], {
    cwd: options.cwd ?? root,
    env: cliEnv(options.env),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

/** The same through pipes, without blocking the test's event loop (for cases that run side by side). */
export function runPipedAsync(cli: CliName, args: readonly string[], options: { env?: Record<string, string | undefined> } = {}): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLIS[cli], ...args], { cwd: root, env: cliEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started })));
}

export const hasScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a command under a pseudo-terminal (util-linux `script -qec`): stderr (and stdin) are a
 * terminal, stdout goes to a file so the result stays separable. Returns what the terminal
 * showed (`tty`, stderr) and the file's content (`stdout`).
 */
export function runInTerminal(cli: CliName, args: readonly string[], stdoutFile: string, options: { env?: Record<string, string | undefined> } = {}): { status: number | null; tty: string; stdout: string } {
  rmSync(stdoutFile, { force: true });
  const command = [process.execPath, CLIS[cli], ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qec', `${command} > ${quote(stdoutFile)}`, '/dev/null'], {
    cwd: root,
    env: cliEnv({ TERM: 'xterm', ...options.env }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, tty: r.stdout, stdout: existsSync(stdoutFile) ? readFileSync(stdoutFile, 'utf8') : '' };
}

/**
 * A user error as the conventions say: exit code 2, exactly one line on stderr, starting with the
 * command's name, no stack trace, nothing on stdout.
 */
export function expectUserError(r: Outcome, cli: CliName, message?: RegExp): void {
  const context = `exit ${r.status}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout}`;
  expect(r.status, context).toBe(2);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(new RegExp(`^${cli}: \\S`));
  expect(r.stderr, context).not.toMatch(/\n\s+at |internal error/);
  expect(r.stdout, context).toBe('');
  if (message) expect(lines[0], context).toMatch(message);
}
