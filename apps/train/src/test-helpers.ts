// The `r3d train` command as the CLI tests run it: the source through tsx, in a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const app = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Starts `r3d train -c <configPath> --no-progress <args>`; stdout and stderr are pipes. */
export function spawnTrain(configPath: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(app, 'src', 'cli.ts'), 'train', '-c', configPath, '--no-progress', ...args], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Waits for a child to end: its exit code (or the signal that ended it) and what it wrote on stderr. */
export function finish(child: ChildProcess): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}
