import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtEntry } from '@r3d-ts/tooling/vitest/built-entry';

/** The app folder (cwd of the CLI in tests). */
export const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The built `r3d-data` (rebuilt first when the sources are newer): tests spawn it as users run it. */
export const cliPath = (): string => builtEntry(app);

const cliArgs = (args: readonly string[]): string[] => [cliPath(), ...args];

/** Runs the built `r3d-data` to completion. */
export function runData(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, cliArgs(args), { cwd: app, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env }, timeout: 300_000 });
}

/** Starts the built `r3d-data` without waiting. */
export function startData(args: readonly string[]) {
  return spawn(process.execPath, cliArgs(args), { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
}
