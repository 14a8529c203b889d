import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { NonFiniteLossError, TrainingStoppedError } from './errors.js';
import { isUserError, UsageError, userErrorLine } from './user-error.js';

/** Ends a command quietly with `exitCode` (help or version shown, or help shown for a missing command). */
class CliExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
  }
}

/** What commander's errors carry; kept structural so this package does not depend on commander. */
interface CommanderErrorLike {
  exitCode: number;
  code: string;
  message: string;
}

/** The part of a commander `Command` that `userFacingCommands` configures. */
export interface CommandLike {
  name(): string;
  readonly parent: CommandLike | null;
  readonly commands: readonly CommandLike[];
  exitOverride(callback?: (err: CommanderErrorLike) => never | void): unknown;
  configureOutput(configuration: { outputError?: (str: string, write: (str: string) => void) => void }): unknown;
  showHelpAfterError(displayHelp?: boolean | string): unknown;
}

function commandPath(cmd: CommandLike): string {
  const names: string[] = [];
  for (let c: CommandLike | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Makes a commander program (and every subcommand) report a command line that does not parse the
 * way every user error is reported: it throws a `UsageError` (one line, with a hint to `--help`)
 * for `runCli` to print, instead of printing the message and the whole usage and exiting 1.
 * `--help` and `--version` still print to stdout and exit 0; a missing command prints the help
 * on stderr and exits 2. Call it after the subcommands are added.
 *
 * @example
 * const program = userFacingCommands(new Command('r3d').addCommand(train));
 * await runCli('r3d', () => program.parseAsync(process.argv));
 */
export function userFacingCommands<C extends CommandLike>(program: C): C {
  const visit = (cmd: CommandLike): void => {
    cmd.showHelpAfterError(false);
    cmd.configureOutput({ outputError: () => {} });
    cmd.exitOverride((err) => {
      if (err.exitCode === 0) throw new CliExit(0);
      if (err.code === 'commander.help') throw new CliExit(2); // the help is on stderr already
      throw new UsageError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '), commandPath(cmd));
    });
    cmd.commands.forEach(visit);
  };
  visit(program);
  return program;
}

/**
 * The exit code for an error that ended a command: 0 for a help or version exit, 2 for a user
 * error (see `isUserError`), 3 for a loss that became NaN or infinite, 128 + the signal's number
 * for a run stopped by SIGINT/SIGTERM (`TrainingStoppedError`: 130, 143), 1 for anything else (a bug).
 *
 * @example
 * exitCodeOf(new ConfigError('r3d.yaml', ['epochs: too small'])); // 2
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliExit) return err.exitCode;
  if (err instanceof NonFiniteLossError) return 3;
  if (err instanceof TrainingStoppedError) return err.exitCode;
  return isUserError(err) ? 2 : 1;
}

/**
 * Runs a command line's `main` and turns its outcome into the exit code, the one error path of
 * every r3d-ts command: success is 0; a user error (bad flag, configuration, data, weights,
 * checkpoint, a file-system error on a path the user chose) prints exactly one line
 * `<name>: <message>` on stderr and exits 2; a NaN/Inf loss prints one line and exits 3; a run
 * stopped by SIGINT/SIGTERM prints one line and exits 130/143; anything
 * else is a bug and prints its stack trace, exit 1. It sets `process.exitCode` (so pending output
 * is flushed) and returns the code.
 *
 * @example
 * await runCli('r3d', () => userFacingCommands(cli()).parseAsync(process.argv));
 */
export async function runCli(name: string, main: () => unknown, stderr: { write(text: string): unknown } = process.stderr): Promise<number> {
  let code = 0;
  try {
    await main();
  } catch (err) {
    code = exitCodeOf(err);
    if (code === 1) stderr.write(`${name}: internal error (a bug, please report it with this trace):\n${inspect(err)}\n`);
    else if (!(err instanceof CliExit)) stderr.write(`${name}: ${userErrorLine(err)}\n`);
  }
  process.exitCode = code;
  return code;
}

/**
 * Whether a command may draw progress bars: only when `stream` (default stderr) is a terminal,
 * never when the user turned them off (`flag === false`, e.g. `--no-progress`), under
 * `CI=true` (any CI value but `false`/`0`) or with `NO_COLOR` set (https://no-color.org). Log
 * lines take their place.
 *
 * @example
 * const bars = progressAllowed({ flag: flags.progress }) ? new MultiBar({ stream: process.stderr }) : null;
 */
export function progressAllowed(options: { flag?: boolean; stream?: { isTTY?: boolean }; env?: Record<string, string | undefined> } = {}): boolean {
  const env = options.env ?? process.env;
  if (options.flag === false) return false;
  if ((options.stream ?? process.stderr).isTTY !== true) return false;
  const ci = env.CI;
  if (ci != null && ci !== '' && ci !== 'false' && ci !== '0') return false;
  if (env.NO_COLOR != null && env.NO_COLOR !== '') return false;
  return true;
}

/**
 * The version of the package a module belongs to: the `version` of the nearest `package.json`
 * above the module, for a command's `--version` (the same file in a clone and when installed).
 *
 * @example
 * program.version(packageVersion(import.meta.url));
 */
export function packageVersion(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version ?? '0.0.0');
    const up = dirname(dir);
    if (up === dir) return '0.0.0';
    dir = up;
  }
}
