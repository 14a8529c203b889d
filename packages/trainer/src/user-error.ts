/**
 * Codes of the typed errors that mean "what you gave is wrong", not "the program is wrong": a flag,
 * a configuration, a data or weight file, a checkpoint, a backend that is not installed. Every
 * package of r3d-ts gives its errors a `code`; the ones listed here are user errors. An error
 * class of another package (or a new one) joins by carrying `userError = true` instead.
 */
export const USER_ERROR_CODES: ReadonlySet<string> = new Set([
  'USAGE',
  'CONFIG_INVALID',
  'CHECKPOINT_INVALID',
  'RUN_FOLDER',
  'DATASET_FORMAT',
  'TENSOR_FORMAT',
  'NPY_FORMAT',
  'SAFETENSORS_FORMAT',
  'TORCH_FORMAT',
  'R3D_WEIGHT_IMPORT',
  'R3D_MODEL_CONFIG',
  'ABLATION_CONFIG',
  'ABLATION_RESULT',
  'OUTPUT_FOLDER',
  'BACKEND_UNAVAILABLE',
  'NATIVE_BLAS_UNAVAILABLE',
]);

/**
 * File-system failures that come from the paths the user chose (a read-only or full disk, a file
 * where a folder should be, a missing input): they say what to fix, so they are user errors.
 */
const FILE_SYSTEM_CODES: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'ENOENT',
  'ENOTDIR',
  'EISDIR',
  'EEXIST',
  'ENOTEMPTY',
  'ENOSPC',
  'EDQUOT',
  'EROFS',
  'EFBIG',
  'ENAMETOOLONG',
  'ELOOP',
]);

/**
 * A command line that does not parse: an unknown flag, a missing or bad flag value, an unknown
 * command. The message ends with a hint to the command's `--help` instead of printing the whole
 * usage.
 *
 * @example
 * throw new UsageError("unknown option '--epoch'", 'r3d train'); // "unknown option '--epoch' (see r3d train --help)"
 */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly command: string;

  constructor(message: string, command: string) {
    super(`${message} (see ${command} --help)`);
    this.name = 'UsageError';
    this.command = command;
  }
}

function isFileSystemError(err: object): boolean {
  const e = err as { code?: unknown; syscall?: unknown; errno?: unknown };
  return typeof e.code === 'string' && FILE_SYSTEM_CODES.has(e.code) && typeof e.syscall === 'string';
}

/**
 * Whether an error is the user's to fix (exit code 2, one line) rather than a bug (exit code 1,
 * stack trace): an error whose `code` is in `USER_ERROR_CODES`, one that carries
 * `userError === true`, or a file-system error (EACCES, ENOSPC, ENOTDIR ...) from a system call.
 *
 * @example
 * isUserError(new DatasetFormatError({ file: 'a.npy', expected: '(T, D)' })); // true
 * isUserError(new TypeError('x is undefined'));                                 // false
 */
export function isUserError(err: unknown): boolean {
  if (err == null || typeof err !== 'object') return false;
  const e = err as { userError?: unknown; code?: unknown };
  if (e.userError === true) return true;
  if (typeof e.code === 'string' && USER_ERROR_CODES.has(e.code)) return true;
  return isFileSystemError(err);
}

/**
 * An error's message as one line: a message listing problems on indented `- ` lines (a
 * `ConfigError`, an ablation configuration) becomes `head: first; second`, any other line break a
 * `; `. A user error is printed as exactly one line, so scripts and logs can quote it.
 *
 * @example
 * userErrorLine(new Error('r3d.yaml: invalid training configuration:\n  - epochs: too small\n  - lr: expected number'));
 * // 'r3d.yaml: invalid training configuration: epochs: too small; lr: expected number'
 */
export function userErrorLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message
    .split(/\r?\n/)
    .map((l) => l.trim().replace(/^- /, ''))
    .filter((l) => l !== '');
  if (lines.length <= 1) return lines[0] ?? (err instanceof Error ? err.name : 'error');
  const [head, ...rest] = lines as [string, ...string[]];
  return `${head}${head.endsWith(':') ? ' ' : '; '}${rest.join('; ')}`;
}
