// The `r3d train` command as the CLI tests run it: the built CLI (rebuilt when its sources are newer), in a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtEntry } from '@r3d-ts/tooling/vitest/built-entry';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The built `r3d` (rebuilt first when the sources are newer). */
export const cliPath = (): string => builtEntry(app);

/** Starts `r3d train -c <configPath> --no-progress <args>`; stdout and stderr are pipes. */
export function spawnTrain(configPath: string, args: string[]): ChildProcess {
  return spawn(process.execPath, [cliPath(), 'train', '-c', configPath, '--no-progress', ...args], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a child to end: its exit code (or the signal that ended it) and what it wrote on stderr. */
export function finish(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}
