import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The app folder (cwd of the CLI in tests). */
export const app = join(dirname(fileURLToPath(import.meta.url)), '..');

const cliArgs = (args: readonly string[]): string[] => ['--import', 'tsx', join(app, 'src', 'cli.ts'), ...args];

/** Runs `r3d-data` from source (tsx) to completion. */
export function runData(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, cliArgs(args), { cwd: app, encoding: 'utf8', env: { ...process.env, CI: 'true', ...env }, timeout: 300_000 });
}

/** Starts `r3d-data` from source (tsx) without waiting. */
export function startData(args: readonly string[]) {
  return spawn(process.execPath, cliArgs(args), { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true' } });
}
