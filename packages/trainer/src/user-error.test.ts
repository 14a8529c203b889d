import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetFormatError } from '@r3d-ts/datasets';
import { WeightImportError } from '@r3d-ts/r3d-model';
import { SafetensorsFormatError, TensorFormatError } from '@r3d-ts/tensor-io';
import { describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, NonFiniteLossError } from './errors.js';
import { assertWritableFolder, OutputFolderError } from './output-folder.js';
import { exitCodeOf, packageVersion, progressAllowed, runCli } from './run-cli.js';
import { isUserError, UsageError, userErrorLine } from './user-error.js';

const fsError = (code: string, syscall: string, path?: string) =>
  Object.assign(new Error(`${code}: failed, ${syscall}${path ? ` '${path}'` : ''}`), { code, syscall, errno: -1, ...(path ? { path } : {}) });

describe('one error path for users (issue 14 class 8)', () => {
  it.each([
    ['usage', new UsageError("unknown option '--x'", 'r3d train')],
    ['config', new ConfigError('r3d.yaml', ['epochs: too small'])],
    ['checkpoint', new CheckpointError('runs/a/last/state.json', 'a JSON object')],
    ['data', new DatasetFormatError({ file: 'features/a.npy', expected: '(T, D)' })],
    ['tensor file', new SafetensorsFormatError('w.safetensors', 'a header')],
    ['tensor file base class', new TensorFormatError({ file: 'w.pt', expected: 'a zip' })],
    ['weights', new WeightImportError({ file: 'best.pt', expected: 'a state_dict' })],
    ['read-only output folder', fsError('EACCES', 'mkdir', '/ro/run')],
    ['file where a folder should be', fsError('ENOTDIR', 'mkdir', '/tmp/file/run')],
    ['existing path', fsError('EEXIST', 'mkdir', '/tmp/run')],
    ['disk full', fsError('ENOSPC', 'write')],
    ['marked by another package', Object.assign(new Error('out/ablation is locked by pid 12'), { userError: true })],
  ])('%s is a user error: exit code 2', (_name, err) => {
    expect(isUserError(err)).toBe(true);
    expect(exitCodeOf(err)).toBe(2);
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'dim')")],
    ['a RangeError', new RangeError('Invalid array length')],
    ['a code-less error', new Error('boom')],
    ['an ENOSPC without a system call (not from the file system)', Object.assign(new Error('x'), { code: 'ENOSPC' })],
    ['a string', 'oops'],
  ])('%s is a bug: exit code 1', (_name, err) => {
    expect(isUserError(err)).toBe(false);
    expect(exitCodeOf(err)).toBe(1);
  });

  it('a NaN loss exits 3', () => {
    expect(exitCodeOf(new NonFiniteLossError({ step: 3, epoch: 1, loss: Number.NaN }))).toBe(3);
  });

  it('folds a message that lists problems into one line', () => {
    const err = new ConfigError('r3d.yaml', ['data.count: Too small: expected number to be >0', 'lr: expected number']);
    expect(userErrorLine(err)).toBe('r3d.yaml: invalid training configuration: data.count: Too small: expected number to be >0; lr: expected number');
    expect(userErrorLine(new Error('flags: \n  partners[1]: bad\n  seeds[0]: bad'))).toBe('flags: partners[1]: bad; seeds[0]: bad');
    expect(userErrorLine(new UsageError("unknown option '--epoch'", 'r3d train'))).toBe("unknown option '--epoch' (see r3d train --help)");
  });

  it('runCli prints one line for a user error and the stack for a bug', async () => {
    const lines: string[] = [];
    const stderr = { write: (t: string) => lines.push(t) };
    const before = process.exitCode;
    try {
      expect(await runCli('r3d', () => Promise.reject(new ConfigError('c.yaml', ['a: x', 'b: y'])), stderr)).toBe(2);
      expect(lines).toEqual(['r3d: c.yaml: invalid training configuration: a: x; b: y\n']);
      lines.length = 0;
      expect(await runCli('r3d', () => { throw new TypeError('x is undefined'); }, stderr)).toBe(1);
      expect(lines.join('')).toMatch(/^r3d: internal error .*\nTypeError: x is undefined\n\s+at /);
      expect(await runCli('r3d', () => undefined, stderr)).toBe(0);
    } finally {
      process.exitCode = before;
    }
  });
});

describe('CLI conventions (issue 17 item 3)', () => {
  const tty = { isTTY: true };
  it.each([
    ['a terminal', {}, tty, undefined, true],
    ['a pipe', {}, { isTTY: false }, undefined, false],
    ['a stream that does not say (isTTY undefined)', {}, {}, undefined, false],
    ['--no-progress', {}, tty, false, false],
    ['CI=true', { CI: 'true' }, tty, undefined, false],
    ['CI=1', { CI: '1' }, tty, undefined, false],
    ['CI=false', { CI: 'false' }, tty, undefined, true],
    ['NO_COLOR=1', { NO_COLOR: '1' }, tty, undefined, false],
    ['NO_COLOR empty', { NO_COLOR: '' }, tty, undefined, true],
  ])('progress bars on %s: %s', (_name, env, stream, flag, expected) => {
    expect(progressAllowed({ env, stream, ...(flag === undefined ? {} : { flag }) })).toBe(expected);
  });

  it('reads the version of the package a module belongs to', () => {
    expect(packageVersion(import.meta.url)).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('output folders are checked before any work', () => {
  it('refuses a file, or a path under a file, and accepts a folder still to be made', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'r3d-out-check-'));
    try {
      const file = join(tmp, 'file');
      writeFileSync(file, 'x');
      expect(() => assertWritableFolder(file)).toThrow(/file: expected a folder to write into, found a file/);
      expect(() => assertWritableFolder(join(file, 'run', 'a'))).toThrow(OutputFolderError);
      expect(() => assertWritableFolder(join(file, 'run', 'a'))).toThrow(/expected a folder path, but .*file is a file/);
      expect(isUserError(new OutputFolderError(file, 'x'))).toBe(true);
      expect(() => assertWritableFolder(join(tmp, 'new', 'deep', 'run'))).not.toThrow();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
